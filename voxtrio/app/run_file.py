"""`voxtrio run INPUT.wav`: a conversation with a WAV file as the user.

    report = await run_file(RunOptions(input=Path("question.wav"), out=Path("reply.wav")))

The file's audio is fed in real time (a `WavFileSource` paced on trio's clock) through an
`AgentSession` on the embedded engines — silero VAD, pocketsphinx STT (worker process),
espeak-ng TTS (worker process) — with the demo brain, or an OpenAI-compatible model
(`llm_url`). Events are printed as they happen; at the end, a per-turn latency table.

Outputs (all optional):
- `out`: the agent's audio as a WAV whose timeline matches the input's (silence where
  the agent did not speak), at the TTS's sample rate;
- `transcript`: one JSON line per conversation item (`role`, `text`, `interrupted`,
  `turn_id`, `speech_id`, `start`/`end` in seconds from the input's start);
- `metrics`: every metrics record, the per-turn latency breakdown and the usage totals.

The file plays in real time; with `fast=True` (`voxtrio run --fast`) idle time is
skipped: the run must then be on a `FastForwardClock`
(`trio.run(..., clock=FastForwardClock())`), which jumps over every wait (the next
20 ms frame, the endpointing delay, the playout) but lets the engines' real work
(worker processes, threads, HTTP) take its real time. The conversation, the output
audio's timeline and the latency table are those of a real-time run; only the wall
time shrinks (to the engines' compute, a few times faster than real time).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import attrs
import numpy as np
import trio

from voxtrio.app.brain import demo_brain
from voxtrio.app.report import TurnLatency, latency_table, turn_latencies
from voxtrio.audio.sinks import MemorySink
from voxtrio.audio.sources import WavFileSource
from voxtrio.audio.wav import WavWriter
from voxtrio.core.clock import wall_time
from voxtrio.core.fast_clock import FastForwardClock
from voxtrio.engines.function_llm import FunctionLLM
from voxtrio.engines.llm import LLM
from voxtrio.engines.vad import VADOptions
from voxtrio.session.agent import Agent
from voxtrio.session.events import (
    AgentStateChangedEvent,
    ConversationItemAddedEvent,
    ErrorEvent,
    MetricsCollectedEvent,
    UserInputTranscribedEvent,
)
from voxtrio.session.session import AgentSession

__all__ = ["RunOptions", "RunReport", "run_file"]

logger = logging.getLogger("voxtrio.app")

# 0.4 s of silence ends an utterance: shorter than the 0.5 s endpointing delay, so the
# final transcript (the STT is flushed at the VAD's end of speech) is in before the
# turn ends; LiveKit's silero default (0.55 s) would add 50 ms to every turn.
EMBEDDED_VAD_OPTIONS = VADOptions(min_silence_duration=0.4)

DEFAULT_INSTRUCTIONS = "You are a friendly voice assistant. Answer in one or two short sentences."


@attrs.frozen(kw_only=True)
class RunOptions:
    input: Path
    out: Path | None = None
    transcript: Path | None = None
    metrics: Path | None = None
    llm_url: str | None = None
    model: str | None = None
    instructions: str = DEFAULT_INSTRUCTIONS
    realtime_model: bool = False
    fast: bool = False
    progress_every: float = 10.0


@attrs.frozen
class RunReport:
    items: list[dict[str, Any]]
    turns: list[TurnLatency]
    metrics: list[dict[str, Any]]
    usage: dict[str, Any]
    input_duration: float


def build_llm(options: RunOptions) -> LLM:
    """The demo brain, or an OpenAI-compatible model when `llm_url` is given."""
    if options.llm_url is None:
        return FunctionLLM(demo_brain)
    from voxtrio.engines.openai_compat import OpenAICompatibleLLM

    if not options.model:
        raise ValueError("--llm needs --model NAME (the model the server should run)")
    return OpenAICompatibleLLM(options.llm_url, model=options.model, api_key=os.environ.get("OPENAI_API_KEY"))


async def run_file(options: RunOptions, *, out: TextIO = sys.stdout) -> RunReport:
    """Hold the conversation; print it; write the requested files; return the report."""
    if not options.input.exists():
        raise FileNotFoundError(f"no such input file: {options.input}")
    clock = trio.lowlevel.current_clock()
    if options.fast and not isinstance(clock, FastForwardClock):
        raise ValueError(
            "fast=True skips idle time and needs the run on a FastForwardClock: "
            "trio.run(..., clock=voxtrio.core.fast_clock.FastForwardClock())"
        )
    if options.fast and options.realtime_model:
        raise ValueError("fast=True cannot be used with the realtime model (it paces itself)")
    started = time.perf_counter()  # wall-clock ok: reports how long the run really took
    from voxtrio.engines.espeak import EspeakTTS
    from voxtrio.engines.pocketsphinx import PocketSphinxSTT
    from voxtrio.engines.silero import SileroVAD

    source = WavFileSource(options.input, realtime=True)
    closers: list[Any] = []
    if options.realtime_model:
        session, sink, label = _realtime_session(options)
    else:
        llm = build_llm(options)
        stt = PocketSphinxSTT()
        tts = EspeakTTS()
        closers = [stt, tts, llm]
        # Start the worker processes now: the first reply must not wait for them.
        await stt.prewarm()
        await tts.prewarm()
        sink = MemorySink(tts.sample_rate)
        session = AgentSession(vad=SileroVAD(options=EMBEDDED_VAD_OPTIONS), stt=stt, llm=llm, tts=tts)
        label = f"silero VAD, pocketsphinx STT, espeak-ng TTS, brain: {llm.label}"
    metrics: list[dict[str, Any]] = []
    printer = _Printer(out)
    session.on("user_input_transcribed", printer.transcribed)
    session.on("conversation_item_added", printer.item_added)
    session.on("agent_state_changed", printer.agent_state)
    session.on("error", printer.error)
    session.on("metrics_collected", lambda ev: metrics.append(_metrics_record(ev)))
    input_duration = _wav_duration(options.input)
    print(f"voxtrio run: {options.input} ({input_duration:.1f} s); {label}", file=out)
    try:
        async with session.start(audio_in=source, audio_out=sink, agent=Agent(options.instructions)):
            t0 = trio.current_time()
            printer.t0 = t0
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_progress, out, t0, input_duration, options.progress_every)
                await session.wait_for_input_end()
                nursery.cancel_scope.cancel()
    finally:
        for engine in closers:
            await engine.aclose()
    items = [_item_record(item, t0) for item in session.history.messages()]
    turns = turn_latencies(session.history.messages())
    usage = attrs.asdict(session.usage)
    print("", file=out)
    print(latency_table(turns), file=out)
    print(f"usage: {usage}", file=out)
    if options.fast:
        took = time.perf_counter() - started  # wall-clock ok
        lasted = trio.current_time() - t0  # the conversation, to the end of the last reply
        print(
            f"fast: a {lasted:.1f} s conversation ({input_duration:.1f} s of input) in "
            f"{took:.1f} s ({lasted / took:.1f}x real time, engine start-up included)",
            file=out,
        )
    if options.out is not None:
        _write_aligned_audio(options.out, sink, t0)
    if options.transcript is not None:
        with options.transcript.open("w") as f:
            for record in items:
                f.write(json.dumps(record) + "\n")
    if options.metrics is not None:
        options.metrics.write_text(
            json.dumps(
                {"turns": [attrs.asdict(t) for t in turns], "metrics": metrics, "usage": usage},
                indent=2,
            )
        )
    return RunReport(items=items, turns=turns, metrics=metrics, usage=usage, input_duration=input_duration)


def _realtime_session(options: RunOptions) -> tuple[AgentSession, MemorySink, str]:
    """A session on the OpenAI Realtime model (key from OPENAI_API_KEY).

    `OPENAI_REALTIME_URL` points it at another server that speaks the protocol (a
    compatible proxy, or voxtrio's scripted test server).
    """
    from voxtrio.engines.openai.realtime import InputTranscription, RealtimeModel

    api_key = os.environ.get("OPENAI_API_KEY")
    if not api_key:
        raise ValueError(
            "--realtime talks to the OpenAI Realtime API and needs a key: set OPENAI_API_KEY "
            "(or run without --realtime to use the offline engines)"
        )
    model = RealtimeModel(
        api_key=api_key,
        base_url=os.environ.get("OPENAI_REALTIME_URL", "wss://api.openai.com/v1"),
        model=options.model or "gpt-realtime",
        instructions=options.instructions,
        input_transcription=InputTranscription(model="gpt-4o-mini-transcribe"),
    )
    session = AgentSession(model=model)
    return session, MemorySink(24_000), f"model: OpenAI Realtime ({model.model})"


class _Printer:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.t0: float | None = None

    def _t(self) -> str:
        t = trio.current_time() - (self.t0 if self.t0 is not None else trio.current_time())
        return f"[{t:6.2f}s]"

    def transcribed(self, ev: UserInputTranscribedEvent) -> None:
        if ev.is_final:
            print(f"{self._t()} user (final): {ev.transcript}", file=self.out)

    def item_added(self, ev: ConversationItemAddedEvent) -> None:
        item = ev.item
        if item.role == "assistant":
            cut = " (interrupted)" if item.interrupted else ""
            print(f"{self._t()} agent{cut}: {item.text_content}", file=self.out)

    def agent_state(self, ev: AgentStateChangedEvent) -> None:
        print(f"{self._t()} agent {ev.old_state} -> {ev.new_state}", file=self.out)

    def error(self, ev: ErrorEvent) -> None:
        kind = "recoverable" if ev.recoverable else "error"
        print(f"{self._t()} {kind} in {ev.source}: {ev.error!r}", file=self.out)


async def _progress(out: TextIO, t0: float, total: float, every: float) -> None:
    if total <= every:
        return
    while True:
        await trio.sleep(every)
        done = min(trio.current_time() - t0, total)
        print(f"  ... {done:5.1f} s of {total:.1f} s", file=out)


def _wav_duration(path: Path) -> float:
    import wave

    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def _item_record(item: Any, t0: float) -> dict[str, Any]:
    wall0 = wall_time() - (trio.current_time() - t0)  # the input's start, in wall time
    metrics = dict(item.metrics)
    start = metrics.get("started_speaking_at")
    end = metrics.get("stopped_speaking_at")
    return {
        "role": item.role,
        "text": item.text_content,
        "interrupted": item.interrupted,
        "turn_id": item.turn_id,
        "speech_id": item.speech_id,
        "created_at": item.created_at,
        "start": None if start is None else round(start - wall0, 3),
        "end": None if end is None else round(end - wall0, 3),
    }


def _metrics_record(ev: MetricsCollectedEvent) -> dict[str, Any]:
    record = attrs.asdict(ev.metrics)
    record["type"] = type(ev.metrics).type
    return record


def _write_aligned_audio(path: Path, sink: MemorySink, t0: float) -> None:
    rate = sink.sample_rate or 22_050
    if not sink.heard:
        samples = np.zeros(0, np.int16)
    else:
        end = max(round((t - t0) * rate) + f.samples_per_channel for t, f in sink.heard)
        samples = np.zeros(max(end, 0), np.int16)
        for t, frame in sink.heard:
            start = max(round((t - t0) * rate), 0)
            mono = frame.data[:, 0]
            samples[start : start + len(mono)] = mono[: len(samples) - start]
    with WavWriter(path, rate, 1) as writer:
        from voxtrio.audio.frame import AudioFrame

        writer.write(AudioFrame.from_array(samples, rate))
