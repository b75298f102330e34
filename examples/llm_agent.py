"""A voice agent whose brain is an OpenAI-compatible LLM, with a tool.

    .venv/bin/python examples/llm_agent.py --llm http://127.0.0.1:11434/v1 --model llama3.2 [INPUT.wav]
    .venv/bin/python examples/llm_agent.py --demo-server        # a scripted local server, offline

Works with any server that speaks the chat-completions API (Ollama, vLLM, llama.cpp's
server, OpenAI with OPENAI_API_KEY). `--demo-server` starts voxtrio's scripted test server
on 127.0.0.1 instead, which answers with a tool call and then a sentence, so the example
runs without any model.
"""

import argparse
import json

import trio

from voxtrio import Agent, AgentSession, function_tool
from voxtrio.audio.sinks import MemorySink
from voxtrio.audio.sources import WavFileSource
from voxtrio.engines.espeak import EspeakTTS
from voxtrio.engines.openai_compat import OpenAICompatibleLLM
from voxtrio.engines.pocketsphinx import PocketSphinxSTT
from voxtrio.engines.silero import SileroVAD
from voxtrio.testing.chat_server import (
    ScriptedReply,
    serve_chat_completions,
    text_chunks,
    tool_call_chunks,
)


class WeatherAgent(Agent):
    def __init__(self) -> None:
        super().__init__("You are a voice assistant. Use get_weather for weather questions. Be brief.")

    @function_tool
    async def get_weather(self, city: str) -> str:
        """Current weather in a city.

        Args:
            city: The city to look up.
        """
        return f"It is sunny and 21 degrees in {city}."


async def converse(base_url: str, model: str, wav: str) -> None:
    llm = OpenAICompatibleLLM(base_url, model=model)
    stt, tts = PocketSphinxSTT(), EspeakTTS()
    await stt.prewarm()
    await tts.prewarm()
    session = AgentSession(vad=SileroVAD(), stt=stt, llm=llm, tts=tts)
    session.on("conversation_item_added", lambda ev: print(f"{ev.item.role:>9}: {ev.item.text_content}"))
    session.on("function_tools_executed", lambda ev: print(f"     tool: {[(c.name, o.output) for c, o in ev.zipped()]}"))
    try:
        async with session.start(audio_in=WavFileSource(wav), audio_out=MemorySink(tts.sample_rate), agent=WeatherAgent()):
            await session.wait_for_input_end()
    finally:
        await llm.aclose()
        await stt.aclose()
        await tts.aclose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wav", nargs="?", default="examples/audio/question.wav")
    parser.add_argument("--llm", help="OpenAI-compatible base URL")
    parser.add_argument("--model", default="llama3.2")
    parser.add_argument("--demo-server", action="store_true", help="use a scripted local server")
    args = parser.parse_args()
    if args.demo_server or not args.llm:
        script = [
            ScriptedReply(chunks=tool_call_chunks("get_weather", json.dumps({"city": "Paris"}))),
            ScriptedReply(chunks=text_chunks("It is sunny and twenty one degrees in Paris.")),
        ]
        async with serve_chat_completions(script) as server:
            await converse(server.base_url, "scripted", args.wav)
    else:
        await converse(args.llm, args.model, args.wav)


if __name__ == "__main__":
    trio.run(main)
