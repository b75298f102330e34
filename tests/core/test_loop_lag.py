"""LoopLagMonitor: lateness of trio wake-ups, on virtual time and (one test) real time.

Real-time tests bound every wait with `trio.fail_after` and block the loop with a busy
CPU loop of known duration (never time.sleep).
"""

from __future__ import annotations

import time

import pytest
import trio
import trio.testing

from voxtrio.core.actor import spawn
from voxtrio.core.loop_lag import (
    LoopLagMonitor,
    LoopLagStatistics,
    _percentile,
    open_loop_lag_monitor,
)


def _busy(seconds: float) -> None:
    """Hold the trio thread for `seconds` of real time (what a blocking call would do)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert _percentile(values, 0.5) == 50.0
    assert _percentile(values, 0.99) == 99.0
    assert _percentile([3.0], 0.99) == 3.0
    assert _percentile([], 0.5) == 0.0


def test_arguments_are_validated() -> None:
    with pytest.raises(ValueError, match="interval"):
        LoopLagMonitor(interval=0)
    with pytest.raises(ValueError, match="window"):
        LoopLagMonitor(window=0)


async def test_idle_loop_on_virtual_time_has_zero_lag(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_loop_lag_monitor(interval=0.01) as monitor:
        await trio.sleep(1.0)
        stats = monitor.statistics()
    assert stats.samples == pytest.approx(100, abs=1)
    assert stats.max == 0.0 and stats.p99 == 0.0


async def test_a_stalled_clock_shows_up_as_lag(mock_clock: trio.testing.MockClock) -> None:
    # A MockClock without autojump: jumping it while the monitor sleeps is exactly what a
    # task holding the thread for that long looks like to every sleeper.
    clock = mock_clock
    monitor = LoopLagMonitor(interval=0.01, window=100)
    async with trio.open_nursery() as nursery:
        await nursery.start(monitor.run_standalone)
        for _ in range(50):  # 50 on-time samples
            clock.jump(0.01)
            await monitor.wait_samples(1)
        clock.jump(0.01 + 0.25)  # the 51st wakes 250 ms late
        await monitor.wait_samples(1)
        nursery.cancel_scope.cancel()
    stats = monitor.statistics()
    assert stats.total_samples == 51
    assert stats.max == pytest.approx(0.25)
    assert stats.last == pytest.approx(0.25)
    assert stats.p50 == pytest.approx(0.0)
    assert stats.p99 == pytest.approx(0.25)  # 1 of 51 samples is above the 99th rank
    assert stats.max_ever == pytest.approx(0.25)


async def test_window_forgets_old_samples_but_max_ever_remembers(
    mock_clock: trio.testing.MockClock,
) -> None:
    clock = mock_clock
    monitor = LoopLagMonitor(interval=0.01, window=10)
    async with trio.open_nursery() as nursery:
        await nursery.start(monitor.run_standalone)
        clock.jump(0.51)
        await monitor.wait_samples(1)
        for _ in range(10):
            clock.jump(0.01)
            await monitor.wait_samples(1)
        nursery.cancel_scope.cancel()
    stats = monitor.statistics()
    assert stats.samples == 10
    assert stats.max == pytest.approx(0.0)
    assert stats.max_ever == pytest.approx(0.5)
    monitor.reset()
    assert monitor.statistics() == LoopLagStatistics(
        interval=0.01,
        samples=0,
        total_samples=0,
        p50=0.0,
        p99=0.0,
        max=0.0,
        mean=0.0,
        last=0.0,
        max_ever=0.0,
    )


async def test_as_an_actor_it_answers_asks_and_stops(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, LoopLagMonitor(interval=0.05), name="loop_lag")
        await trio.sleep(1.0)
        stats = await ref.ask("statistics", timeout=1.0)
        assert isinstance(stats, LoopLagStatistics)
        assert stats.samples == pytest.approx(20, abs=1)
        assert await ref.ask("reset", timeout=1.0) is None
        with pytest.raises(ValueError, match="statistics"):
            await ref.ask("bogus", timeout=1.0)
        exit = await ref.stop(grace=1.0)
    assert exit is not None and exit.reason == "stopped"


@pytest.mark.realtime
async def test_real_time_blocked_loop_is_detected() -> None:
    with trio.fail_after(10):
        async with open_loop_lag_monitor(interval=0.005, window=500) as monitor:
            await monitor.wait_samples(20)
            idle = monitor.statistics()
            monitor.reset()
            await monitor.wait_samples(2)
            _busy(0.12)  # hold the trio thread for 120 ms
            await monitor.wait_samples(3)
            blocked = monitor.statistics()
    # Idle: timer resolution + one scheduler pass, far below a 20 ms audio frame (loose
    # bounds: a loaded CI machine may preempt the process now and then).
    assert idle.p50 < 0.01, idle
    assert idle.p99 < 0.06, idle
    # Blocked: some sample woke ~115 ms late (120 ms minus what was left of its sleep).
    assert 0.11 <= blocked.max < 1.0, blocked
    assert blocked.p99 == blocked.max  # a handful of samples: the top one is the 99th
