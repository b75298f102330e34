"""Make a trio run's scheduling repeatable, for tests that compare two runs.

    with deterministic_scheduling(seed=1):
        trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))

trio deliberately shuffles the order in which tasks that became runnable at the same
moment are run, so code cannot come to depend on it. Virtual time removes every other
source of difference between two runs of a conversation; pinning trio's scheduler seed
removes this one. It uses the hook trio itself provides for Hypothesis (a private
module attribute), so keep it to tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import trio

__all__ = ["deterministic_scheduling"]


@contextmanager
def deterministic_scheduling(seed: int = 0) -> Iterator[None]:
    """Within the block, trio runs schedule tasks in an order fixed by `seed`."""
    run_module = trio._core._run
    previous = run_module._ALLOW_DETERMINISTIC_SCHEDULING
    state = run_module._r.getstate()
    run_module._ALLOW_DETERMINISTIC_SCHEDULING = True  # type: ignore[misc]
    run_module._r.seed(seed)
    try:
        yield
    finally:
        run_module._ALLOW_DETERMINISTIC_SCHEDULING = previous  # type: ignore[misc]
        run_module._r.setstate(state)
