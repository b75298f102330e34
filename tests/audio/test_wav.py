"""WAV read/write: exact round trips, framing, and clear errors for what is not PCM16."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from voxtrio.audio.combine import combine_audio_frames
from voxtrio.audio.frame import AudioFrame
from voxtrio.audio.generate import tone
from voxtrio.audio.wav import (
    WavFormatError,
    WavWriter,
    iter_wav_frames,
    read_wav,
    read_wav_frame,
    wav_info,
    write_wav,
)


def wav_bytes(
    data: bytes,
    *,
    rate: int = 16_000,
    channels: int = 1,
    bits: int = 16,
    tag: int = 1,
    data_size: int | None = None,
    extra_fmt: bytes = b"",
) -> bytes:
    """A hand-made RIFF/WAVE file, so tests do not depend on the writer under test."""
    block = channels * ((bits + 7) // 8)
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits) + extra_fmt
    size = len(data) if data_size is None else data_size
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    channels=st.integers(1, 3),
    rate=st.sampled_from([8_000, 16_000, 22_050, 44_100, 48_000]),
    samples=hnp.arrays(np.int16, st.integers(0, 3_000)),
    cut=st.integers(1, 700),
)
def test_round_trip_is_exact(
    tmp_path: Path, channels: int, rate: int, samples: np.ndarray, cut: int
) -> None:
    samples = samples[: len(samples) - len(samples) % channels].reshape(-1, channels)
    path = tmp_path / "round.wav"
    with WavWriter(path, rate, channels) as writer:
        for start in range(0, len(samples), cut):  # incremental writes of any size
            writer.write(AudioFrame(samples[start : start + cut], rate, start / rate))
    assert writer.samples_written == len(samples)

    got_rate, got_channels, got = read_wav(path)
    assert (got_rate, got_channels) == (rate, channels)
    assert np.array_equal(got, samples)
    frames = list(iter_wav_frames(path, samples_per_frame=cut))
    joined = np.concatenate([np.zeros((0, channels), np.int16)] + [f.data for f in frames])
    assert np.array_equal(joined, samples)


def test_read_matches_hand_made_file(tmp_path: Path) -> None:
    pcm = np.array([[1, -1], [300, -300], [32767, -32768]], np.int16)
    path = tmp_path / "hand.wav"
    path.write_bytes(wav_bytes(pcm.astype("<i2").tobytes(), rate=8_000, channels=2))
    rate, channels, samples = read_wav(str(path))
    assert (rate, channels) == (8_000, 2)
    assert samples.tolist() == pcm.tolist()
    assert not samples.flags.writeable
    frame = read_wav_frame(path, pts=1.0)
    assert frame.samples_per_channel == 3 and frame.pts == 1.0


def test_iter_frames_sizes_and_pts(tmp_path: Path) -> None:
    path = tmp_path / "tone.wav"
    write_wav(path, tone(440.0, 1.01, 16_000))
    frames = list(iter_wav_frames(path))  # 20 ms default
    assert len(frames) == 51
    assert {f.samples_per_channel for f in frames[:-1]} == {320}
    assert frames[-1].samples_per_channel == 160
    assert [round(f.pts, 6) for f in frames[:3]] == [0.0, 0.02, 0.04]
    assert frames[-1].end_pts == pytest.approx(1.01)
    assert len(list(iter_wav_frames(path, frame_duration=0.1, pts=5.0))) == 11


def test_writer_keeps_a_valid_file_before_close(tmp_path: Path) -> None:
    path = tmp_path / "live.wav"
    writer = WavWriter(path, 16_000)
    writer.write(tone(440.0, 0.1, 16_000))
    _rate, _channels, samples = read_wav(path)  # header already patched
    assert len(samples) == 1_600
    writer.write(tone(440.0, 0.1, 16_000))
    writer.close()
    writer.close()  # idempotent
    assert writer.closed and writer.duration == pytest.approx(0.2)
    assert len(read_wav(path)[2]) == 3_200
    with pytest.raises(ValueError, match="closed"):
        writer.write(tone(440.0, 0.1, 16_000))


def test_writer_to_file_object_and_mismatches() -> None:
    buffer = io.BytesIO()
    writer = WavWriter(buffer, 16_000, 1)
    with pytest.raises(ValueError, match="8000 Hz.*16000 Hz"):
        writer.write(tone(440.0, 0.1, 8_000))
    with pytest.raises(ValueError, match="2 channel.*has 1"):
        writer.write(tone(440.0, 0.1, 16_000, num_channels=2))
    frames = [tone(440.0, 0.02, 16_000, pts=i * 0.02) for i in range(3)]
    for frame in frames:
        writer.write(frame)
    writer.close()
    buffer.seek(0)
    assert np.array_equal(read_wav(buffer)[2], combine_audio_frames(frames).data)
    with pytest.raises(ValueError, match="no frames"):
        write_wav(io.BytesIO(), [])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"bits": 8}, "8-bit PCM is not supported"),
        ({"bits": 24}, "24-bit PCM is not supported"),
        ({"bits": 32}, "32-bit PCM is not supported"),
        ({"bits": 32, "tag": 3}, "IEEE float WAV is not supported"),
        ({"bits": 8, "tag": 6}, "A-law WAV is not supported"),
        ({"bits": 8, "tag": 7}, "μ-law WAV is not supported"),
        ({"tag": 0xFFFE, "extra_fmt": b"\x16\x00" + b"\x00" * 22}, "WAVE_FORMAT_EXTENSIBLE"),
        ({"tag": 0x55}, "compressed format tag 0x0055"),
    ],
)
def test_non_pcm16_is_refused_with_the_format_named(kwargs: dict[str, int], match: str) -> None:
    data = wav_bytes(b"\x00" * 48, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(WavFormatError, match=match):
        read_wav(io.BytesIO(data))
    with pytest.raises(WavFormatError, match="16-bit PCM"):
        list(iter_wav_frames(io.BytesIO(data)))


def test_truncated_data_is_reported() -> None:
    full = wav_bytes(np.arange(100, dtype="<i2").tobytes())
    with pytest.raises(WavFormatError, match="declares 100 samples.*holds 50"):
        read_wav(io.BytesIO(full[:-100]))
    with pytest.raises(WavFormatError, match="truncated"):
        read_wav(io.BytesIO(full[:-1]))
    frames = []
    with pytest.raises(WavFormatError, match="truncated"):
        for frame in iter_wav_frames(io.BytesIO(full[:-100]), samples_per_frame=20):
            frames.append(frame)
    assert sum(f.samples_per_channel for f in frames) == 40  # intact frames came first


def test_truncated_header_and_not_a_wav(tmp_path: Path) -> None:
    full = wav_bytes(b"\x00" * 40)
    with pytest.raises(WavFormatError, match="truncated"):
        read_wav(io.BytesIO(full[:30]))
    with pytest.raises(WavFormatError, match="fmt or data chunk is missing"):
        read_wav(io.BytesIO(full[:36]))
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello, this is not audio at all")
    with pytest.raises(WavFormatError, match=r"notes\.txt: not a WAV file"):
        read_wav(path)
    with pytest.raises(ValueError):  # WavFormatError is a ValueError
        read_wav(io.BytesIO(b""))


def test_streaming_placeholder_size_reads_to_end_of_file() -> None:
    pcm = np.arange(-50, 50, dtype="<i2").tobytes()
    data = wav_bytes(pcm, data_size=0x7FFFF000)  # what espeak-ng --stdout writes
    assert read_wav(io.BytesIO(data))[2][:, 0].tolist() == list(range(-50, 50))
    frames = list(iter_wav_frames(io.BytesIO(data), samples_per_frame=30))
    assert [f.samples_per_channel for f in frames] == [30, 30, 30, 10]


def test_invalid_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="samples_per_frame"):
        next(iter_wav_frames(tmp_path / "x.wav", samples_per_frame=0))
    with pytest.raises(ValueError, match="frame_duration"):
        next(iter_wav_frames(tmp_path / "x.wav", frame_duration=0))
    with pytest.raises(ValueError, match="sample_rate"):
        WavWriter(tmp_path / "x.wav", 0)


def extensible(sub_format: int, bits: int, data: bytes, channels: int = 3) -> bytes:
    guid_tail = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    extra = struct.pack("<HHIH", 22, bits, 0x7, sub_format) + guid_tail
    return wav_bytes(data, channels=channels, bits=bits, tag=0xFFFE, extra_fmt=extra)


def test_extensible_pcm16_is_read(tmp_path: Path) -> None:
    pcm = np.arange(-30, 30, dtype=np.int16).reshape(-1, 3)
    path = tmp_path / "surround.wav"  # what ffmpeg/sox write for more than two channels
    path.write_bytes(extensible(1, 16, pcm.astype("<i2").tobytes()))
    rate, channels, samples = read_wav(path)
    assert (rate, channels) == (16_000, 3)
    assert np.array_equal(samples, pcm)
    frames = list(iter_wav_frames(path, samples_per_frame=8))
    assert [f.samples_per_channel for f in frames] == [8, 8, 4]


@pytest.mark.parametrize(
    ("sub_format", "bits", "match"),
    [(3, 32, "EXTENSIBLE with 32/64-bit IEEE float"), (1, 24, "EXTENSIBLE with 24-bit PCM")],
)
def test_extensible_other_formats_are_refused(sub_format: int, bits: int, match: str) -> None:
    with pytest.raises(WavFormatError, match=match):
        read_wav(io.BytesIO(extensible(sub_format, bits, b"\x00" * 90)))


def test_wav_info_reads_the_header_only(tmp_path: Path) -> None:
    path = tmp_path / "info.wav"
    write_wav(path, tone(440.0, 0.5, 22_050, num_channels=2))
    info = wav_info(path)
    assert (info.sample_rate, info.num_channels, info.samples_per_channel) == (22_050, 2, 11_025)
    assert info.duration == pytest.approx(0.5)
    stream = io.BytesIO(wav_bytes(b"\x00" * 8, data_size=0x7FFFF000))
    assert wav_info(stream).samples_per_channel is None  # placeholder: unknown length
    assert stream.tell() == 0  # left where it was
    assert len(read_wav(stream)[2]) == 4
    with pytest.raises(WavFormatError, match="24-bit"):
        wav_info(io.BytesIO(wav_bytes(b"\x00" * 9, bits=24)))
