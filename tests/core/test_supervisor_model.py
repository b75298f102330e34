"""Supervisor strategies against a model: any sequence of crashes, any strategy.

Rules: nothing sleeps, so no clock is needed; hypothesis draws the number of children, the
strategy and which child crashes when. After each crash the test checks the exact
stop/start journal and every child's incarnation against what OTP's rules predict.
"""

from __future__ import annotations

from typing import Any

import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from voxtrio.core.actor import Actor, ActorContext
from voxtrio.core.supervisor import ChildSpec, Supervisor

STRATEGIES = ["one_for_one", "one_for_all", "rest_for_one"]


class Worker(Actor):
    def __init__(self, journal: list[tuple[str, str]]) -> None:
        self.journal = journal

    async def run(self, ctx: ActorContext) -> None:
        ctx.started()
        self.journal.append(("start", ctx.name))
        try:
            async for msg in ctx.messages():
                if msg == "crash":
                    raise ValueError(f"{ctx.name} crashed")
        finally:
            self.journal.append(("stop", ctx.name))


def expected_journal(names: list[str], strategy: str, failed: int) -> list[tuple[str, str]]:
    if strategy == "one_for_one":
        group = [failed]
    elif strategy == "one_for_all":
        group = list(range(len(names)))
    else:
        group = list(range(failed, len(names)))
    stops = [("stop", names[failed])] + [("stop", names[i]) for i in reversed(group) if i != failed]
    return stops + [("start", names[i]) for i in group]


@settings(max_examples=40, deadline=None)
@given(
    count=st.integers(min_value=1, max_value=5),
    strategy=st.sampled_from(STRATEGIES),
    crashes=st.lists(st.integers(min_value=0, max_value=4), max_size=6),
)
async def test_strategies_match_the_model(count: int, strategy: Any, crashes: list[int]) -> None:
    names = [f"c{i}" for i in range(count)]
    journal: list[tuple[str, str]] = []
    specs = [ChildSpec(name, lambda: Worker(journal)) for name in names]
    incarnations = [1] * count
    async with Supervisor(specs, strategy=strategy, max_restarts=100, within=1.0) as sup:
        assert journal == [("start", name) for name in names]
        for crash in crashes:
            failed = crash % count
            journal.clear()
            sup.ref(names[failed]).tell_nowait("crash")
            await trio.testing.wait_all_tasks_blocked()
            assert journal == expected_journal(names, strategy, failed)
            for i in range(count):
                if (
                    strategy == "one_for_all"
                    or i == failed
                    or (strategy == "rest_for_one" and i > failed)
                ):
                    incarnations[i] += 1
            assert [sup.ref(n).incarnation for n in names] == incarnations
        journal.clear()
    assert journal == [("stop", name) for name in reversed(names)]
