"""How late the trio scheduler runs a task that asked to wake at a given time.

    async with open_loop_lag_monitor(interval=0.01) as monitor:
        ...                                   # run the sessions
        stats = monitor.statistics()          # LoopLagStatistics(p50=..., p99=..., max=...)

    # or in a nursery of your own:
    monitor = LoopLagMonitor(interval=0.01, window=1000)
    await nursery.start(monitor.run_standalone)

    # or as an actor (under a Supervisor: ChildSpec("loop_lag", LoopLagMonitor)):
    ref = await spawn(nursery, LoopLagMonitor(), name="loop_lag")
    stats = await ref.ask("statistics")       # ask("reset") clears the window

The monitor sleeps until `now + interval` on trio's clock, over and over, and records by
how much it woke after that deadline. That lateness is what every timer in the process
suffers at the same moment: a callback that holds the thread for 80 ms (CPU work on the
trio thread, a blocking call) shows up as a sample of about 80 ms, and a loop that is
merely busy shows up as a rising p99. With nothing else running the lateness is the
timer's resolution plus one scheduler pass (well under a millisecond on Linux).

`statistics()` summarises the last `window` samples (p50, p99, max, mean, count; the
all-time maximum is kept separately until `reset()`). It reads trio's clock only
(`trio.current_time()`), so under a `MockClock` a test can fake a blocked loop by
jumping the clock.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import attrs
import trio

from voxtrio.core.actor import Actor, ActorContext, Ask

__all__ = ["LoopLagMonitor", "LoopLagStatistics", "open_loop_lag_monitor"]


@attrs.frozen(slots=True)
class LoopLagStatistics:
    """Scheduling lateness in seconds over the last `samples` samples.

    `p50`/`p99`/`max`/`mean` cover the window (0.0 before the first sample);
    `max_ever` and `total_samples` cover everything since start or `reset()`.
    """

    interval: float
    samples: int
    total_samples: int
    p50: float
    p99: float
    max: float
    mean: float
    last: float
    max_ever: float


class LoopLagMonitor(Actor):
    """Samples trio scheduling lateness every `interval` seconds (see the module docstring).

    Run it with `await nursery.start(monitor.run_standalone)`, `async with
    open_loop_lag_monitor()`, or as an actor. Standalone it samples until cancelled; as an
    actor it stops on `Stop` and answers `ask("statistics")` (a `LoopLagStatistics`) and
    `ask("reset")` (None).
    """

    def __init__(self, *, interval: float = 0.01, window: int = 1000) -> None:
        if not interval > 0:
            raise ValueError(f"interval must be > 0 seconds: got {interval}")
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ValueError(f"window must be a positive int: got {window!r}")
        self._interval = float(interval)
        self._samples: deque[float] = deque(maxlen=window)
        self._total = 0
        self._max_ever = 0.0
        self._sampled = trio.Event()

    @property
    def interval(self) -> float:
        """Seconds between the end of one sample and the deadline of the next."""
        return self._interval

    def statistics(self) -> LoopLagStatistics:
        """A snapshot of the lateness figures (cheap: sorts at most `window` floats)."""
        ordered = sorted(self._samples)
        count = len(ordered)
        return LoopLagStatistics(
            interval=self._interval,
            samples=count,
            total_samples=self._total,
            p50=_percentile(ordered, 0.50),
            p99=_percentile(ordered, 0.99),
            max=ordered[-1] if ordered else 0.0,
            mean=math.fsum(ordered) / count if count else 0.0,
            last=self._samples[-1] if count else 0.0,
            max_ever=self._max_ever,
        )

    def reset(self) -> None:
        """Forget every sample (e.g. after warm-up, before a measurement)."""
        self._samples.clear()
        self._total = 0
        self._max_ever = 0.0

    async def wait_samples(self, count: int = 1) -> None:
        """Wait until `count` more samples have been recorded."""
        for _ in range(count):
            await self._sampled.wait()

    async def run(self, ctx: ActorContext | None = None) -> None:
        """Actor body: sample while serving asks, until `Stop`; without `ctx`, until cancelled."""
        if ctx is None:
            await self._sample_forever()
            return
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._sample_forever, name="loop lag sampler")
            ctx.started(self)
            async for message in ctx.messages():
                self._handle(ctx, message)
            nursery.cancel_scope.cancel()

    async def run_standalone(
        self, *, task_status: trio.TaskStatus[LoopLagMonitor] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """`await nursery.start(monitor.run_standalone)`: samples until cancelled."""
        task_status.started(self)
        await self._sample_forever()

    async def _sample_forever(self) -> None:
        interval = self._interval
        while True:
            deadline = trio.current_time() + interval
            await trio.sleep_until(deadline)
            self._record(trio.current_time() - deadline)

    def _handle(self, ctx: ActorContext, message: object) -> None:
        if not isinstance(message, Ask):
            ctx.log.warning("loop lag monitor ignores %r: use ask('statistics')", message)
        elif message.message == "statistics":
            message.reply(self.statistics())
        elif message.message == "reset":
            self.reset()
            message.reply(None)
        else:
            message.fail(
                ValueError(
                    f"loop lag monitor answers 'statistics' and 'reset': got {message.message!r}"
                )
            )

    def _record(self, lag: float) -> None:
        lag = max(lag, 0.0)
        self._samples.append(lag)
        self._total += 1
        if lag > self._max_ever:
            self._max_ever = lag
        sampled, self._sampled = self._sampled, trio.Event()
        sampled.set()


@asynccontextmanager
async def open_loop_lag_monitor(
    *, interval: float = 0.01, window: int = 1000
) -> AsyncIterator[LoopLagMonitor]:
    """Run a `LoopLagMonitor` for the duration of the block."""
    monitor = LoopLagMonitor(interval=interval, window=window)
    async with trio.open_nursery() as nursery:
        await nursery.start(monitor.run_standalone)
        try:
            yield monitor
        finally:
            nursery.cancel_scope.cancel()


def _percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list; 0.0 when empty."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]
