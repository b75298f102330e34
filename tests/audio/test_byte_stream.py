"""AudioByteStream: fixed-size re-chunking of arbitrary byte input."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voxtrio.audio.byte_stream import AudioByteStream
from voxtrio.audio.frame import AudioFormatError


def test_default_frame_is_100_ms() -> None:
    stream = AudioByteStream(16_000, 1)
    assert stream.samples_per_channel == 1_600
    assert stream.write(b"\x00\x00" * 1_599) == []
    frames = stream.write(b"\x00\x00" * 1_601)
    assert [f.samples_per_channel for f in frames] == [1_600, 1_600]
    assert [f.pts for f in frames] == [0.0, 0.1]
    assert stream.buffered_bytes == 0


def test_odd_bytes_wait_for_next_write() -> None:
    stream = AudioByteStream(8_000, 2, samples_per_channel=2)
    pcm = np.arange(1, 9, dtype="<i2").tobytes()  # 4 stereo samples
    assert stream.write(pcm[:7]) == []  # a frame needs 8 bytes; byte 7 splits a sample
    frames = stream.write(pcm[7:])
    assert len(frames) == 2
    assert frames[0].data.tolist() == [[1, 2], [3, 4]]
    assert frames[1].data.tolist() == [[5, 6], [7, 8]]


def test_flush_returns_tail_and_keeps_pts_running() -> None:
    stream = AudioByteStream(1_000, 1, samples_per_channel=10, pts=2.0)
    frames = stream.write(b"\x01\x00" * 13)
    tail = stream.flush()
    assert [f.samples_per_channel for f in frames + tail] == [10, 3]
    assert tail[0].pts == pytest.approx(2.010)
    assert stream.flush() == []
    more = stream.write(b"\x00\x00" * 10)
    assert more[0].pts == pytest.approx(2.013)


def test_flush_drops_incomplete_sample_with_warning(caplog: pytest.LogCaptureFixture) -> None:
    stream = AudioByteStream(8_000, 2, samples_per_channel=100)
    stream.write(b"\x01\x00\x02\x00\x03")  # one stereo sample + 1 stray byte
    with caplog.at_level(logging.WARNING, logger="voxtrio.audio"):
        tail = stream.flush()
    assert tail[0].data.tolist() == [[1, 2]]
    assert "dropped 1 byte" in caplog.text
    assert stream.buffered_bytes == 0


def test_push_is_write() -> None:
    stream = AudioByteStream(8_000, 1, samples_per_channel=2)
    assert [f.to_bytes() for f in stream.push(b"\x01\x00\x02\x00\x03")] == [b"\x01\x00\x02\x00"]
    assert stream.buffered_bytes == 1


def test_invalid_arguments() -> None:
    with pytest.raises(AudioFormatError):
        AudioByteStream(0, 1)
    with pytest.raises(AudioFormatError):
        AudioByteStream(16_000, 0)
    with pytest.raises(AudioFormatError):
        AudioByteStream(16_000, 1, samples_per_channel=0)


@settings(max_examples=60, deadline=None)
@given(
    num_channels=st.integers(1, 3),
    samples_per_channel=st.integers(1, 50),
    total=st.integers(0, 400),
    cuts=st.lists(st.integers(0, 2_400), max_size=20),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_split_loses_and_duplicates_nothing(
    num_channels: int, samples_per_channel: int, total: int, cuts: list[int], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    samples = rng.integers(-32768, 32768, size=total * num_channels, dtype=np.int16)
    pcm = samples.astype("<i2").tobytes()
    bounds = sorted({0, len(pcm), *(c for c in cuts if c < len(pcm))})
    stream = AudioByteStream(8_000, num_channels, samples_per_channel)
    frames = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        frames += stream.write(pcm[start:end])
    frames += stream.flush()

    assert b"".join(f.to_bytes() for f in frames) == pcm
    assert all(f.samples_per_channel == samples_per_channel for f in frames[:-1])
    assert all(f.num_channels == num_channels for f in frames)
    position = 0
    for frame in frames:  # pts continuous, counted in samples
        assert frame.pts == pytest.approx(position / 8_000)
        position += frame.samples_per_channel
