"""espeak-ng in its worker process: chunks, rate, metrics, cancellation (real time)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import trio

from voxtrio.audio.frame import AudioFrame
from voxtrio.engines.espeak import EspeakTTS
from voxtrio.engines.metrics import TTSMetrics
from voxtrio.engines.tts import SynthesizedAudio
from voxtrio.engines.worker import WorkerStartError

TEXT = "Hello there. This is the offline voice of voxtrio, speaking from a worker process."


async def collect(tts: EspeakTTS, text: str) -> list[SynthesizedAudio]:
    async with tts.synthesize(text) as stream:
        return [audio async for audio in stream]


async def test_streams_about_100_ms_chunks_at_22050_hz() -> None:
    async with EspeakTTS() as tts:
        metrics: list[TTSMetrics] = []
        tts.on("metrics_collected", metrics.append)
        with trio.fail_after(20):
            chunks = await collect(tts, TEXT)
    audio = [c.frame for c in chunks if c.frame.samples_per_channel]
    assert chunks[-1].is_final and chunks[-1].frame.samples_per_channel == 0
    assert all(f.sample_rate == 22_050 and f.num_channels == 1 for f in audio)
    sizes = [f.duration for f in audio]
    assert 0.08 <= float(np.median(sizes)) <= 0.12 and max(sizes) <= 0.12
    total = sum(sizes)
    assert 3.0 < total < 8.0  # ~14 words at 175 words per minute, plus pauses
    # pts run on without gaps from 0.
    assert audio[0].pts == 0.0
    for before, after in zip(audio, audio[1:], strict=False):
        assert abs(after.pts - before.end_pts) < 1e-6
    samples = np.concatenate([f.data[:, 0] for f in audio])
    assert np.abs(samples).max() > 5000  # it speaks, not silence
    (m,) = metrics
    assert m.characters_count == len(TEXT) and abs(m.audio_duration - total) < 1e-6
    assert (
        0 < m.ttfb < 10.0 and not m.cancelled
    )  # includes starting the worker and m.error is None and m.label == "espeak-ng"


async def test_runs_out_of_process_and_first_audio_is_quick() -> None:
    async with EspeakTTS() as tts:
        with trio.fail_after(20):
            await tts.prewarm()
            (pid,) = tts.pool.pids()
            assert pid != os.getpid()
            started = trio.current_time()
            async with tts.synthesize(TEXT) as stream:
                first = await stream.__anext__()
            assert first.frame.samples_per_channel > 0
            assert trio.current_time() - started < 0.25


async def test_leaving_early_cancels_and_the_worker_is_reused() -> None:
    long_text = " ".join([TEXT] * 20)
    async with EspeakTTS(max_workers=1) as tts:
        metrics: list[TTSMetrics] = []
        tts.on("metrics_collected", metrics.append)
        with trio.fail_after(20):
            await tts.prewarm()
            (pid,) = tts.pool.pids()
            async with tts.synthesize(long_text) as stream:
                async for _ in stream:
                    break
            chunks = await collect(tts, "Second request.")
            assert tts.pool.pids() == [pid] and tts.pool.statistics().started == 1
    assert metrics[0].cancelled
    spoken = sum(c.frame.duration for c in chunks)
    assert 0.5 < spoken < 2.0  # only the second text, none of the first one's leftovers


async def test_voices_and_rate_change_the_audio() -> None:
    async def duration(**options: object) -> float:
        async with EspeakTTS(**options) as tts:  # type: ignore[arg-type]
            frames: list[AudioFrame] = [c.frame for c in await collect(tts, TEXT)]
        return sum(f.duration for f in frames)

    with trio.fail_after(30):
        normal, fast = await duration(), await duration(rate=300)
    assert fast < normal * 0.75


async def test_voices_by_name_or_by_language_code() -> None:
    # "en-gb" is no voice file's name (British English is the file "en"), but users
    # ask for voices by language code: it falls back to matching the language.
    async def speech(voice: str) -> np.ndarray:
        async with EspeakTTS(voice=voice) as tts:
            frames = [c.frame for c in await collect(tts, "Tomato.")]
        return np.concatenate([f.data[:, 0] for f in frames])

    with trio.fail_after(30):
        us, gb, rp = await speech("en-us"), await speech("en-gb"), await speech("en-GB-x-rp")
    assert us.size and gb.size and rp.size
    assert not np.array_equal(us, gb)  # another accent, not a silent fallback to en-us


async def test_an_unknown_voice_says_what_to_give() -> None:
    with trio.fail_after(30), pytest.raises(WorkerStartError, match="language code"):
        async with EspeakTTS(voice="xx-nope") as tts:
            await collect(tts, "Hello.")
