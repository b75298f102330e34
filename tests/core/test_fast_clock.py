"""FastForwardClock: idle waits cost nothing, held real work keeps its real duration.

These run `trio.run(..., clock=FastForwardClock())` themselves (sync tests); the real
waits are short thread sleeps, every run is bounded by the held-work timeouts below.
"""

from __future__ import annotations

import time

import pytest
import trio

from voxtrio.core.fast_clock import ClockHold, FastForwardClock, real_work


def run_fast(async_fn) -> tuple[object, float, FastForwardClock]:
    clock = FastForwardClock()
    started = time.perf_counter()
    result = trio.run(async_fn, clock=clock)
    return result, time.perf_counter() - started, clock


def test_an_hour_of_idle_waiting_takes_no_real_time() -> None:
    async def main() -> list[float]:
        seen = []
        for _ in range(3):
            await trio.sleep(1200)
            seen.append(trio.current_time())
        return seen

    seen, took, clock = run_fast(main)
    assert took < 1.0
    assert seen[-1] >= 3600 and clock.skipped >= 3599
    # Each jump lands on the deadline (plus the little real time that passed).
    assert all(abs(t - 1200 * (i + 1)) < 0.5 for i, t in enumerate(seen))


def test_held_work_is_not_skipped_so_timers_stay_behind_it() -> None:
    # A worker answers after 0.2 real seconds; a 1 s timer started with it must not
    # fire first only because every task looked blocked. Unheld, it does: that is
    # the skipped-work bug this clock exists to avoid.
    async def main(hold: bool) -> tuple[list[str], float]:
        order: list[str] = []

        async def worker() -> None:
            if hold:
                with real_work():
                    await trio.to_thread.run_sync(time.sleep, 0.2)
            else:
                await trio.to_thread.run_sync(time.sleep, 0.2)
            order.append("answer")

        async def timer() -> None:
            await trio.sleep(1.0)
            order.append("timeout")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(worker)
            nursery.start_soon(timer)
        return order, trio.current_time()

    (held, end), took, clock = run_fast(lambda: main(True))
    assert held == ["answer", "timeout"]
    assert 0.2 <= took < 0.9 and end >= 1.0 and clock.skipped > 0.1  # the rest was skipped
    (unheld, _), _, _ = run_fast(lambda: main(False))
    assert unheld == ["timeout", "answer"]


def test_a_timeout_does_not_fire_while_work_is_held() -> None:
    async def main() -> float:
        with trio.fail_after(0.5), real_work():
            await trio.to_thread.run_sync(time.sleep, 0.2)
        return trio.current_time()

    now, took, clock = run_fast(main)
    assert 0.2 <= now < 0.5 and took >= 0.2
    assert clock.holds == 0


def test_time_passes_at_the_real_rate_while_held() -> None:
    async def main() -> tuple[float, float]:
        with real_work():
            start = trio.current_time()
            await trio.sleep(0.2)  # nothing jumps: a real 0.2 s
            return start, trio.current_time()

    (start, end), took, clock = run_fast(main)
    assert 0.2 <= end - start < 0.4 and took >= 0.2
    assert clock.skipped < 0.01


def test_counted_holds_release_what_they_took() -> None:
    async def main() -> list[int]:
        clock = trio.lowlevel.current_clock()
        assert isinstance(clock, FastForwardClock)
        hold = ClockHold()
        hold.add(3)
        counts = [clock.holds]
        hold.done()
        counts.append(clock.holds)
        hold.done(5)  # a late acknowledgement beyond what is held is ignored
        counts.append(clock.holds)
        hold.add()
        hold.release_all()
        counts.append(clock.holds)
        with pytest.raises(RuntimeError, match="released 1 holds but only 0"):
            clock.release()
        return counts

    counts, _, _ = run_fast(main)
    assert counts == [3, 2, 0, 0]


async def test_holds_are_no_ops_on_other_clocks(autojump_clock) -> None:
    hold = ClockHold()
    hold.add(2)
    with real_work():
        await trio.sleep(10)  # MockClock still jumps: nothing here touches it
    hold.release_all()
    assert trio.current_time() >= 10 and hold.count == 0


def test_holds_outside_trio_are_no_ops() -> None:
    with real_work():
        hold = ClockHold()
        hold.add()
        hold.done()
        assert hold.count == 0
