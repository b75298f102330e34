"""Shared pacing (`voxtrio.core.pacing`): accuracy on virtual time, batching on the quantum
grid, cancellation, and the pacer's lifetime. All on `autojump_clock` except one bounded
real-time check."""

from __future__ import annotations

import math

import pytest
import trio
import trio.testing

from voxtrio.core import pacing
from voxtrio.core.pacing import get_quantum, set_quantum, sleep, sleep_until


async def test_ten_seconds_of_20ms_pacing_wakes_each_sleeper_on_time(
    autojump_clock: trio.testing.MockClock,
) -> None:
    quantum = get_quantum()
    lateness: list[float] = []
    start = trio.current_time()

    async def source(offset: float) -> None:
        next_at = start + offset
        for _ in range(500):
            next_at += 0.020
            await sleep_until(next_at)
            late = trio.current_time() - next_at
            lateness.append(late)

    async with trio.open_nursery() as nursery:
        for k in range(20):
            nursery.start_soon(source, k * 0.00077)
    assert len(lateness) == 20 * 500
    assert min(lateness) >= 0.0  # never early
    assert max(lateness) <= quantum + 1e-9
    assert trio.current_time() - start == pytest.approx(10.0 + 19 * 0.00077, abs=2 * quantum)


async def test_deadlines_in_one_quantum_share_one_wake_up(
    autojump_clock: trio.testing.MockClock,
) -> None:
    set_quantum(0.010)
    base = math.ceil(trio.current_time() / 0.010) * 0.010 + 0.100
    woke: dict[int, float] = {}

    async def sleeper(k: int) -> None:
        await sleep_until(base + 0.001 + k * 0.001)
        woke[k] = trio.current_time()

    async with trio.open_nursery() as nursery:
        for k in range(9):  # deadlines base+1 ms .. base+9 ms: one 10 ms slot
            nursery.start_soon(sleeper, k)
    assert len(set(woke.values())) == 1
    assert next(iter(woke.values())) == pytest.approx(base + 0.010)


async def test_earlier_deadline_registered_later_is_not_delayed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    start = trio.current_time()
    woke: dict[str, float] = {}

    async def sleeper(name: str, delay: float) -> None:
        await sleep_until(start + delay)
        woke[name] = trio.current_time() - start

    async with trio.open_nursery() as nursery:
        nursery.start_soon(sleeper, "late", 10.0)
        await trio.testing.wait_all_tasks_blocked()
        nursery.start_soon(sleeper, "early", 1.0)
    assert woke["early"] == pytest.approx(1.0, abs=0.0011)
    assert woke["late"] == pytest.approx(10.0, abs=0.0011)


async def test_cancelled_sleeper_is_removed_and_others_still_wake(
    autojump_clock: trio.testing.MockClock,
) -> None:
    start = trio.current_time()
    woke: list[float] = []

    async def sleeper() -> None:
        await sleep_until(start + 2.0)
        woke.append(trio.current_time() - start)

    with trio.move_on_after(0.5) as scope:
        await sleep_until(start + 2.0)
    assert scope.cancelled_caught
    assert trio.current_time() - start == pytest.approx(0.5)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(sleeper)
        nursery.start_soon(sleeper)
    assert woke == [pytest.approx(2.0, abs=0.0011)] * 2
    # Sleeping again after a cancellation works normally.
    await sleep(0.25)
    assert trio.current_time() - start == pytest.approx(2.25, abs=0.0021)


async def test_cancelling_every_sleeper_of_a_slot(autojump_clock: trio.testing.MockClock) -> None:
    start = trio.current_time()
    async with trio.open_nursery() as nursery:
        for _ in range(5):
            nursery.start_soon(sleep_until, start + 3.0)
        await trio.sleep(1.0)
        nursery.cancel_scope.cancel()
    assert trio.current_time() - start == pytest.approx(1.0)
    await sleep(1.0)
    assert trio.current_time() - start == pytest.approx(2.0, abs=0.0011)


async def test_past_deadline_still_checkpoints() -> None:
    await sleep_until(trio.current_time() - 1)  # returns at once
    with trio.CancelScope() as scope:
        scope.cancel()
        with pytest.raises(trio.Cancelled):
            await sleep_until(trio.current_time() - 1)
        with pytest.raises(trio.Cancelled):
            await sleep(0)


async def test_infinite_deadline_sleeps_until_cancelled(
    autojump_clock: trio.testing.MockClock,
) -> None:
    start = trio.current_time()
    with trio.move_on_after(3.0) as scope:
        await sleep_until(math.inf)
    assert scope.cancelled_caught
    assert trio.current_time() - start == pytest.approx(3.0)


async def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        await sleep(-1)
    with pytest.raises(ValueError, match="NaN"):
        await sleep_until(math.nan)
    with pytest.raises(ValueError, match="positive"):
        set_quantum(0)
    with pytest.raises(ValueError, match="positive"):
        set_quantum(math.inf)


def test_pacer_is_per_run_and_never_outlives_it() -> None:
    """Each trio.run gets its own pacer (a system task) and the run ends normally with
    it; a second run does not see the first run's state."""
    seen: list[object] = []

    async def main(quantum: float | None) -> None:
        if quantum is not None:
            set_quantum(quantum)
        seen.append(pacing._pacer())
        assert get_quantum() == (quantum or pacing.DEFAULT_QUANTUM)
        await sleep(0.5)
        pacer = pacing._pacer()
        assert pacer.task is not None and "pacer" in pacer.task.name
        assert pacer.task.coro.cr_frame is not None  # alive during the run

    clock = trio.testing.MockClock(autojump_threshold=0)
    trio.run(main, 0.005, clock=clock)
    trio.run(main, None, clock=trio.testing.MockClock(autojump_threshold=0))
    assert len(seen) == 2 and seen[0] is not seen[1]
    for pacer in seen:
        task = pacer.task  # type: ignore[attr-defined]
        assert task.coro.cr_frame is None  # finished with its run


async def test_real_time_sleep_is_accurate() -> None:
    with trio.fail_after(5):
        for _ in range(5):
            start = trio.current_time()
            await sleep(0.02)
            elapsed = trio.current_time() - start
            assert elapsed >= 0.02
            assert elapsed < 0.02 + 0.015  # one quantum plus generous scheduling slack
