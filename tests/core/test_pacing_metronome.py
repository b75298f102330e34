"""`Metronome`: many periodic callbacks driven by one task, on virtual time."""

from __future__ import annotations

import math

import pytest
import trio
import trio.testing

from voxtrio.core.mailbox import open_mailbox
from voxtrio.core.pacing import Metronome, get_quantum


async def test_jobs_run_on_their_own_grids(autojump_clock: trio.testing.MockClock) -> None:
    calls: dict[str, list[tuple[float, float]]] = {"a": [], "b": []}
    start = trio.current_time()
    async with trio.open_nursery() as nursery:
        metronome = Metronome()
        nursery.start_soon(metronome.run)
        metronome.every(0.020, lambda s: calls["a"].append((s, trio.current_time())), start=start)
        metronome.every(
            0.030, lambda s: calls["b"].append((s, trio.current_time())), start=start + 0.005
        )
        await trio.sleep(3.0)
        nursery.cancel_scope.cancel()
    a = [s for s, _ in calls["a"]]
    b = [s for s, _ in calls["b"]]
    assert a[:3] == pytest.approx([start, start + 0.02, start + 0.04])
    assert len(a) == pytest.approx(150, abs=1) and len(b) == pytest.approx(100, abs=1)
    assert b[1] - b[0] == pytest.approx(0.030)
    for scheduled, at in calls["a"] + calls["b"]:
        assert 0 <= at - scheduled <= get_quantum() + 1e-9


async def test_full_mailbox_is_retried_without_skipping(
    autojump_clock: trio.testing.MockClock,
) -> None:
    tx, rx = open_mailbox(2)
    got: list[int] = []
    counter = iter(range(1000))

    def feed(_: float) -> None:
        # Only consumes a number when the mailbox accepts it: nothing is skipped.
        if tx.statistics().buffered >= 2:
            raise trio.WouldBlock
        tx.send_nowait(next(counter))

    async def slow_consumer() -> None:
        async for m in rx:
            got.append(m)
            await trio.sleep(0.05)  # slower than the 20 ms feed

    async with trio.open_nursery() as nursery:
        metronome = Metronome()
        nursery.start_soon(metronome.run)
        nursery.start_soon(slow_consumer)
        metronome.every(0.020, feed)
        await trio.sleep(1.0)
        nursery.cancel_scope.cancel()
    assert got == list(range(len(got)))
    assert len(got) >= 15
    assert rx.statistics().dropped == 0


async def test_late_job_catches_up_in_order(autojump_clock: trio.testing.MockClock) -> None:
    seen: list[float] = []
    start = trio.current_time()
    metronome = Metronome()
    metronome.every(0.010, seen.append, start=start)
    await trio.sleep(0.1)  # the metronome is not running yet: 11 calls are due
    async with trio.open_nursery() as nursery:
        nursery.start_soon(metronome.run)
        await trio.sleep(0.0005)
        nursery.cancel_scope.cancel()
    assert seen == pytest.approx([start + 0.01 * k for k in range(11)])


async def test_cancelled_job_stops(autojump_clock: trio.testing.MockClock) -> None:
    seen: list[float] = []
    async with trio.open_nursery() as nursery:
        metronome = Metronome()
        nursery.start_soon(metronome.run)
        job = metronome.every(0.010, seen.append)
        await trio.sleep(0.1)
        job.cancel()
        count = len(seen)
        assert metronome.jobs == 0
        await trio.sleep(0.1)
        nursery.cancel_scope.cancel()
    assert len(seen) == count >= 9


async def test_new_earlier_job_wakes_a_sleeping_metronome(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seen: list[tuple[str, float]] = []
    start = trio.current_time()
    async with trio.open_nursery() as nursery:
        metronome = Metronome()
        nursery.start_soon(metronome.run)
        metronome.every(10.0, lambda s: seen.append(("slow", trio.current_time() - start)))
        await trio.sleep(1.0)
        metronome.every(
            0.5, lambda s: seen.append(("fast", trio.current_time() - start)), start=start + 1.5
        )
        await trio.sleep(1.1)
        nursery.cancel_scope.cancel()
    assert [name for name, _ in seen] == ["fast", "fast"]
    assert seen[0][1] == pytest.approx(1.5, abs=0.0011)


async def test_callback_error_ends_run(autojump_clock: trio.testing.MockClock) -> None:
    def boom(_: float) -> None:
        raise RuntimeError("callback failed")

    metronome = Metronome()
    metronome.every(0.02, boom)
    with pytest.raises(RuntimeError, match="callback failed"):
        await metronome.run()


def test_invalid_period() -> None:
    metronome = Metronome()
    for period in (0, -1, math.inf, math.nan):
        with pytest.raises(ValueError, match="period"):
            metronome.every(period, print, start=0.0)
