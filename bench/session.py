"""Voice-to-voice latency on real audio with the embedded engines.

    taskset -c 0 .venv/bin/python bench/session.py [--utterances 7] [--gap 7.0]

Builds one WAV from the committed speech fixtures (natural speech, 16 kHz), each
utterance followed by `gap` seconds of silence so the agent's reply plays out, and
runs it through `voxtrio run` (silero VAD, pocketsphinx STT and espeak-ng TTS in
worker processes, the demo brain) in real time. Prints the per-turn breakdown —
each stage in ms after the user stopped speaking — with the median and the worst,
and one JSON line with the figures. Target: first agent audio no later than the
endpointing delay (500 ms) + 150 ms after the user stops speaking.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import wave
from functools import partial
from pathlib import Path

import numpy as np
import trio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from voxtrio.app.report import latency_table  # noqa: E402
from voxtrio.app.run_file import RunOptions, run_file  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "speech"
RATE = 16_000
TARGET = 0.5 + 0.150


def build_input(path: Path, utterances: int, gap: float) -> None:
    names = sorted(p.name for p in FIXTURES.glob("s*.wav"))[:utterances]
    parts = [np.zeros(int(0.5 * RATE), np.int16)]
    for name in names:
        with wave.open(str(FIXTURES / name), "rb") as w:
            parts.append(np.frombuffer(w.readframes(w.getnframes()), np.int16))
        parts.append(np.zeros(int(gap * RATE), np.int16))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(np.concatenate(parts).tobytes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=7)
    parser.add_argument("--gap", type=float, default=7.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.wav"
        build_input(path, args.utterances, args.gap)
        log = io.StringIO()
        report = trio.run(partial(run_file, RunOptions(input=path, progress_every=1e9), out=log))
    turns = report.turns
    print(latency_table(turns))
    stages = ["vad_end_of_speech", "stt_final", "end_of_turn", "llm_first_token", "tts_first_audio", "e2e_latency"]
    summary: dict[str, object] = {"turns": len(turns), "target_ms": TARGET * 1000}
    for stage in stages:
        values = [getattr(t, stage) for t in turns if getattr(t, stage) is not None]
        if values:
            summary[f"{stage}_median_ms"] = round(statistics.median(values) * 1000, 1)
            summary[f"{stage}_worst_ms"] = round(max(values) * 1000, 1)
    e2e = [t.e2e_latency for t in turns if t.e2e_latency is not None]
    summary["met_target"] = bool(e2e) and max(e2e) <= TARGET
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
