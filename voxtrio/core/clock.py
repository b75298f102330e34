"""Wall-clock timestamps that follow trio's clock.

    created_at = wall_time()

Event payloads and chat items carry a `created_at` in seconds since the epoch, like the
asyncio frameworks users know. Reading the system clock directly would make them differ
between two runs of a virtual-time test, so inside a trio run the wall time is derived
from trio's clock: the epoch time when the run first asked, plus the trio time elapsed
since. Tests pin the origin with `set_wall_origin(...)` to get identical logs.
"""

from __future__ import annotations

import time

import trio

__all__ = ["set_wall_origin", "wall_time"]

_origin: trio.lowlevel.RunVar[tuple[float, float]] = trio.lowlevel.RunVar("voxtrio_wall_origin")


def wall_time() -> float:
    """Seconds since the epoch, advancing with trio's clock inside a run."""
    try:
        now = trio.current_time()
    except RuntimeError:  # not inside trio.run
        return time.time()  # wall-clock ok
    try:
        wall0, trio0 = _origin.get()
    except LookupError:
        wall0, trio0 = time.time(), now  # wall-clock ok
        _origin.set((wall0, trio0))
    return wall0 + (now - trio0)


def set_wall_origin(epoch_seconds: float) -> None:
    """Make `wall_time()` read `epoch_seconds` now, in the current trio run.

    Virtual-time tests call this once (the test kit does) so that every `created_at`
    is the same on every run.
    """
    _origin.set((epoch_seconds, trio.current_time()))
