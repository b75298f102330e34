"""MicReader: readiness, end of stream, drop-oldest under a slow consumer, stop.

Rules: virtual time (`autojump_clock`) throughout; sources are in memory.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest
import trio

from voxtrio.actors.messages_audio import EVENT_MIC_FRAMES_DROPPED, MicFramesDropped
from voxtrio.actors.mic import MicReader, open_frame_mailbox
from voxtrio.audio import devices
from voxtrio.audio.devices import PortAudioMissing
from voxtrio.audio.sources import DeviceSource, MemorySource
from voxtrio.core.actor import spawn
from voxtrio.core.emitter import EventEmitter

RATE = 16_000


def numbered_source(seconds: float, *, realtime: bool = True) -> MemorySource:
    """Frame k holds the value k in every sample, so tests can tell frames apart."""
    n = round(seconds / 0.02)
    samples = np.repeat(np.arange(n, dtype=np.int16), 320)
    return MemorySource(samples, sample_rate=RATE, realtime=realtime)


async def test_mic_delivers_every_frame_then_ends_the_stream(
    autojump_clock: trio.testing.MockClock,
) -> None:
    mic = MicReader(numbered_source(1.0))
    async with trio.open_nursery() as nursery:
        t0 = trio.current_time()
        await spawn(nursery, mic, name="mic")
        got = []
        async for frame in mic.frames:  # ends when the mic closes its output
            got.append((trio.current_time() - t0, frame))
    assert [int(f.data[0, 0]) for _, f in got] == list(range(50))
    assert got[-1][0] == pytest.approx(0.98, abs=0.0011)  # paced in real time
    stats = mic.statistics()
    assert (stats.frames_read, stats.frames_sent, stats.frames_dropped) == (50, 50, 0)


async def test_slow_consumer_loses_the_oldest_frames_and_they_are_counted(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    emitter = EventEmitter()
    reports: list[MicFramesDropped] = []
    emitter.on(EVENT_MIC_FRAMES_DROPPED, reports.append)
    mic = MicReader(numbered_source(2.0), capacity=10, emitter=emitter)
    received: list[int] = []
    with caplog.at_level(logging.WARNING, logger="voxtrio.actors.mic"):
        async with trio.open_nursery() as nursery:
            await spawn(nursery, mic, name="mic")
            async for frame in mic.frames:
                received.append(int(frame.data[0, 0]))
                await trio.sleep(0.1)  # five times slower than the mic

    assert received == sorted(set(received))  # in order, no duplicates
    assert received[-10:] == list(range(90, 100))  # the newest frames all survived
    dropped = 100 - len(received)
    assert dropped > 50
    stats = mic.statistics()
    assert stats.frames_read == 100 and stats.frames_dropped == dropped
    assert mic.frames.statistics().dropped == dropped
    # Reported, rate-limited: events add up to the total, and a warning was logged.
    assert sum(r.dropped for r in reports) == dropped and reports[-1].total == dropped
    assert 1 < len(reports) <= 3
    assert any("dropped" in rec.getMessage() for rec in caplog.records)


async def test_stop_ends_the_mic_early_without_closing_a_shared_output(
    autojump_clock: trio.testing.MockClock,
) -> None:
    tx, rx = open_frame_mailbox(100)
    mic = MicReader(numbered_source(10.0), tx)
    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, mic, name="mic")
        await trio.sleep(0.5)
        exit = await ref.stop(grace=1.0)
    assert exit is not None and exit.reason == "stopped"
    assert trio.current_time() < 1.0
    assert 20 <= mic.statistics().frames_read <= 27
    assert rx.statistics().open_senders == 1  # another incarnation could keep sending


async def test_mic_stops_quietly_when_the_consumer_goes_away(
    autojump_clock: trio.testing.MockClock,
) -> None:
    mic = MicReader(numbered_source(10.0))
    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, mic, name="mic")
        await mic.frames.receive()
        mic.frames.close()
        exit = await ref.wait_exit()
    assert exit is not None and exit.reason == "normal"
    assert trio.current_time() < 0.1


async def test_mic_that_cannot_open_its_source_fails_at_spawn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_portaudio(name: str) -> Any:
        raise OSError("PortAudio library not found")

    monkeypatch.setattr(devices, "_import_module", no_portaudio)
    async with trio.open_nursery() as nursery:
        with pytest.raises(PortAudioMissing, match="libportaudio2"):
            await spawn(nursery, MicReader(DeviceSource()), name="mic")
