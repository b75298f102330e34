"""AudioFrame: construction, validation errors, read-only sharing, pts helpers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from voxtrio.audio.frame import AudioFormatError, AudioFrame


def test_from_bytes_interleaves_channels() -> None:
    frame = AudioFrame.from_bytes(b"\x01\x00\x02\x00\x03\x00\x04\x00", 48_000, 2, pts=1.5)
    assert frame.data.shape == (2, 2)
    assert frame.data.tolist() == [[1, 2], [3, 4]]
    assert frame.num_channels == 2
    assert frame.samples_per_channel == 2
    assert frame.pts == 1.5
    assert frame.duration == pytest.approx(2 / 48_000)
    assert frame.end_pts == pytest.approx(1.5 + 2 / 48_000)


def test_bytes_round_trip_is_little_endian() -> None:
    pcm = np.array([-32768, -1, 0, 1, 32767, 258], dtype=np.int16)
    raw = pcm.astype("<i2").tobytes()
    frame = AudioFrame.from_bytes(raw, 16_000)
    assert frame.to_bytes() == raw
    assert AudioFrame.from_bytes(bytearray(raw), 16_000).to_bytes() == raw
    assert AudioFrame.from_bytes(memoryview(raw), 16_000).to_bytes() == raw


def test_odd_byte_count_is_rejected_with_its_size() -> None:
    with pytest.raises(AudioFormatError, match="even byte count.*got 3 bytes"):
        AudioFrame.from_bytes(b"\x00\x01\x02", 16_000)


def test_sample_count_not_multiple_of_channels() -> None:
    with pytest.raises(AudioFormatError, match="3 samples is not a multiple of num_channels=2"):
        AudioFrame.from_bytes(b"\x00" * 6, 16_000, num_channels=2)
    with pytest.raises(AudioFormatError, match="not a multiple of num_channels=3"):
        AudioFrame.from_array(np.zeros(4, np.int16), 16_000, num_channels=3)


@pytest.mark.parametrize("rate", [0, -16_000])
def test_non_positive_sample_rate(rate: int) -> None:
    with pytest.raises(AudioFormatError, match=f"sample_rate must be a positive.*got {rate}"):
        AudioFrame.from_bytes(b"\x00\x00", rate)
    with pytest.raises(ValueError, match="sample_rate"):
        AudioFrame(np.zeros((1, 1), np.int16), rate)


def test_sample_rate_type_errors() -> None:
    with pytest.raises(TypeError, match="sample_rate must be an int"):
        AudioFrame(np.zeros((1, 1), np.int16), 16_000.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        AudioFrame(np.zeros((1, 1), np.int16), True)
    frame = AudioFrame(np.zeros((1, 1), np.int16), np.int64(8_000))  # type: ignore[arg-type]
    assert type(frame.sample_rate) is int


def test_channel_count_errors() -> None:
    with pytest.raises(AudioFormatError, match="num_channels must be at least 1, got 0"):
        AudioFrame.from_bytes(b"\x00\x00", 16_000, num_channels=0)
    with pytest.raises(AudioFormatError, match="at least one channel"):
        AudioFrame(np.zeros((4, 0), np.int16), 16_000)
    with pytest.raises(AudioFormatError, match="has 2 channels, but num_channels=1"):
        AudioFrame.from_array(np.zeros((4, 2), np.int16), 16_000, num_channels=1)


def test_wrong_dtype_and_shape() -> None:
    with pytest.raises(TypeError, match="int16"):
        AudioFrame.from_array(np.zeros(4, np.float32), 16_000)
    with pytest.raises(AudioFormatError, match="shaped"):
        AudioFrame(np.zeros(4, np.int16), 16_000)
    with pytest.raises(AudioFormatError, match="got shape"):
        AudioFrame.from_array(np.zeros((2, 2, 2), np.int16), 16_000)


def test_from_array_infers_channels_from_2d_data() -> None:
    frame = AudioFrame.from_array(np.zeros((10, 2), np.int16), 16_000)
    assert frame.num_channels == 2
    assert AudioFrame.from_array(np.zeros(10, np.int16), 16_000).num_channels == 1


def test_data_is_read_only_and_isolated_from_caller() -> None:
    source = np.arange(8, dtype=np.int16)
    frame = AudioFrame.from_array(source, 16_000)
    source[0] = 99  # the caller keeps its array; the frame does not change
    assert frame.data[0, 0] == 0
    with pytest.raises(ValueError):
        frame.data[0, 0] = 1


def test_read_only_view_of_writable_array_is_copied() -> None:
    owner = np.zeros((4, 1), np.int16)
    view = owner.view()
    view.flags.writeable = False
    frame = AudioFrame(view, 16_000)
    owner[0, 0] = 7
    assert frame.data[0, 0] == 0


def test_frozen_data_is_shared_without_copy() -> None:
    frame = AudioFrame.from_bytes(b"\x01\x00" * 4, 16_000)
    again = frame.with_pts(2.0)
    assert again.data is frame.data
    assert again.pts == 2.0 and frame.pts == 0.0


def test_frames_are_immutable_values() -> None:
    frame = AudioFrame.from_bytes(b"\x01\x00", 16_000)
    with pytest.raises(AttributeError):
        frame.pts = 1.0  # type: ignore[misc]
    assert frame == AudioFrame.from_bytes(b"\x01\x00", 16_000)
    assert frame != frame.with_pts(0.5)
    assert frame != AudioFrame.from_bytes(b"\x01\x00", 8_000)
    assert "samples_per_channel=1" in repr(frame)


def test_empty_frame_is_allowed() -> None:
    frame = AudioFrame.from_bytes(b"", 16_000, 2)
    assert frame.samples_per_channel == 0
    assert frame.duration == 0.0
    assert frame.to_bytes() == b""


@settings(max_examples=50, deadline=None)
@given(channels=st.integers(1, 4), samples=hnp.arrays(np.int16, st.integers(0, 64)))
def test_bytes_and_arrays_round_trip(channels: int, samples: np.ndarray) -> None:
    samples = samples[: len(samples) - len(samples) % channels]
    raw = samples.astype("<i2").tobytes()
    frame = AudioFrame.from_bytes(raw, 8_000, channels)
    assert frame.to_bytes() == raw
    assert frame.samples_per_channel == len(samples) // channels
    assert AudioFrame.from_array(samples, 8_000, channels) == frame
