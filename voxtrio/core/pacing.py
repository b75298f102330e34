"""Shared pacing: cheap timed wake-ups for many paced sources in one trio run.

    from voxtrio.core.pacing import sleep_until

    next_at = trio.current_time()
    while True:
        next_at += 0.020
        await sleep_until(next_at)     # like trio.sleep_until, batched
        tx.send_nowait(read_frame())

For many periodic jobs that need no task of their own (hand a frame to a mailbox every
20 ms), one `Metronome` task calls them all on their own grids: no task switch per job.

`sleep_until(deadline)` and `sleep(seconds)` are drop-ins for `trio.sleep_until` /
`trio.sleep` for code that wakes often (an audio source every 20 ms). A trio timer wake-up
is comparatively expensive (a cancel scope firing per sleeper); here every sleeper of a run
registers with one *pacer* — a single system task that owns one trio deadline — and each
time it wakes it reschedules every sleeper whose deadline has passed. Deadlines are rounded
up to a grid of `quantum` seconds (1 ms by default, `set_quantum`), so sleepers due within
the same quantum share one wake-up.

Contract: a sleeper never wakes before its deadline and, on an idle thread, at most one
quantum after it. A deadline already past checkpoints and returns, like trio. Cancellation
is immediate (the waiter is removed from the pacer). Works under `trio.testing.MockClock`
(autojump included): the pacer's deadline is an ordinary trio deadline. The pacer is a
trio system task, created on first use and cancelled when the run ends, so it never
outlives the run.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
from collections.abc import Callable

import trio

__all__ = [
    "DEFAULT_QUANTUM",
    "Metronome",
    "MetronomeJob",
    "get_quantum",
    "set_quantum",
    "sleep",
    "sleep_until",
]

log = logging.getLogger("voxtrio.core.pacing")

#: Grid, in seconds, on which shared wake-ups happen. 1 ms measured best for 20 ms pacing.
DEFAULT_QUANTUM = 0.001

_ABORT_SUCCEEDED = trio.lowlevel.Abort.SUCCEEDED


async def sleep_until(deadline: float) -> None:
    """Sleep until `trio.current_time() >= deadline`, sharing one timer with every
    other pacing sleeper in this run.

    Wakes no earlier than `deadline` and, unless the thread is busy, less than one
    quantum after it. Cancellable like `trio.sleep_until`.
    """
    if not deadline > trio.current_time():
        if math.isnan(deadline):
            raise ValueError("deadline must not be NaN")
        await trio.lowlevel.checkpoint()
        return
    if deadline == math.inf:
        await trio.sleep_forever()
        return
    try:
        pacer = _PACER.get()
    except LookupError:
        pacer = _start_pacer()
    # Round up to the quantum grid so that close deadlines share one wake-up.
    q = pacer.quantum
    slot = math.ceil(deadline / q) * q
    if slot < deadline:  # float rounding must never make us early
        slot = deadline
    buckets = pacer.buckets
    bucket = buckets.get(slot)
    if bucket is None:
        bucket = buckets[slot] = {}
        heapq.heappush(pacer.heap, slot)
        scope = pacer.scope
        if scope is not None and slot < scope.deadline:
            scope.deadline = slot
    task = trio.lowlevel.current_task()
    bucket[task] = None

    def abort(_: object) -> trio.lowlevel.Abort:
        waiting = buckets.get(slot)
        if waiting is not None:
            waiting.pop(task, None)
            if not waiting:
                del buckets[slot]
        return _ABORT_SUCCEEDED

    await trio.lowlevel.wait_task_rescheduled(abort)


async def sleep(seconds: float) -> None:
    """Sleep `seconds` (>= 0) through the shared pacer; see `sleep_until`."""
    if seconds < 0:
        raise ValueError(f"sleep length must be >= 0: got {seconds}")
    await sleep_until(trio.current_time() + seconds)


def set_quantum(seconds: float) -> None:
    """Set the wake-up grid of the current run's pacer (seconds, > 0).

    Smaller is more precise and costs more wake-ups; 1 ms suits 20 ms audio pacing.
    Sleepers already waiting keep their grid slot.
    """
    if not (seconds > 0 and math.isfinite(seconds)):
        raise ValueError(f"pacing quantum must be a positive number of seconds: got {seconds}")
    _pacer().quantum = seconds


def get_quantum() -> float:
    """The current run's pacing quantum in seconds."""
    return _pacer().quantum


class MetronomeJob:
    """A periodic call registered with a `Metronome`; `cancel()` stops it."""

    __slots__ = ("period", "callback", "due", "cancelled")

    def __init__(self, period: float, callback: Callable[[float], object], due: float) -> None:
        self.period = period
        self.callback = callback
        #: When the next call is due (its scheduled time, passed to the callback).
        self.due = due
        self.cancelled = False

    def cancel(self) -> None:
        """Stop calling this job (takes effect at once; idempotent)."""
        self.cancelled = True


class Metronome:
    """One task that calls many periodic callbacks, each on its own fixed grid.

        metronome = Metronome()
        nursery.start_soon(metronome.run)
        job = metronome.every(0.020, lambda scheduled: tx.send_nowait(make_frame(scheduled)))
        ...
        job.cancel()

    `every(period, callback, start=None)` calls `callback(scheduled_time)` at `start`
    (default: one period from now), `start + period`, ... without drift. Callbacks run
    synchronously inside the metronome's task, so they must be quick and must not block:
    the typical one hands a message to a mailbox with `send_nowait`. A callback that
    raises `trio.WouldBlock` (a full mailbox) is retried on the next wake-up, keeping its
    grid: nothing is skipped and order is kept. A callback running late is called once per
    missed period, in order, to catch up. Any other exception ends `run()` (and so reaches
    the nursery that owns the metronome).

    The metronome sleeps through the shared pacer (`sleep_until`), so it wakes on the
    pacing quantum grid, works on virtual time, and is cancelled like any task.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, MetronomeJob]] = []
        self._order = itertools.count()
        self._wake: trio.CancelScope | None = None
        self._sleeping_until = math.inf

    def every(
        self, period: float, callback: Callable[[float], object], *, start: float | None = None
    ) -> MetronomeJob:
        """Call `callback(scheduled_time)` every `period` seconds from `start`."""
        if not (period > 0 and math.isfinite(period)):
            raise ValueError(f"period must be a positive number of seconds: got {period}")
        due = trio.current_time() + period if start is None else start
        job = MetronomeJob(period, callback, due)
        heapq.heappush(self._heap, (due, next(self._order), job))
        if due < self._sleeping_until and self._wake is not None:
            self._wake.cancel()  # the metronome sleeps past this job's first call
        return job

    @property
    def jobs(self) -> int:
        """Number of registered jobs not yet cancelled."""
        return sum(1 for _, _, job in self._heap if not job.cancelled)

    async def run(self) -> None:
        """Call the jobs as they fall due, forever (until cancelled)."""
        heap = self._heap
        order = self._order
        now = trio.current_time
        while True:
            t = now()
            blocked: list[MetronomeJob] = []
            while heap and heap[0][0] <= t:
                _, _, job = heapq.heappop(heap)
                if job.cancelled:
                    continue
                try:
                    while job.due <= t and not job.cancelled:
                        job.callback(job.due)
                        job.due += job.period
                except trio.WouldBlock:
                    blocked.append(job)  # retry at the next wake-up, same due time
                    continue
                if not job.cancelled:
                    heapq.heappush(heap, (job.due, next(order), job))
            for job in blocked:
                heapq.heappush(heap, (job.due, next(order), job))
            while heap and heap[0][2].cancelled:
                heapq.heappop(heap)
            if blocked:
                target = t + get_quantum()
            else:
                target = heap[0][0] if heap else math.inf
            with trio.CancelScope() as self._wake:
                self._sleeping_until = target
                await sleep_until(target)
            self._wake = None
            self._sleeping_until = math.inf


class _Pacer:
    """One per run. `buckets` maps a grid time to its sleepers (dict as an ordered set,
    O(1) removal on cancel); `heap` holds grid times, with stale entries skipped lazily."""

    __slots__ = ("quantum", "buckets", "heap", "scope", "task")

    def __init__(self) -> None:
        self.quantum = DEFAULT_QUANTUM
        self.buckets: dict[float, dict[trio.lowlevel.Task, None]] = {}
        self.heap: list[float] = []
        self.scope: trio.CancelScope | None = None
        self.task: trio.lowlevel.Task | None = None

    async def run(self) -> None:
        heap = self.heap
        buckets = self.buckets
        reschedule = trio.lowlevel.reschedule
        try:
            while True:  # ends when the run cancels its system tasks
                now = trio.current_time()
                while heap and heap[0] <= now:
                    slot = heapq.heappop(heap)
                    due = buckets.pop(slot, None)
                    if due:
                        for task in due:
                            reschedule(task)
                while heap and heap[0] not in buckets:  # drop slots emptied by cancels
                    heapq.heappop(heap)
                with trio.CancelScope(deadline=heap[0] if heap else math.inf) as scope:
                    self.scope = scope
                    await trio.sleep_forever()
                self.scope = None
        finally:
            self.scope = None


_PACER: trio.lowlevel.RunVar[_Pacer] = trio.lowlevel.RunVar("voxtrio_pacer")


def _pacer() -> _Pacer:
    try:
        return _PACER.get()
    except LookupError:
        return _start_pacer()


def _start_pacer() -> _Pacer:
    pacer = _Pacer()
    _PACER.set(pacer)
    pacer.task = trio.lowlevel.spawn_system_task(pacer.run, name="voxtrio.pacer")
    return pacer
