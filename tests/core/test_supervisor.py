"""Supervisor: start order, strategies, restart types, intensity, shutdown ladder, events.

Rules: every test runs on `autojump_clock` (virtual time), so the timings asserted are
exact trio seconds. Actors record what happens to them in a shared `journal` list, so a
test can assert the exact order of starts and stops.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import trio

from voxtrio.core.actor import Actor, ActorContext, ActorStopped, Ask
from voxtrio.core.supervisor import (
    Backoff,
    ChildExited,
    ChildRestarted,
    ChildSpec,
    ChildStarted,
    Escalated,
    Supervisor,
    SupervisorEscalation,
)

Journal = list[tuple[str, str]]


class Probe(Actor):
    """Journals ("start", name) when ready and ("stop", name) when it ends.

    Messages: "crash" raises ValueError, "exit" returns normally, an Ask is answered
    with (incarnation, messages seen).
    """

    def __init__(
        self,
        journal: Journal,
        *,
        ready_after: float = 0.0,
        ignore_stop: bool = False,
        fail_on_start: bool = False,
    ) -> None:
        self.journal = journal
        self.ready_after = ready_after
        self.ignore_stop = ignore_stop
        self.fail_on_start = fail_on_start
        self.seen: list[Any] = []

    async def run(self, ctx: ActorContext) -> None:
        try:
            await trio.sleep(self.ready_after)
            if self.fail_on_start:
                raise OSError(f"{ctx.name} cannot start")
            ctx.started()
            self.journal.append(("start", ctx.name))
            if self.ignore_stop:
                await trio.sleep_forever()
            async for msg in ctx.messages():
                if isinstance(msg, Ask):
                    if msg.message == "crash":
                        raise ValueError(f"{ctx.name} crashed while answering")
                    msg.reply((ctx.incarnation, list(self.seen)))
                    continue
                self.seen.append(msg)
                if msg == "crash":
                    raise ValueError(f"{ctx.name}: bad message {msg!r}")
                if msg == "exit":
                    return
        finally:
            self.journal.append(("stop", ctx.name))


def spec(journal: Journal, name: str, **options: Any) -> ChildSpec:
    probe_options = {
        k: options.pop(k) for k in ("ready_after", "ignore_stop", "fail_on_start") if k in options
    }
    return ChildSpec(name, lambda: Probe(journal, **probe_options), **options)


def starts(journal: Journal) -> list[str]:
    return [name for what, name in journal if what == "start"]


async def settle() -> None:
    await trio.testing.wait_all_tasks_blocked()


# -- start order and shutdown ---------------------------------------------------------


async def test_children_start_in_order_after_readiness_and_stop_in_reverse(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal: Journal = []
    ready_at: dict[str, float] = {}
    specs = [
        spec(journal, "a", ready_after=1.0),
        spec(journal, "b", ready_after=2.0),
        spec(journal, "c"),
    ]
    sup = Supervisor(specs)
    sup.events.on("child_started", lambda e: ready_at.setdefault(e.name, trio.current_time()))
    async with sup:
        assert trio.current_time() == pytest.approx(3.0)
        assert sup.children == ("a", "b", "c")
    assert ready_at == {"a": pytest.approx(1.0), "b": pytest.approx(3.0), "c": pytest.approx(3.0)}
    assert journal == [
        ("start", "a"),
        ("start", "b"),
        ("start", "c"),
        ("stop", "c"),
        ("stop", "b"),
        ("stop", "a"),
    ]
    for name in "abc":
        with pytest.raises(ActorStopped):
            sup.ref(name).tell_nowait("hello")


async def test_nursery_start_form_and_aclose(autojump_clock: trio.abc.Clock) -> None:
    journal: Journal = []
    async with trio.open_nursery() as nursery:
        sup = await nursery.start(Supervisor([spec(journal, "a"), spec(journal, "b")]).run)
        assert isinstance(sup, Supervisor)
        assert starts(journal) == ["a", "b"]
        await sup.aclose()
    assert journal[-2:] == [("stop", "b"), ("stop", "a")]


async def test_shutdown_ladder_cancels_a_child_that_ignores_stop(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal: Journal = []
    exits: list[tuple[str, str, float]] = []
    specs = [
        spec(journal, "polite", shutdown_grace=10.0),
        spec(journal, "stubborn", ignore_stop=True, shutdown_grace=2.5),
        spec(journal, "last", shutdown_grace=10.0),
    ]
    sup = Supervisor(specs)
    sup.events.on("child_exited", lambda e: exits.append((e.name, e.reason, trio.current_time())))
    async with sup:
        t0 = trio.current_time()
    assert exits == [
        ("last", "stopped", pytest.approx(t0)),
        ("stubborn", "killed", pytest.approx(t0 + 2.5)),
        ("polite", "stopped", pytest.approx(t0 + 2.5)),
    ]
    assert trio.current_time() == pytest.approx(t0 + 2.5)


# -- strategies -------------------------------------------------------------------------


async def crash_and_wait(sup: Supervisor, name: str) -> None:
    sup.ref(name).tell_nowait("crash")
    await settle()


async def test_one_for_one_restarts_only_the_failed_child(autojump_clock: trio.abc.Clock) -> None:
    journal: Journal = []
    async with Supervisor([spec(journal, n) for n in "abc"], strategy="one_for_one") as sup:
        journal.clear()
        await crash_and_wait(sup, "b")
        assert journal == [("stop", "b"), ("start", "b")]
        assert [sup.ref(n).incarnation for n in "abc"] == [1, 2, 1]


async def test_one_for_all_restarts_everyone_in_order(autojump_clock: trio.abc.Clock) -> None:
    journal: Journal = []
    async with Supervisor([spec(journal, n) for n in "abcd"], strategy="one_for_all") as sup:
        journal.clear()
        await crash_and_wait(sup, "b")
        assert journal == [
            ("stop", "b"),  # the failure itself
            ("stop", "d"),  # the others, in reverse start order
            ("stop", "c"),
            ("stop", "a"),
            ("start", "a"),  # then everyone, in start order
            ("start", "b"),
            ("start", "c"),
            ("start", "d"),
        ]
        assert [sup.ref(n).incarnation for n in "abcd"] == [2, 2, 2, 2]


async def test_rest_for_one_restarts_the_failed_child_and_those_after_it(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal: Journal = []
    async with Supervisor([spec(journal, n) for n in "abcd"], strategy="rest_for_one") as sup:
        journal.clear()
        await crash_and_wait(sup, "b")
        assert journal == [
            ("stop", "b"),
            ("stop", "d"),
            ("stop", "c"),
            ("start", "b"),
            ("start", "c"),
            ("start", "d"),
        ]
        assert [sup.ref(n).incarnation for n in "abcd"] == [1, 2, 2, 2]


async def test_group_restart_drops_temporary_siblings(autojump_clock: trio.abc.Clock) -> None:
    journal: Journal = []
    specs = [spec(journal, "a"), spec(journal, "tmp", restart="temporary"), spec(journal, "c")]
    async with Supervisor(specs, strategy="one_for_all") as sup:
        journal.clear()
        await crash_and_wait(sup, "a")
        assert starts(journal) == ["a", "c"]
        assert sup.children == ("a", "c")


# -- restart types ------------------------------------------------------------------------


async def test_permanent_child_is_restarted_even_after_a_normal_exit(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal: Journal = []
    reasons: list[str] = []
    async with Supervisor([spec(journal, "p", restart="permanent")]) as sup:
        sup.events.on("child_exited", lambda e: reasons.append(e.reason))
        sup.ref("p").tell_nowait("exit")
        await settle()
        assert sup.ref("p").incarnation == 2 and sup.ref("p").alive
    assert reasons == ["normal", "stopped"]


async def test_transient_child_is_restarted_only_after_an_exception(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal: Journal = []
    async with Supervisor([spec(journal, "t", restart="transient")]) as sup:
        ref = sup.ref("t")
        await crash_and_wait(sup, "t")
        assert ref.incarnation == 2 and ref.alive
        ref.tell_nowait("exit")
        await settle()
        assert not ref.alive and ref.incarnation == 2
        assert ref.last_exit is not None and ref.last_exit.reason == "normal"
        with pytest.raises(ActorStopped, match="exited \\(normal\\)"):
            ref.tell_nowait("anyone there?")
        assert sup.children == ("t",)  # transient specs are kept


async def test_temporary_child_is_never_restarted_and_is_forgotten(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal: Journal = []
    async with Supervisor([spec(journal, "tmp", restart="temporary"), spec(journal, "x")]) as sup:
        ref = sup.ref("tmp")
        await crash_and_wait(sup, "tmp")
        assert not ref.alive
        assert sup.children == ("x",)
        with pytest.raises(ActorStopped) as info:
            ref.tell_nowait("hello")
        assert isinstance(info.value.__cause__, ValueError)  # why it died is kept
        with pytest.raises(KeyError, match="no child 'tmp'"):
            sup.ref("tmp")


# -- intensity and escalation ----------------------------------------------------------------


async def test_restart_intensity_exceeded_escalates_with_the_cause(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal: Journal = []
    escalations: list[Escalated] = []
    sup = Supervisor(
        [spec(journal, "a"), spec(journal, "flaky"), spec(journal, "c")],
        strategy="one_for_one",
        max_restarts=2,
        within=10.0,
        name="pipeline",
    )
    sup.events.on("escalated", escalations.append)
    with pytest.raises(SupervisorEscalation) as info:
        async with sup:
            for _ in range(3):  # 2 restarts are fine; the 3rd failure escalates
                await trio.sleep(1.0)
                sup.ref("flaky").tell_nowait("crash")
                await settle()
            await trio.sleep_forever()  # the escalation cancels the body
    err = info.value
    assert err.supervisor == "pipeline" and err.child == "flaky"
    assert isinstance(err.failure, ValueError)
    assert err.__cause__ is err.failure
    assert "gave up" in str(err) and "2 restarts within 10 s" in str(err)
    assert len(escalations) == 1 and escalations[0].failure is err.failure
    # every child was stopped, the survivors in reverse order
    assert journal[-3:] == [("stop", "flaky"), ("stop", "c"), ("stop", "a")]
    assert starts(journal).count("flaky") == 3


async def test_failures_spread_over_time_do_not_escalate(autojump_clock: trio.abc.Clock) -> None:
    journal: Journal = []
    async with Supervisor([spec(journal, "a")], max_restarts=1, within=5.0) as sup:
        for _ in range(5):
            sup.ref("a").tell_nowait("crash")
            await trio.sleep(5.1)  # each failure falls out of the window before the next
        assert sup.ref("a").incarnation == 6


async def test_escalation_through_nursery_form_is_not_lost(autojump_clock: trio.abc.Clock) -> None:
    journal: Journal = []
    with pytest.RaisesGroup(SupervisorEscalation):
        async with trio.open_nursery() as nursery:
            sup = await nursery.start(Supervisor([spec(journal, "a")], max_restarts=0).run)
            sup.ref("a").tell_nowait("crash")
            await trio.sleep_forever()


async def test_child_failing_before_ready_counts_towards_intensity(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal: Journal = []
    sup = Supervisor([spec(journal, "ok"), spec(journal, "broken", fail_on_start=True)])
    with pytest.raises(SupervisorEscalation) as info:
        async with sup:
            await trio.sleep_forever()
    assert isinstance(info.value.failure, OSError)
    assert "cannot start" in str(info.value.failure)
    assert journal[-1] == ("stop", "ok")


# -- backoff -------------------------------------------------------------------------------------


async def test_backoff_delays_restarts(autojump_clock: trio.abc.Clock) -> None:
    journal: Journal = []
    started_at: list[float] = []
    sup = Supervisor(
        [spec(journal, "a")], max_restarts=5, within=100.0, backoff=Backoff(1.0, 2.0, 3.0)
    )
    sup.events.on("child_started", lambda e: started_at.append(trio.current_time()))
    async with sup:
        for _ in range(3):
            t0 = trio.current_time()
            sup.ref("a").tell_nowait("crash")
            await trio.sleep(10)
            started_at[-1] -= t0
    assert started_at[1:] == [pytest.approx(1.0), pytest.approx(2.0), pytest.approx(3.0)]
    assert Backoff()(1) == pytest.approx(0.1) and Backoff()(10) == pytest.approx(5.0)


async def test_aclose_during_backoff_is_prompt(autojump_clock: trio.abc.Clock) -> None:
    journal: Journal = []
    async with Supervisor([spec(journal, "a")], backoff=lambda n: 60.0) as sup:
        sup.ref("a").tell_nowait("crash")
        await trio.sleep(1.0)
        t0 = trio.current_time()
    assert trio.current_time() - t0 < 0.1
    assert starts(journal) == ["a"]


# -- refs across restarts, ask, runtime children --------------------------------------------------


async def test_ref_follows_restarts_and_buffered_messages_reach_the_new_incarnation(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal: Journal = []
    async with Supervisor([spec(journal, "a")]) as sup:
        ref = sup.ref("a")
        ref.tell_nowait("crash")
        ref.tell_nowait("after-crash")  # buffered while the actor restarts
        await settle()
        assert await ref.ask("state?") == (2, ["after-crash"])
        assert ref is sup.ref("a")


async def test_ask_to_a_child_that_crashes_while_answering_raises_actor_stopped(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal: Journal = []
    async with Supervisor([spec(journal, "a")]) as sup:
        with pytest.raises(ActorStopped, match="before replying") as info:
            await sup.ref("a").ask("crash")
        assert isinstance(info.value.__cause__, ValueError)
        assert (await sup.ref("a").ask("state?"))[0] == 2  # restarted, still serving


async def test_start_child_and_stop_child_at_runtime(autojump_clock: trio.abc.Clock) -> None:
    journal: Journal = []
    async with Supervisor([spec(journal, "a")], strategy="rest_for_one") as sup:
        ref = await sup.start_child(spec(journal, "late", ready_after=0.5))
        assert ref.alive and sup.children == ("a", "late")
        with pytest.raises(ValueError, match="already has a child named 'late'"):
            await sup.start_child(spec(journal, "late"))
        # runtime children take part in the strategy like the others
        await crash_and_wait(sup, "a")
        assert ref.incarnation == 2
        exit = await sup.stop_child("late")
        assert exit is not None and exit.reason == "stopped"
        assert sup.children == ("a",)
        with pytest.raises(ActorStopped):
            ref.tell_nowait("x")
        await sup.start_child(spec(journal, "late"))  # the name is free again
    assert journal[-2:] == [("stop", "late"), ("stop", "a")]


async def test_start_child_before_run_or_after_close_is_refused() -> None:
    sup = Supervisor()
    with pytest.raises(RuntimeError, match="not running yet"):
        await sup.start_child(ChildSpec("x", Actor))
    async with sup:
        pass
    with pytest.raises(RuntimeError, match="shutting down or has stopped"):
        await sup.start_child(ChildSpec("x", Actor))
    with pytest.raises(RuntimeError, match="already run"):
        await sup.run()


# -- events and errors ----------------------------------------------------------------------------


async def test_every_start_exit_and_restart_is_an_event(autojump_clock: trio.abc.Clock) -> None:
    journal: Journal = []
    seen: list[Any] = []
    sup = Supervisor([spec(journal, "a"), spec(journal, "b")], strategy="rest_for_one", name="s")
    for name in ("child_started", "child_exited", "child_restarted", "escalated"):
        sup.events.on(name, seen.append)
    async with sup:
        sup.ref("a").tell_nowait("crash")
        await settle()
    crash = next(e for e in seen if isinstance(e, ChildExited) and e.reason == "exception")
    assert isinstance(crash.error, ValueError)
    assert [(type(e).__name__, e.name) for e in seen] == [
        ("ChildStarted", "a"),
        ("ChildStarted", "b"),
        ("ChildExited", "a"),
        ("ChildExited", "b"),
        ("ChildStarted", "a"),
        ("ChildRestarted", "a"),
        ("ChildStarted", "b"),
        ("ChildRestarted", "b"),
        ("ChildExited", "b"),
        ("ChildExited", "a"),
    ]
    assert seen[5] == ChildRestarted("s", "a", 2, "a", 1)
    assert seen[7] == ChildRestarted("s", "b", 2, "a", 1)
    assert seen[0] == ChildStarted("s", "a", 1)
    assert [e.reason for e in seen if isinstance(e, ChildExited)] == [
        "exception",
        "stopped",
        "stopped",
        "stopped",
    ]


async def test_child_exception_is_logged_with_traceback(
    autojump_clock: trio.abc.Clock, caplog: pytest.LogCaptureFixture
) -> None:
    journal: Journal = []
    async with Supervisor([spec(journal, "a")], name="s") as sup:
        await crash_and_wait(sup, "a")
    records = [r for r in caplog.records if r.name == "voxtrio.supervisor" and r.exc_info]
    assert len(records) == 1
    assert "'a' exited (exception): ValueError" in records[0].getMessage()


async def test_body_exception_stops_children_gracefully_and_propagates(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal: Journal = []
    with pytest.raises(KeyError, match="oops"):
        async with Supervisor([spec(journal, "a"), spec(journal, "b")]):
            raise KeyError("oops")
    assert journal[-2:] == [("stop", "b"), ("stop", "a")]


async def test_outer_cancellation_kills_children_at_once(autojump_clock: trio.abc.Clock) -> None:
    journal: Journal = []
    reasons: list[str] = []
    with trio.move_on_after(1.0):
        sup = Supervisor([spec(journal, "a", ignore_stop=True, shutdown_grace=100)])
        sup.events.on("child_exited", lambda e: reasons.append(e.reason))
        async with sup:
            await trio.sleep_forever()
    assert trio.current_time() == pytest.approx(1.0)
    assert reasons == ["killed"]


def test_invalid_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown strategy"):
        Supervisor(strategy="one_for_some")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_restarts"):
        Supervisor(max_restarts=-1)
    with pytest.raises(ValueError, match="within"):
        Supervisor(within=0)
    with pytest.raises(ValueError, match="unique"):
        Supervisor([ChildSpec("a", Actor), ChildSpec("a", Actor)])
    with pytest.raises(ValueError, match="unknown restart type"):
        ChildSpec("a", Actor, restart="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="shutdown_grace"):
        ChildSpec("a", Actor, shutdown_grace=-1)
    with pytest.raises(ValueError, match="overflow"):
        ChildSpec("a", Actor, inbox_overflow="spill")  # type: ignore[arg-type]


async def test_factories_can_capture_refs_of_later_children(autojump_clock: trio.abc.Clock) -> None:
    journal: Journal = []
    got: list[Any] = []
    sup: Supervisor

    class Producer(Actor):
        async def run(self, ctx: ActorContext) -> None:
            await sup.ref("consumer").tell("sent before the consumer started")
            ctx.started()
            await trio.sleep_forever()

    class Consumer(Actor):
        async def run(self, ctx: ActorContext) -> None:
            async for msg in ctx.messages():
                got.append(msg)

    sup = Supervisor([ChildSpec("producer", Producer), ChildSpec("consumer", Consumer)])
    assert sup.children == ("producer", "consumer")
    async with sup:
        await settle()
    assert got == ["sent before the consumer started"]
    assert journal == []


async def test_stale_control_messages_are_dropped_on_restart(
    autojump_clock: trio.abc.Clock,
) -> None:
    got: list[Any] = []

    class Slow(Actor):
        async def run(self, ctx: ActorContext) -> None:
            ctx.started()
            msg = await ctx.inbox.receive()  # never looks at control in this incarnation
            if msg == "crash" and ctx.incarnation == 1:
                raise ValueError("crash")
            async for control in ctx.messages():
                got.append((ctx.incarnation, control))

    async with Supervisor([ChildSpec("slow", Slow)]) as sup:
        ref = sup.ref("slow")
        ref.tell_control_nowait("interrupt for incarnation 1")
        ref.tell_nowait("crash")
        await settle()
        ref.tell_nowait("go")
        ref.tell_control_nowait("interrupt for incarnation 2")
        await settle()
    assert got == [(2, "interrupt for incarnation 2")]


async def test_factory_error_is_a_child_failure(autojump_clock: trio.abc.Clock) -> None:
    attempts = 0

    def factory() -> Actor:
        nonlocal attempts
        attempts += 1
        raise RuntimeError("cannot build the actor")

    with pytest.raises(SupervisorEscalation) as info:
        async with Supervisor([ChildSpec("x", factory)], max_restarts=2):
            await trio.sleep_forever()
    assert attempts == 3
    assert isinstance(info.value.__cause__, RuntimeError)


async def test_supervision_tree_inner_escalation_is_handled_by_the_outer_supervisor(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal: Journal = []
    outer_exits: list[tuple[str, str]] = []

    class Team(Actor):
        """A child that is itself a supervisor of two probes."""

        async def run(self, ctx: ActorContext) -> None:
            inner = Supervisor(
                [spec(journal, "w1"), spec(journal, "w2")], max_restarts=0, name="inner"
            )
            async with inner:
                ctx.started()
                if ctx.incarnation == 1:
                    inner.ref("w2").tell_nowait("crash")
                async for _ in ctx.messages():
                    pass

    outer = Supervisor([ChildSpec("team", Team)], name="outer")
    outer.events.on("child_exited", lambda e: outer_exits.append((e.name, e.reason)))
    async with outer:
        await settle()
        assert outer.ref("team").incarnation == 2
    assert outer_exits == [("team", "exception"), ("team", "stopped")]
    # the inner supervisor stopped its workers in reverse order, both times
    assert journal == [
        ("start", "w1"),
        ("start", "w2"),
        ("stop", "w2"),
        ("stop", "w1"),
        ("start", "w1"),
        ("start", "w2"),
        ("stop", "w2"),
        ("stop", "w1"),
    ]


def test_an_emitter_that_refuses_supervisor_events_is_refused_early() -> None:
    from voxtrio.core.emitter import EventEmitter

    with pytest.raises(ValueError, match="'child_restarted', 'escalated'"):
        Supervisor(events=EventEmitter(valid_events={"child_started", "child_exited"}))


async def test_start_timeout_cancels_a_child_that_never_gets_ready(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal: Journal = []
    exits: list[tuple[str, float]] = []
    sup = Supervisor(
        [spec(journal, "hung", ready_after=math.inf, start_timeout=2.0)], max_restarts=1
    )
    sup.events.on("child_exited", lambda e: exits.append((e.reason, trio.current_time())))
    with pytest.raises(SupervisorEscalation, match="'hung' exited \\(killed\\)"):
        async with sup:
            await trio.sleep_forever()
    # first start, one restart, then the second restart exceeds max_restarts=1
    assert exits == [("killed", 2.0), ("killed", 4.0)]


async def test_aclose_cuts_a_pending_start_short(autojump_clock: trio.abc.Clock) -> None:
    journal: Journal = []
    async with trio.open_nursery() as nursery:
        sup = Supervisor([spec(journal, "a")])
        await nursery.start(sup.run)
        nursery.start_soon(sup.start_child, spec(journal, "hung", ready_after=math.inf))
        await trio.sleep(5.0)
        t0 = trio.current_time()
        await sup.aclose()
    assert trio.current_time() == pytest.approx(t0)
    assert journal == [("start", "a"), ("stop", "hung"), ("stop", "a")]
