"""WAV and memory sources: frames, pts, real-time pacing on trio's clock.

Rules: everything that waits runs on `autojump_clock` (virtual time); WAV files are
written to pytest's tmp_path with the stdlib `wave` module.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
import trio

from voxtrio.audio.frame import AudioFrame
from voxtrio.audio.sources import MemorySource, SourceNotOpen, WavFileSource
from voxtrio.audio.wav import WavFormatError

RATE = 16_000
# The shared pacer wakes on a 1 ms grid, so a frame may come up to one quantum late.
QUANTUM = 0.001 + 1e-9


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE, width: int = 2) -> Path:
    samples = samples.reshape(samples.shape[0], -1)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(samples.shape[1])
        w.setsampwidth(width)
        w.setframerate(rate)
        if width == 2:
            w.writeframes(samples.astype("<i2").tobytes())
        else:
            w.writeframes((samples.astype(np.int32) // 256 + 128).astype(np.uint8).tobytes())
    return path


def ramp(n: int) -> np.ndarray:
    return (np.arange(n) % 30_000).astype(np.int16)


async def test_ten_second_wav_realtime_delivers_500_frames_on_schedule(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    samples = ramp(10 * RATE)
    path = write_wav(tmp_path / "ten.wav", samples)
    arrivals: list[tuple[float, AudioFrame]] = []
    async with WavFileSource(path, realtime=True, frame_duration=0.02) as source:
        t0 = trio.current_time()
        async for frame in source:
            arrivals.append((trio.current_time(), frame))
        ended_at = trio.current_time()

    assert len(arrivals) == 500
    for k, (at, frame) in enumerate(arrivals):
        assert frame.samples_per_channel == 320
        assert frame.pts == pytest.approx(k * 0.02, abs=1e-12)
        due = t0 + k * 0.02
        assert due - 1e-9 <= at <= due + QUANTUM, (k, at - due)
    pts = [f.pts for _, f in arrivals]
    assert np.allclose(np.diff(pts), 0.02)
    heard = np.concatenate([f.data[:, 0] for _, f in arrivals])
    assert np.array_equal(heard, samples)
    # The stream ends when its last sample is due: 10 s after the start, no drift.
    assert ended_at == pytest.approx(t0 + 10.0, abs=QUANTUM)


async def test_unpaced_wav_takes_no_virtual_time(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    path = write_wav(tmp_path / "one.wav", ramp(RATE))
    t0 = trio.current_time()
    async with WavFileSource(path, realtime=False) as source:
        frames = [f async for f in source]
    assert trio.current_time() == t0
    assert len(frames) == 50
    assert frames[-1].pts == pytest.approx(0.98)


async def test_late_consumer_catches_up_without_drift(
    autojump_clock: trio.testing.MockClock,
) -> None:
    source = MemorySource(ramp(RATE), sample_rate=RATE, realtime=True)
    times: list[float] = []
    async with source:
        t0 = trio.current_time()
        async for _frame in source:
            times.append(trio.current_time() - t0)
            if len(times) == 10:
                await trio.sleep(0.105)  # falls five frames behind
    # Frames 10..15 were already due: handed out at once, then back on the grid.
    assert times[10] == pytest.approx(0.285, abs=QUANTUM)
    assert times[14] == pytest.approx(0.285, abs=QUANTUM)
    assert times[15] == pytest.approx(0.30, abs=QUANTUM)
    assert times[49] == pytest.approx(0.98, abs=QUANTUM)


async def test_cancelled_read_loses_no_frame(autojump_clock: trio.testing.MockClock) -> None:
    source = MemorySource(ramp(RATE // 10), sample_rate=RATE, realtime=True)
    async with source:
        first = await source.read()
        with trio.move_on_after(0.005):
            await source.read()  # frame 1 is due at 0.02: cancelled while waiting
        second = await source.read()
    assert first is not None and second is not None
    assert second.pts == pytest.approx(0.02)
    assert second.data[0, 0] == 320


async def test_memory_source_from_array_chunks_and_keeps_every_sample() -> None:
    samples = ramp(1234)
    async with MemorySource(samples, sample_rate=8_000, realtime=False) as source:
        frames = [f async for f in source]
    assert [f.samples_per_channel for f in frames] == [160] * 7 + [114]
    assert np.array_equal(np.concatenate([f.data[:, 0] for f in frames]), samples)
    assert [round(f.pts, 6) for f in frames] == [round(k * 0.02, 6) for k in range(8)]


async def test_memory_source_from_frames_restamps_pts() -> None:
    frames = [
        AudioFrame.from_array(np.full(160, k, np.int16), RATE, pts=99.0) for k in range(3)
    ] + [AudioFrame.from_array(np.full(80, 7, np.int16), RATE, pts=5.0)]
    async with MemorySource(frames, realtime=False) as source:
        out = [f async for f in source]
    assert [f.pts for f in out] == [0.0, 0.01, 0.02, 0.03]
    assert [int(f.data[0, 0]) for f in out] == [0, 1, 2, 7]


async def test_stereo_wav_frames_keep_channels(tmp_path: Path) -> None:
    stereo = np.stack([ramp(800), -ramp(800)], axis=1)
    path = write_wav(tmp_path / "stereo.wav", stereo)
    source = WavFileSource(path, realtime=False)
    assert (source.sample_rate, source.num_channels) == (RATE, 2)
    async with source:
        frames = [f async for f in source]
    assert frames[0].data.shape == (320, 2)
    assert np.array_equal(np.concatenate([f.data for f in frames]), stereo)


def test_source_errors_are_specific(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        WavFileSource(tmp_path / "missing.wav")
    eight_bit = write_wav(tmp_path / "u8.wav", ramp(100), width=1)
    with pytest.raises(WavFormatError, match="16-bit"):
        WavFileSource(eight_bit)
    with pytest.raises(ValueError, match="sample_rate"):
        MemorySource(ramp(10))
    mixed = [
        AudioFrame.from_array(np.zeros(160, np.int16), 16_000),
        AudioFrame.from_array(np.zeros(480, np.int16), 48_000),
    ]
    with pytest.raises(ValueError, match="16000 Hz, then 48000 Hz"):
        MemorySource(mixed)


async def test_reading_an_unopened_source_says_how_to_open_it() -> None:
    source = MemorySource(ramp(320), sample_rate=RATE)
    with pytest.raises(SourceNotOpen, match="async with"):
        await source.read()


async def test_reopened_source_resumes_where_it_stopped(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    path = write_wav(tmp_path / "r.wav", ramp(RATE))
    source = WavFileSource(path)
    async with source:
        first = [await source.read() for _ in range(10)]
    await trio.sleep(5.0)  # a supervisor restarts the mic
    async with source:
        t1 = trio.current_time()
        rest = [f async for f in source]
        ended = trio.current_time()
    frames = [f for f in first + rest if f is not None]
    assert len(frames) == 50
    assert np.array_equal(np.concatenate([f.data[:, 0] for f in frames]), ramp(RATE))
    assert [f.pts for f in frames] == sorted(f.pts for f in frames)
    assert ended - t1 == pytest.approx(0.8, abs=QUANTUM)  # paced again, no burst


async def test_wav_source_reads_pcm16_in_an_extensible_header(tmp_path):
    # WAVE_FORMAT_EXTENSIBLE with a PCM sub-format: what many recorders write.
    import struct

    samples = (np.arange(320) % 100).astype("<i2")
    data = samples.tobytes()
    guid = b"\x01\x00\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    fmt = struct.pack("<HHIIHHHHI", 0xFFFE, 1, 16_000, 32_000, 2, 16, 22, 16, 4) + guid
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path = tmp_path / "ext.wav"
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    source = WavFileSource(path, realtime=False)
    assert (source.sample_rate, source.num_channels) == (16_000, 1)
    async with source:
        frames = [frame async for frame in source]
    assert np.array_equal(np.concatenate([f.data[:, 0] for f in frames]), samples)
