"""RMS / peak / dBFS levels and the sliding-window LevelMeter."""

from __future__ import annotations

import math

import numpy as np
import pytest

from voxtrio.audio.frame import AudioFrame
from voxtrio.audio.generate import silence, tone
from voxtrio.audio.levels import DBFS_FLOOR, LevelMeter, measure, peak, rms, to_dbfs


def test_full_scale_square_is_0_dbfs() -> None:
    square = AudioFrame.from_array(np.array([-32768, -32768] * 50, np.int16), 16_000)
    levels = measure(square)
    assert levels.rms == 1.0 and levels.peak == 1.0
    assert levels.rms_dbfs == 0.0 and levels.peak_dbfs == 0.0


def test_sine_rms_is_peak_over_root_two() -> None:
    frame = tone(1_000.0, 1.0, 16_000, amplitude=0.5)
    assert rms(frame) == pytest.approx(0.5 / math.sqrt(2), rel=1e-3)
    assert peak(frame) == pytest.approx(0.5, rel=1e-3)
    assert measure(frame).rms_dbfs == pytest.approx(-6.02 - 3.01, abs=0.02)


def test_silence_and_empty_are_floored() -> None:
    assert measure(silence(0.1, 16_000)).rms_dbfs == DBFS_FLOOR
    assert rms(np.zeros((0, 1), np.int16)) == 0.0
    assert peak(np.zeros((0, 1), np.int16)) == 0.0
    assert to_dbfs(1e-9) == DBFS_FLOOR
    assert to_dbfs(0.5) == pytest.approx(-6.0206, abs=1e-4)


def test_arrays_and_all_channels_count() -> None:
    stereo = np.array([[0, 16384], [0, -16384]], np.int16)
    assert peak(stereo) == 0.5
    assert rms(stereo) == pytest.approx(math.sqrt(2 * 0.25 / 4))


def test_meter_window_forgets_old_loud_frames() -> None:
    meter = LevelMeter(window=0.1)
    loud = tone(440.0, 0.02, 16_000, amplitude=0.8)
    quiet = silence(0.02, 16_000)
    assert meter.push(loud).peak == pytest.approx(0.8, rel=1e-3)
    for _ in range(4):
        assert meter.push(quiet).peak > 0.7  # loud frame still inside 100 ms
    assert meter.push(quiet).peak == 0.0  # five quiet frames fill the window
    meter.reset()
    assert meter.levels.rms == 0.0


def test_meter_combines_frames_by_sample_count() -> None:
    meter = LevelMeter(window=1.0)
    meter.push(AudioFrame.from_array(np.full(100, 16384, np.int16), 16_000))
    levels = meter.push(AudioFrame.from_array(np.zeros(300, np.int16), 16_000))
    assert levels.rms == pytest.approx(math.sqrt(0.25 * 100 / 400))


def test_meter_rejects_bad_window() -> None:
    with pytest.raises(ValueError, match="window"):
        LevelMeter(window=0)
