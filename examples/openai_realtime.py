"""Talk to an OpenAI realtime model: microphone -> model -> speaker, with a tool.

    export OPENAI_API_KEY=sk-...
    pip install 'voxtrio[audio]'            # sounddevice; needs PortAudio (libportaudio2)
    .venv/bin/python examples/openai_realtime.py [--model gpt-realtime] [--voice marin]

The session uses the model's server VAD: speak, pause, and the model answers; speak over
it and it stops at once, and its item is cut where you stopped hearing it. Ask about the
weather to see a tool call. Ctrl-C ends the conversation and prints the token usage.

Without a key, or without the audio extra / PortAudio, it says what is missing and exits
with status 2. (Use headphones: with speakers the model may hear itself.)
"""

from __future__ import annotations

import argparse
import os
import sys

import trio

from voxtrio.audio.devices import AudioDeviceError, load_sounddevice
from voxtrio.audio.sinks import DeviceSink
from voxtrio.audio.sources import DeviceSource
from voxtrio.engines.openai.realtime import InputTranscription, RealtimeModel
from voxtrio.engines.tools import function_tool
from voxtrio.session.agent import Agent
from voxtrio.session.session import AgentSession


class WeatherAgent(Agent):
    def __init__(self) -> None:
        super().__init__("You are a friendly voice assistant. Keep answers short.")

    @function_tool
    async def get_weather(self, city: str) -> str:
        """Current weather in a city.

        Args:
            city: The city to look up.
        """
        return f"It is sunny and 21 degrees in {city}."


def missing() -> list[str]:
    """What this example needs and does not have."""
    problems = []
    if not os.environ.get("OPENAI_API_KEY"):
        problems.append(
            "OPENAI_API_KEY is not set: export OPENAI_API_KEY=sk-... to talk to the OpenAI "
            "realtime API"
        )
    try:
        load_sounddevice()
    except AudioDeviceError as exc:  # says what to install
        problems.append(f"no audio input/output: {exc}")
    return problems


def audio_error(error: BaseException) -> AudioDeviceError | None:
    """The audio device problem inside `error` (trio may wrap it in groups), if any."""
    if isinstance(error, AudioDeviceError):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            found = audio_error(inner)
            if found is not None:
                return found
    return None


async def converse(model_name: str, voice: str) -> None:
    model = RealtimeModel(
        model=model_name,
        voice=voice,
        input_transcription=InputTranscription(model="gpt-4o-mini-transcribe"),
    )
    session = AgentSession(model=model)
    session.on(
        "conversation_item_added",
        lambda ev: print(f"{ev.item.role:>9}: {ev.item.text_content}"
                         + (" [interrupted]" if ev.item.interrupted else "")),
    )
    session.on("function_tools_executed", lambda ev: print(f"     tool: {ev.zipped()[0][1].output}"))
    session.on("agent_state_changed", lambda ev: print(f"    agent: {ev.new_state}"))
    session.on("error", lambda ev: print(f"    error: {ev.error} ({ev.source})", file=sys.stderr))
    closed = trio.Event()
    session.on("close", lambda ev: closed.set())
    mic = DeviceSource(sample_rate=24_000)
    speaker = DeviceSink(sample_rate=24_000)
    print("Listening. Speak; Ctrl-C to stop.")
    try:
        async with session.start(audio_in=mic, audio_out=speaker, agent=WeatherAgent()):
            await closed.wait()
    finally:
        print(f"usage: {session.usage}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="gpt-realtime")
    parser.add_argument("--voice", default="marin")
    args = parser.parse_args()
    problems = missing()
    for problem in problems:
        print(f"openai_realtime.py: {problem}", file=sys.stderr)
    if problems:
        raise SystemExit(2)
    try:
        trio.run(converse, args.model, args.voice)
    except KeyboardInterrupt:
        pass
    except BaseException as exc:  # an audio device that will not open: say which
        device_error = audio_error(exc)
        if device_error is None:
            raise
        print(f"openai_realtime.py: audio device problem: {device_error}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
