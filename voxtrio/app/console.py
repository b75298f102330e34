"""`voxtrio console`: talk to an agent through the microphone and the speaker.

    report = await run_console(audio_in=DeviceSource(), audio_out=DeviceSink(),
                               vad=SileroVAD(), stt=stt, llm=FunctionLLM(demo_brain), tts=tts)

The same session as `voxtrio run` (the embedded engines and the demo brain, or an
OpenAI-compatible model with `llm_url`), with a sound card as the user: a live terminal
view (`voxtrio.app.live_view.LiveView`) shows the agent's and the user's state, the
microphone's level, transcripts as they form, the agent's replies and each turn's
latency. Ctrl-C (SIGINT) closes the session cleanly — its `close` event is emitted — and
prints the per-turn latency table and the usage summary; a second Ctrl-C stops waiting
for the close.

`Console` / `run_console` take the audio source and sink and the engines as parameters,
so a conversation runs without a sound card (tests use the fake engines on virtual
time); `console_main` is what the CLI runs: it checks the audio devices first, so a
missing `sounddevice`, PortAudio library or sound card fails at once with the message of
`voxtrio.audio.devices` (naming ``voxtrio[audio]`` and ``libportaudio2``).

Edge cases: the session may close by itself (its actors failed for good); the console
then returns with that reason (`ConsoleReport.close_reason`, exit status 1 in the CLI).
An audio source that ends (a file, a test's script) does not close the session: the
console keeps running until stopped.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import attrs
import numpy as np
import trio

from voxtrio.app.live_view import LiveView, describe_error
from voxtrio.app.report import TurnLatency, latency_table, turn_latencies
from voxtrio.audio.frame import AudioFrame
from voxtrio.audio.levels import DBFS_FLOOR, to_dbfs
from voxtrio.audio.sinks import AudioSink
from voxtrio.audio.sources import AudioSource, SourceStatistics
from voxtrio.engines.llm import LLM
from voxtrio.engines.stt import STT
from voxtrio.engines.tts import TTS
from voxtrio.engines.vad import VAD
from voxtrio.metrics.usage import UsageSummary
from voxtrio.session.agent import Agent
from voxtrio.session.events import CloseEvent
from voxtrio.session.session import AgentSession

__all__ = [
    "Console",
    "ConsoleOptions",
    "ConsoleReport",
    "MeteredSource",
    "check_audio_devices",
    "console_main",
    "format_usage",
    "run_console",
]

DEFAULT_INSTRUCTIONS = "You are a friendly voice assistant. Answer in one or two short sentences."

_FULL_SCALE = 32768.0

_NO_INPUT = Path(os.devnull)  # RunOptions needs an input path; build_llm never reads it


class MeteredSource(AudioSource):
    """Wraps an `AudioSource`; measures each frame's level as it is read.

        mic = MeteredSource(DeviceSource())
        mic.level_dbfs          # RMS of the last frame read, dBFS
        mic.take_level()        # loudest frame since the last call (for a meter's redraw)

    The frames pass through untouched (same objects, no copy); the RMS is one `einsum`
    over the frame's samples, a few microseconds per 20 ms frame. Opening, closing and
    statistics are the wrapped source's.
    """

    def __init__(self, source: AudioSource) -> None:
        self.source = source
        self.sample_rate = source.sample_rate
        self.num_channels = source.num_channels
        self.realtime = source.realtime
        self.level_dbfs = DBFS_FLOOR
        self._loudest = DBFS_FLOOR

    async def aopen(self) -> None:
        await self.source.aopen()

    async def aclose(self) -> None:
        await self.source.aclose()

    async def read(self) -> AudioFrame | None:
        frame = await self.source.read()
        if frame is not None:
            self.level_dbfs = frame_dbfs(frame)
            self._loudest = max(self._loudest, self.level_dbfs)
        return frame

    def statistics(self) -> SourceStatistics:
        return self.source.statistics()

    def take_level(self) -> float:
        """The loudest frame's dBFS since the last call (the floor if none was read)."""
        level, self._loudest = self._loudest, DBFS_FLOOR
        return level

    def __repr__(self) -> str:
        return f"MeteredSource({self.source!r})"


def frame_dbfs(frame: AudioFrame) -> float:
    """RMS level of one frame in dBFS (all channels alike), without copying its samples."""
    samples = frame.data.reshape(-1)
    if samples.size == 0:
        return DBFS_FLOOR
    squares = float(np.einsum("i,i->", samples, samples, dtype=np.float64))
    return to_dbfs(math.sqrt(squares / samples.size) / _FULL_SCALE)


@attrs.frozen
class ConsoleReport:
    """What the console leaves behind: the turns' latencies, usage, why it closed."""

    turns: list[TurnLatency]
    usage: UsageSummary
    close_reason: str
    close_error: BaseException | None


class Console:
    """One console conversation; see the module docstring.

        console = Console(audio_in=mic, audio_out=speaker, vad=vad, stt=stt, llm=llm, tts=tts)
        report = await console.run()          # until Ctrl-C or console.stop()

    `out` receives the live view (`tty=None` asks `out.isatty()`); `refresh_every` is the
    status line's redraw period (a TTY) or the meter's logging period (plain output).
    With `handle_sigint` the console owns SIGINT while it runs (trio's main thread only).
    """

    def __init__(
        self,
        *,
        audio_in: AudioSource,
        audio_out: AudioSink,
        vad: VAD | None,
        stt: STT,
        llm: LLM,
        tts: TTS,
        instructions: str = DEFAULT_INSTRUCTIONS,
        out: TextIO | None = None,
        tty: bool | None = None,
        refresh_every: float | None = None,
        handle_sigint: bool = True,
        session_options: dict[str, Any] | None = None,
    ) -> None:
        self.mic = MeteredSource(audio_in)
        self.audio_out = audio_out
        self.instructions = instructions
        self.out = out if out is not None else sys.stdout
        self.view = LiveView(self.out, tty=tty)
        self.refresh_every = refresh_every or (0.1 if self.view.tty else 0.5)
        self.handle_sigint = handle_sigint
        self.session = AgentSession(vad=vad, stt=stt, llm=llm, tts=tts, **(session_options or {}))
        self.view.attach(self.session)
        self.close_event: CloseEvent | None = None
        self.session.on("close", self._on_close)
        self.listening = trio.Event()  # set once the session runs and the view is live
        self._stop = trio.Event()
        self._labels = (
            vad.label if vad is not None else "no VAD",
            stt.label,
            tts.label,
            llm.label,
        )

    def stop(self) -> None:
        """Close the session (what Ctrl-C does); safe to call at any time, more than once."""
        self._stop.set()

    def _on_close(self, ev: CloseEvent) -> None:
        self.close_event = ev
        self._stop.set()

    async def run(self) -> ConsoleReport:
        """Hold the conversation until stopped; print the summary; return the report."""
        vad_label, stt_label, tts_label, llm_label = self._labels
        print(
            f"voxtrio console: VAD {vad_label}, STT {stt_label}, TTS {tts_label}, "
            f"brain {llm_label}. Speak when the agent is listening; Ctrl-C to quit. "
            "Use headphones: the agent would hear itself through speakers.",
            file=self.out,
        )
        with self._sigint() as signals, trio.CancelScope() as force:
            async with trio.open_nursery() as nursery:
                if signals is not None:
                    nursery.start_soon(self._watch_sigint, signals, force)
                async with self.session.start(
                    audio_in=self.mic, audio_out=self.audio_out, agent=Agent(self.instructions)
                ):
                    self.view.start()
                    nursery.start_soon(self._refresh)
                    self.listening.set()
                    await self._stop.wait()
                    if self.close_event is None:
                        self.view.line("closing the session ...")
                # The session's aclose() ran on leaving the block: `close` was emitted.
                nursery.cancel_scope.cancel()
        self.view.clear_status()
        return self._summary(forced=force.cancelled_caught)

    @contextlib.contextmanager
    def _sigint(self) -> Iterator[Any]:
        if not self.handle_sigint or threading.current_thread() is not threading.main_thread():
            yield None  # signals reach only the main thread: stop() is the way out here
            return
        with trio.open_signal_receiver(signal.SIGINT) as signals:
            yield signals

    async def _watch_sigint(self, signals: Any, force: trio.CancelScope) -> None:
        async for _ in signals:
            if not self._stop.is_set():
                self.view.line("Ctrl-C: closing the session (press it again to quit at once)")
                self._stop.set()
            else:
                force.cancel()
                return

    async def _refresh(self) -> None:
        while True:
            self.view.set_level(self.mic.take_level())
            self.view.refresh()
            await trio.sleep(self.refresh_every)

    def _summary(self, *, forced: bool) -> ConsoleReport:
        ev = self.close_event
        reason = str(ev.reason) if ev is not None else "user_initiated"
        error = ev.error if ev is not None else None
        turns = turn_latencies(self.session.history.messages())
        usage = self.session.usage
        closed = "session closed" if ev is not None else "session abandoned (not closed)"
        detail = f": {describe_error(error)}" if error is not None else ""
        print(f"{closed} ({reason}{detail}){' after a second Ctrl-C' if forced else ''}", file=self.out)
        print("", file=self.out)
        print(latency_table(turns), file=self.out)
        print(format_usage(usage), file=self.out)
        self.out.flush()
        return ConsoleReport(turns=turns, usage=usage, close_reason=reason, close_error=error)


async def run_console(
    *,
    audio_in: AudioSource,
    audio_out: AudioSink,
    vad: VAD | None,
    stt: STT,
    llm: LLM,
    tts: TTS,
    instructions: str = DEFAULT_INSTRUCTIONS,
    out: TextIO | None = None,
    tty: bool | None = None,
    handle_sigint: bool = True,
) -> ConsoleReport:
    """`Console(...).run()` in one call (stopped by Ctrl-C)."""
    console = Console(
        audio_in=audio_in,
        audio_out=audio_out,
        vad=vad,
        stt=stt,
        llm=llm,
        tts=tts,
        instructions=instructions,
        out=out,
        tty=tty,
        handle_sigint=handle_sigint,
    )
    return await console.run()


def format_usage(usage: UsageSummary) -> str:
    """`usage: LLM 120 prompt (0 cached) + 35 completion tokens; TTS ...; STT ...`."""
    parts = [
        f"LLM {usage.llm_prompt_tokens} prompt ({usage.llm_prompt_cached_tokens} cached) "
        f"+ {usage.llm_completion_tokens} completion tokens",
        f"TTS {usage.tts_characters_count} characters, {usage.tts_audio_duration:.1f} s of audio",
        f"STT {usage.stt_audio_duration:.1f} s of audio",
    ]
    return "usage: " + "; ".join(parts)


# -- the CLI's entry point ------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ConsoleOptions:
    llm_url: str | None = None
    model: str | None = None
    instructions: str = DEFAULT_INSTRUCTIONS
    input_device: int | str | None = None
    output_device: int | str | None = None


def check_audio_devices(input_device: int | str | None, output_device: int | str | None) -> None:
    """Fail early, before any engine starts: raise the `AudioDeviceError` of devices.py.

    `SoundDeviceMissing` / `PortAudioMissing` say to install ``voxtrio[audio]`` /
    ``libportaudio2``; `NoAudioDevice` lists the devices there are.
    """
    from voxtrio.audio.devices import resolve_device

    resolve_device(input_device, "input")
    resolve_device(output_device, "output")


async def console_main(options: ConsoleOptions, *, out: TextIO | None = None) -> ConsoleReport:
    """The console on the sound card and the embedded engines (what `voxtrio console` runs).

    Raises `AudioDeviceError` when the audio devices cannot be used, `ValueError` for a
    bad `--llm` setup.
    """
    from voxtrio.app.run_file import EMBEDDED_VAD_OPTIONS, RunOptions, build_llm
    from voxtrio.audio.sinks import DeviceSink
    from voxtrio.audio.sources import DeviceSource
    from voxtrio.engines.espeak import EspeakTTS
    from voxtrio.engines.pocketsphinx import PocketSphinxSTT
    from voxtrio.engines.silero import SileroVAD

    check_audio_devices(options.input_device, options.output_device)
    llm = build_llm(RunOptions(input=_NO_INPUT, llm_url=options.llm_url, model=options.model))
    stt = PocketSphinxSTT()
    tts = EspeakTTS()
    try:
        # Start the worker processes now: the first reply must not wait for them.
        print("voxtrio console: starting the engines ...", file=out or sys.stdout)
        await stt.prewarm()
        await tts.prewarm()
        return await run_console(
            audio_in=DeviceSource(options.input_device, sample_rate=16_000),
            # The card's own rate; the playout resamples the TTS's audio to it.
            audio_out=DeviceSink(options.output_device),
            vad=SileroVAD(options=EMBEDDED_VAD_OPTIONS),
            stt=stt,
            llm=llm,
            tts=tts,
            instructions=options.instructions,
            out=out,
        )
    finally:
        # Bounded and shielded: a second Ctrl-C must not leave worker processes behind.
        with trio.CancelScope(shield=True), trio.move_on_after(10):
            await stt.aclose()
            await tts.aclose()
            await llm.aclose()

