"""AudioResampler: streamed output vs one-shot soxr, pts continuity, errors."""

from __future__ import annotations

import numpy as np
import pytest
import soxr  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from voxtrio.audio.frame import AudioFormatError, AudioFrame
from voxtrio.audio.generate import tone
from voxtrio.audio.resample import AudioResampler

RATE_PAIRS = [
    (a, b)
    for a in (8_000, 16_000, 24_000, 48_000)
    for b in (8_000, 16_000, 24_000, 48_000)
    if a != b
] + [(22_050, 16_000)]


def _stream(
    resampler: AudioResampler, signal: np.ndarray, rate: int, sizes: list[int], pts: float = 0.0
) -> list[AudioFrame]:
    out: list[AudioFrame] = []
    position = 0
    index = 0
    while position < len(signal):
        size = sizes[index % len(sizes)]
        chunk = signal[position : position + size]
        out += resampler.push(AudioFrame(chunk, rate, pts + position / rate))
        position += len(chunk)
        index += 1
    return out + resampler.flush()


def _joined(frames: list[AudioFrame], channels: int) -> np.ndarray:
    return np.concatenate([np.zeros((0, channels), np.int16)] + [f.data for f in frames])


def _signal(seed: int, samples: int, channels: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(samples) / 8_000
    base = 8_000 * np.sin(2 * np.pi * 300 * t) + rng.normal(0, 1_000, samples)
    return np.stack([base * (c + 1) / channels for c in range(channels)], axis=1).astype(np.int16)


@settings(max_examples=40, deadline=None)
@given(
    pair=st.sampled_from(RATE_PAIRS),
    channels=st.integers(1, 2),
    samples=st.integers(1, 12_000),
    sizes=st.lists(st.integers(1, 3_000), min_size=1, max_size=8),
    start=st.floats(0, 100, allow_nan=False),
    seed=st.integers(0, 1_000),
)
def test_stream_matches_one_shot_and_pts_are_continuous(
    pair: tuple[int, int], channels: int, samples: int, sizes: list[int], start: float, seed: int
) -> None:
    in_rate, out_rate = pair
    signal = _signal(seed, samples, channels)
    resampler = AudioResampler(in_rate, out_rate, channels)
    frames = _stream(resampler, signal, in_rate, sizes, pts=start)

    expected = soxr.resample(signal, in_rate, out_rate, quality="HQ")
    got = _joined(frames, channels)
    longest_frame = max((f.samples_per_channel for f in frames), default=0)
    assert abs(len(got) - len(expected)) <= max(1, longest_frame)
    common = min(len(got), len(expected))
    assert np.abs(got[:common].astype(np.int32) - expected[:common]).max(initial=0) <= 4

    whole = _stream(AudioResampler(in_rate, out_rate, channels), signal, in_rate, [samples])
    assert np.array_equal(got, _joined(whole, channels))  # the split changes nothing

    emitted = 0
    for frame in frames:
        assert frame.sample_rate == out_rate and frame.num_channels == channels
        assert frame.pts == pytest.approx(start + emitted / out_rate, abs=1e-9)
        emitted += frame.samples_per_channel


def test_output_length_follows_the_rate_ratio() -> None:
    resampler = AudioResampler(48_000, 16_000)
    source = tone(440.0, 1.0, 48_000, 0.5)
    frames = _stream(resampler, source.data, 48_000, [960])
    total = sum(f.samples_per_channel for f in frames)
    assert total == 16_000
    assert frames[-1].end_pts == pytest.approx(1.0)


def test_tone_survives_resampling() -> None:
    resampler = AudioResampler(16_000, 48_000)
    frames = _stream(resampler, tone(1_000.0, 0.5, 16_000, 0.5).data, 16_000, [320])
    out = np.concatenate([f.data[:, 0] for f in frames]).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(out))
    peak_hz = np.argmax(spectrum) * 48_000 / len(out)
    assert peak_hz == pytest.approx(1_000.0, abs=5.0)


def test_equal_rates_pass_frames_through() -> None:
    resampler = AudioResampler(16_000, 16_000)
    frame = tone(440.0, 0.02, 16_000, pts=3.0)
    assert resampler.passthrough
    assert resampler.push(frame)[0] is frame
    assert resampler.flush() == []


def test_first_push_may_be_empty_but_nothing_is_lost() -> None:
    resampler = AudioResampler(48_000, 16_000)
    first = resampler.push(tone(440.0, 0.02, 48_000))
    later = resampler.flush()
    assert sum(f.samples_per_channel for f in first + later) == 320


def test_flush_resets_for_a_new_stream() -> None:
    resampler = AudioResampler(16_000, 8_000)
    a = _stream(resampler, tone(300.0, 0.1, 16_000).data, 16_000, [160], pts=5.0)
    b = _stream(resampler, tone(300.0, 0.1, 16_000).data, 16_000, [160], pts=9.0)
    assert a[0].pts == 5.0 and b[0].pts == 9.0
    assert [f.to_bytes() for f in a] == [f.to_bytes() for f in b]
    assert resampler.flush() == []


def test_mismatched_frames_name_the_values() -> None:
    resampler = AudioResampler(16_000, 48_000, num_channels=1)
    with pytest.raises(ValueError, match="8000 Hz.*16000 Hz"):
        resampler.push(tone(300.0, 0.02, 8_000))
    with pytest.raises(ValueError, match="2 channel.*expects 1"):
        resampler.push(tone(300.0, 0.02, 16_000, num_channels=2))


def test_invalid_configuration() -> None:
    with pytest.raises(AudioFormatError, match="in_rate"):
        AudioResampler(0, 16_000)
    with pytest.raises(AudioFormatError, match="num_channels"):
        AudioResampler(16_000, 8_000, 0)
    with pytest.raises(ValueError, match="quality"):
        AudioResampler(16_000, 8_000, quality="best")  # type: ignore[arg-type]
