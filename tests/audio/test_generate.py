"""silence() and tone() generators."""

from __future__ import annotations

import math

import numpy as np
import pytest

from voxtrio.audio.generate import silence, tone


def test_silence_shape_and_pts() -> None:
    frame = silence(0.25, 16_000, num_channels=2, pts=1.0)
    assert frame.data.shape == (4_000, 2)
    assert not frame.data.any()
    assert frame.pts == 1.0 and frame.end_pts == pytest.approx(1.25)


def test_tone_frequency_amplitude_and_channels() -> None:
    frame = tone(440.0, 1.0, 16_000, amplitude=0.25, num_channels=2)
    assert frame.samples_per_channel == 16_000
    assert np.array_equal(frame.data[:, 0], frame.data[:, 1])
    assert int(np.abs(frame.data).max()) == round(0.25 * 32767)
    spectrum = np.abs(np.fft.rfft(frame.data[:, 0].astype(np.float64)))
    assert int(np.argmax(spectrum)) == 440  # 1 Hz bins over one second


def test_full_amplitude_does_not_overflow() -> None:
    frame = tone(4_000.0, 0.01, 16_000, amplitude=1.0)  # samples land on the peaks
    assert int(frame.data.max()) == 32767 and int(frame.data.min()) == -32767


def test_phase_lets_frames_join_without_a_click() -> None:
    whole = tone(300.0, 0.04, 16_000)
    first = tone(300.0, 0.02, 16_000)
    second = tone(300.0, 0.02, 16_000, phase=2 * math.pi * 300.0 * 0.02, pts=0.02)
    joined = np.concatenate([first.data, second.data])
    assert np.abs(joined.astype(np.int32) - whole.data).max() <= 1


def test_zero_duration_and_rounding() -> None:
    assert silence(0.0, 16_000).samples_per_channel == 0
    assert tone(100.0, 0.0100004, 16_000).samples_per_channel == 160


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"duration": -0.1}, "duration"),
        ({"amplitude": 1.5}, "amplitude"),
        ({"frequency": 8_000.0}, "Nyquist"),
        ({"sample_rate": 0}, "sample_rate"),
        ({"num_channels": 0}, "num_channels"),
    ],
)
def test_invalid_arguments(kwargs: dict[str, float], match: str) -> None:
    args: dict[str, float] = {"frequency": 440.0, "duration": 0.1, "sample_rate": 16_000}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        tone(**args)  # type: ignore[arg-type]
