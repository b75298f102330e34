"""An echo agent on the embedded offline engines: it repeats what it heard.

    .venv/bin/python examples/echo_agent.py [examples/audio/question.wav]

Real speech in, real speech out: silero VAD, pocketsphinx STT and espeak-ng TTS (the last
two in worker processes), with a three-line Python function as the brain. Runs in real
time and prints the conversation.
"""

import sys

import trio

from voxtrio import Agent, AgentSession, FunctionLLM
from voxtrio.audio.sinks import MemorySink
from voxtrio.audio.sources import WavFileSource
from voxtrio.engines.espeak import EspeakTTS
from voxtrio.engines.pocketsphinx import PocketSphinxSTT
from voxtrio.engines.silero import SileroVAD


def echo(chat_ctx):
    heard = chat_ctx.messages()[-1].text_content
    return f"I heard: {heard}."


async def main(path: str) -> None:
    stt, tts = PocketSphinxSTT(), EspeakTTS()
    await stt.prewarm()
    await tts.prewarm()
    session = AgentSession(vad=SileroVAD(), stt=stt, llm=FunctionLLM(echo), tts=tts)
    session.on("conversation_item_added", lambda ev: print(f"{ev.item.role:>9}: {ev.item.text_content}"))
    try:
        async with session.start(audio_in=WavFileSource(path), audio_out=MemorySink(tts.sample_rate), agent=Agent()):
            await session.wait_for_input_end()
    finally:
        await stt.aclose()
        await tts.aclose()
    turn = next((m for m in session.history.messages() if m.role == "assistant"), None)
    if turn is not None and "e2e_latency" in turn.metrics:
        print(f"voice-to-voice latency: {turn.metrics['e2e_latency'] * 1000:.0f} ms")


if __name__ == "__main__":
    trio.run(main, sys.argv[1] if len(sys.argv) > 1 else "examples/audio/question.wav")
