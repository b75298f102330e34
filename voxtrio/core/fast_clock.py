"""A trio clock that skips idle time but never the real work in flight.

    trio.run(main, clock=FastForwardClock())     # `voxtrio run --fast`

    with real_work():                            # in an engine: a decode in a worker
        reply = await worker.request("decode", ...)

A conversation fed from a file spends most of its time waiting: for the next 20 ms
frame, for the endpointing delay, for the playout. `MockClock(autojump_threshold=0)`
would skip those waits, but it also skips the time a worker process or a thread needs
to answer (trio sees every task blocked and jumps to the next deadline), so an engine's
reply arrives after its timeout has fired, "in the future". This clock tells the two
apart: code that waits for real work (a worker process, a thread, a network peer)
holds the clock with `real_work()` (or a counted `ClockHold`). While anything is held,
time passes at the real rate; when nothing is held and no task can run, the clock
jumps to the next deadline.

So latencies measured on it are honest: engine work counts at its real duration, idle
waits cost nothing. Outside a run on this clock, `real_work()` and `ClockHold` do
nothing, so engines call them unconditionally.

Work that does not hold the clock is skipped over like idle time: a blocking wait
that nobody declared can see its timeout fire early.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager

import trio

__all__ = ["ClockHold", "FastForwardClock", "real_work"]


class FastForwardClock(trio.abc.Clock):
    """Real time while work is held; a jump to the next deadline when all is idle.

    `skipped` is the total time jumped over (virtual seconds that cost no real time).
    """

    def __init__(self) -> None:
        self._real_start = 0.0
        self._offset = 0.0
        self._holds = 0
        # The deadline we last returned 0 for while idle: trio then polls I/O once
        # without blocking; if it asks again, nothing arrived and the jump is safe.
        self._primed: float | None = None
        self.skipped = 0.0

    def start_clock(self) -> None:
        self._real_start = time.perf_counter()  # wall-clock ok: this is the clock

    def current_time(self) -> float:
        return self._offset + (time.perf_counter() - self._real_start)  # wall-clock ok

    def deadline_to_sleep_time(self, deadline: float) -> float:
        # trio asks this only when no task is runnable: the moment to skip ahead.
        gap = deadline - self.current_time()
        if gap <= 0:
            return 0.0
        if self._holds or math.isinf(deadline):
            self._primed = None
            return gap
        if self._primed != deadline:
            self._primed = deadline
            return 0.0
        self._primed = None
        self._offset += gap
        self.skipped += gap
        return 0.0

    @property
    def holds(self) -> int:
        """How many pieces of real work are in flight now."""
        return self._holds

    def hold(self, count: int = 1) -> None:
        self._holds += count
        self._primed = None

    def release(self, count: int = 1) -> None:
        if count > self._holds:
            raise RuntimeError(
                f"FastForwardClock released {count} holds but only {self._holds} are held"
            )
        self._holds -= count


def _fast_clock() -> FastForwardClock | None:
    try:
        clock = trio.lowlevel.current_clock()
    except RuntimeError:  # not inside trio.run
        return None
    return clock if isinstance(clock, FastForwardClock) else None


class ClockHold:
    """Counted holds owned by one piece of code (e.g. audio chunks a worker has not decoded).

        hold = ClockHold()
        hold.add()          # sent a chunk
        hold.done()         # the worker says it is processed
        hold.release_all()  # in a finally: whatever happens, give back what we hold

    A no-op unless the current run's clock is a `FastForwardClock`. `done()` beyond
    what was added is ignored (a late acknowledgement after a restart).
    """

    __slots__ = ("_clock", "_count")

    def __init__(self) -> None:
        self._clock = _fast_clock()
        self._count = 0

    @property
    def count(self) -> int:
        return self._count

    def add(self, count: int = 1) -> None:
        if self._clock is not None:
            self._clock.hold(count)
        self._count += count

    def done(self, count: int = 1) -> None:
        count = min(count, self._count)
        if self._clock is not None and count:
            self._clock.release(count)
        self._count -= count

    def release_all(self) -> None:
        self.done(self._count)


@contextmanager
def real_work() -> Iterator[None]:
    """Hold a `FastForwardClock` for the duration of the block (a no-op on other clocks)."""
    hold = ClockHold()
    hold.add()
    try:
        yield
    finally:
        hold.release_all()
