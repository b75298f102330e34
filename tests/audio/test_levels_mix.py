"""Channel down-mix / up-mix (voxtrio.audio.mix)."""

from __future__ import annotations

import numpy as np
import pytest

from voxtrio.audio.frame import AudioFormatError, AudioFrame
from voxtrio.audio.mix import remix_channels, to_mono


def test_to_mono_averages_with_rounding_and_never_clips() -> None:
    stereo = AudioFrame.from_array(
        np.array([[32767, 32767], [-32768, -32768], [1, 2], [-1, -2], [100, -100]], np.int16),
        8_000,
        pts=0.25,
    )
    mono = to_mono(stereo)
    assert mono.num_channels == 1
    assert mono.data[:, 0].tolist() == [32767, -32768, 2, -2, 0]
    assert mono.pts == 0.25 and mono.sample_rate == 8_000


def test_mono_is_returned_as_is() -> None:
    mono = AudioFrame.from_array(np.arange(4, dtype=np.int16), 8_000)
    assert to_mono(mono) is mono
    assert remix_channels(mono, 1) is mono


def test_remix_up_and_down() -> None:
    mono = AudioFrame.from_array(np.array([1, 2, 3], np.int16), 8_000)
    stereo = remix_channels(mono, 2)
    assert stereo.data.tolist() == [[1, 1], [2, 2], [3, 3]]
    assert remix_channels(stereo, 1).data[:, 0].tolist() == [1, 2, 3]


def test_remix_between_multichannel_layouts_is_refused() -> None:
    six = AudioFrame.from_array(np.zeros((4, 6), np.int16), 8_000)
    with pytest.raises(ValueError, match="6 channels to 2"):
        remix_channels(six, 2)
    with pytest.raises(AudioFormatError):
        remix_channels(six, 0)
