"""combine_audio_frames / merge_frames."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voxtrio.audio.combine import combine_audio_frames, merge_frames
from voxtrio.audio.frame import AudioFrame


def _frame(
    values: list[int], rate: int = 48_000, channels: int = 2, pts: float = 0.0
) -> AudioFrame:
    return AudioFrame.from_array(np.array(values, np.int16), rate, channels, pts)


def test_concatenates_in_order_with_first_pts() -> None:
    a = _frame([1, 2], pts=0.5)
    b = _frame([3, 4, 5, 6], pts=0.7)
    combined = combine_audio_frames([a, b])
    assert combined.to_bytes() == a.to_bytes() + b.to_bytes()
    assert combined.samples_per_channel == 3
    assert combined.num_channels == 2
    assert combined.sample_rate == 48_000
    assert combined.pts == 0.5
    assert not combined.data.flags.writeable


def test_single_frame_comes_back_as_is() -> None:
    a = _frame([1, 2])
    assert combine_audio_frames(a) is a
    assert combine_audio_frames([a]) is a


def test_empty_buffer() -> None:
    with pytest.raises(ValueError, match="^buffer is empty$"):
        combine_audio_frames([])


def test_rate_mismatch_names_both_rates() -> None:
    with pytest.raises(ValueError, match="16000 Hz, then 48000 Hz"):
        combine_audio_frames([_frame([0, 0], rate=16_000), _frame([0, 0], rate=48_000)])


def test_channel_mismatch_names_both_counts() -> None:
    with pytest.raises(ValueError, match="2 channels, then 1"):
        combine_audio_frames([_frame([0, 0]), _frame([0], channels=1)])


def test_alias_and_tuple_input() -> None:
    assert merge_frames is combine_audio_frames
    frames = tuple(_frame([i, -i]) for i in range(5))
    assert merge_frames(frames).data[:, 0].tolist() == [0, 1, 2, 3, 4]


@settings(max_examples=50, deadline=None)
@given(
    channels=st.integers(1, 3),
    sizes=st.lists(st.integers(0, 40), min_size=1, max_size=10),
    seed=st.integers(0, 1_000),
)
def test_combining_a_split_gives_the_original(channels: int, sizes: list[int], seed: int) -> None:
    total = sum(sizes)
    data = np.random.default_rng(seed).integers(-32768, 32768, (total, channels), dtype=np.int16)
    frames, start = [], 0
    for size in sizes:
        frames.append(AudioFrame(data[start : start + size], 16_000, start / 16_000))
        start += size
    combined = combine_audio_frames(frames)
    assert np.array_equal(combined.data, data)
    assert combined.pts == 0.0
