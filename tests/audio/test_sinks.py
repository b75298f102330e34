"""Memory and WAV sinks: what they keep, their format checks, their pacing flag.

Rules: virtual time (`autojump_clock`) where time matters; files in tmp_path.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
import trio

from voxtrio.audio.frame import AudioFrame
from voxtrio.audio.sinks import MemorySink, SinkFormatError, SinkNotOpen, WavFileSink
from voxtrio.audio.wav import read_wav


def frame(value: int, n: int = 160, rate: int = 8_000, channels: int = 1) -> AudioFrame:
    return AudioFrame.from_array(np.full(n * channels, value, np.int16), rate, channels)


async def test_memory_sink_keeps_frames_with_trio_times(
    autojump_clock: trio.testing.MockClock,
) -> None:
    sink = MemorySink()
    assert sink.paced and sink.sample_rate is None
    async with sink:
        await sink.write(frame(1))
        await trio.sleep(0.5)
        await sink.write(frame(2, n=80))
    assert sink.sample_rate == 8_000  # adopted from the first frame
    assert [round(t, 6) for t, _ in sink.heard] == [0.0, 0.5]
    assert sink.samples().shape == (240, 1)
    assert sink.samples()[:160, 0].tolist() == [1] * 160
    assert sink.num_samples == 240
    assert sink.duration == pytest.approx(0.03)
    assert sink.statistics().frames == 2


async def test_sink_refuses_other_rates_and_channels_with_a_hint() -> None:
    async with MemorySink(sample_rate=8_000) as sink:
        with pytest.raises(SinkFormatError, match="8000 Hz.*16000 Hz.*resample"):
            await sink.write(frame(0, rate=16_000))
        with pytest.raises(SinkFormatError, match="channel"):
            await sink.write(frame(0, channels=2))
        assert sink.num_samples == 0


async def test_writing_a_closed_or_unopened_sink_fails_clearly() -> None:
    sink = MemorySink(sample_rate=8_000)
    with pytest.raises(SinkNotOpen, match="async with"):
        await sink.write(frame(0))
    async with sink:
        pass
    with pytest.raises(SinkNotOpen):
        await sink.write(frame(0))


async def test_wav_sink_writes_a_valid_file_unpaced(tmp_path: Path) -> None:
    path = tmp_path / "out.wav"
    sink = WavFileSink(path)
    assert not sink.paced
    async with sink:
        for k in range(5):
            await sink.write(frame(k, rate=22_050))
    rate, channels, samples = read_wav(path)
    assert (rate, channels) == (22_050, 1)
    assert samples[:, 0].tolist() == [k for k in range(5) for _ in range(160)]


async def test_wav_sink_with_no_audio_leaves_an_empty_valid_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    async with WavFileSink(path, sample_rate=16_000):
        pass
    with wave.open(str(path), "rb") as w:
        assert (w.getframerate(), w.getnframes()) == (16_000, 0)


async def test_reopened_wav_sink_appends(tmp_path: Path) -> None:
    path = tmp_path / "again.wav"
    sink = WavFileSink(path, sample_rate=8_000)
    async with sink:
        await sink.write(frame(1))
    async with sink:  # a supervisor restarted the playout
        await sink.write(frame(2))
    _, _, samples = read_wav(path)
    assert samples[:, 0].tolist() == [1] * 160 + [2] * 160
