"""Throughput of voxtrio's audio primitives, in seconds of audio per second of CPU.

    taskset -c 0 .venv/bin/python bench/audio.py [--seconds 10] [--quick]

Measures (single core, CPU time from time.process_time, best of 3 runs
of at least 0.1 s each):
- resampling with `AudioResampler` fed 20 ms frames (the way actors use it, frame
  objects included) and one-shot `soxr.resample` of the whole signal, for
  48k->16k, 16k->24k, 24k->48k and 22.05k->16k, mono, HQ quality;
- G.711 μ-law / A-law encode and decode of 8 kHz mono, per 20 ms frame (160 samples,
  as telephony sends them) and as one array.
Prints a table, then one JSON line (prefix `BENCH_JSON `) for machines.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from functools import partial

import numpy as np
import soxr  # type: ignore[import-untyped]

from voxtrio.audio.frame import AudioFrame
from voxtrio.audio.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from voxtrio.audio.resample import AudioResampler

RATE_PAIRS = [(48_000, 16_000), (16_000, 24_000), (24_000, 48_000), (22_050, 16_000)]
FRAME_SECONDS = 0.02


def signal(rate: int, seconds: float) -> np.ndarray:
    """Speech-like test signal: a few tones plus noise, about -12 dBFS."""
    rng = np.random.default_rng(0)
    t = np.arange(round(rate * seconds)) / rate
    x = sum(0.1 * np.sin(2 * np.pi * f * t) for f in (180.0, 740.0, 2_300.0))
    x = x + rng.normal(0.0, 0.03, t.size)
    return np.clip(x * 32767, -32768, 32767).astype(np.int16)


def cpu_seconds(fn: Callable[[], object], repeats: int = 3, min_time: float = 0.1) -> float:
    """CPU seconds per call of `fn`: best of `repeats` runs of at least `min_time` each."""
    calls = 1
    while True:  # find a call count that takes long enough to time reliably
        start = time.process_time()
        for _ in range(calls):
            fn()
        if time.process_time() - start >= min_time:
            break
        calls *= 2
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(calls):
            fn()
        best = min(best, (time.process_time() - start) / calls)
    return max(best, 1e-12)


def bench_resample(seconds: float) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for in_rate, out_rate in RATE_PAIRS:
        x = signal(in_rate, seconds)
        step = round(in_rate * FRAME_SECONDS)
        frames = [
            AudioFrame(x[i : i + step].reshape(-1, 1), in_rate, i / in_rate)
            for i in range(0, len(x), step)
        ]

        def streamed(frames: list[AudioFrame] = frames, a: int = in_rate, b: int = out_rate) -> int:
            resampler = AudioResampler(a, b)
            total = 0
            for frame in frames:
                for out in resampler.push(frame):
                    total += out.samples_per_channel
            for out in resampler.flush():
                total += out.samples_per_channel
            return total

        def one_shot(x: np.ndarray = x, a: int = in_rate, b: int = out_rate) -> int:
            return len(soxr.resample(x, a, b, quality="HQ"))

        t_stream = cpu_seconds(streamed)
        t_once = cpu_seconds(one_shot)
        rows.append(
            {
                "pair": f"{in_rate / 1000:g}k->{out_rate / 1000:g}k",
                "streamed_20ms_x_realtime": round(seconds / t_stream),
                "one_shot_x_realtime": round(seconds / t_once),
                "us_per_20ms_frame": round(t_stream / len(frames) * 1e6, 2),
            }
        )
    return rows


def bench_g711(seconds: float) -> list[dict[str, object]]:
    rate = 8_000
    x = signal(rate, seconds)
    step = round(rate * FRAME_SECONDS)
    chunks = [x[i : i + step] for i in range(0, len(x), step)]
    rows: list[dict[str, object]] = []
    codecs: list[tuple[str, Callable[..., np.ndarray], Callable[..., np.ndarray]]] = [
        ("mu-law", ulaw_encode, ulaw_decode),
        ("A-law", alaw_encode, alaw_decode),
    ]
    for name, encode, decode in codecs:
        codes = encode(x)
        code_chunks = [encode(c) for c in chunks]
        results = {
            "encode_frames": cpu_seconds(partial(_each, encode, chunks)),
            "decode_frames": cpu_seconds(partial(_each, decode, code_chunks)),
            "encode_array": cpu_seconds(partial(encode, x)),
            "decode_array": cpu_seconds(partial(decode, codes)),
        }
        rows.append(
            {"codec": name}
            | {f"{key}_x_realtime": round(seconds / value) for key, value in results.items()}
        )
    return rows


def _each(fn: Callable[[np.ndarray], np.ndarray], items: list[np.ndarray]) -> list[np.ndarray]:
    return [fn(item) for item in items]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="audio length per case")
    parser.add_argument("--quick", action="store_true", help="1 s of audio (smoke test)")
    args = parser.parse_args()
    seconds = 1.0 if args.quick else args.seconds

    resample_rows = bench_resample(seconds)
    g711_rows = bench_g711(seconds)

    print(f"voxtrio audio bench: {seconds:g} s of audio per case, CPU time, best of 3")
    print(f"python {platform.python_version()}, numpy {np.__version__}, soxr {soxr.__version__}")
    print()
    print(f"{'resample (HQ, mono)':<22}{'20 ms stream':>14}{'one-shot':>12}{'us/frame':>11}")
    for row in resample_rows:
        print(
            f"{row['pair']!s:<22}{row['streamed_20ms_x_realtime']!s:>13}x"
            f"{row['one_shot_x_realtime']!s:>11}x{row['us_per_20ms_frame']!s:>11}"
        )
    print()
    print(
        f"{'G.711 (8 kHz mono)':<22}{'enc/20ms':>11}{'dec/20ms':>11}{'enc/array':>12}{'dec/array':>12}"
    )
    for row in g711_rows:
        print(
            f"{row['codec']!s:<22}{row['encode_frames_x_realtime']!s:>10}x"
            f"{row['decode_frames_x_realtime']!s:>10}x{row['encode_array_x_realtime']!s:>11}x"
            f"{row['decode_array_x_realtime']!s:>11}x"
        )
    print("(figures are seconds of audio processed per second of CPU: 1000x = 1 ms per s)")
    payload = {
        "bench": "audio",
        "seconds_of_audio": seconds,
        "resample": resample_rows,
        "g711": g711_rows,
        "python": platform.python_version(),
    }
    print("BENCH_JSON " + json.dumps(payload, ensure_ascii=False))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
