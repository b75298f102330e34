"""Actor, ActorContext, ActorRef and spawn.

Rules: every test that lets time pass runs on `autojump_clock` (virtual time), so
timings below are exact trio seconds, not wall time.
"""

from __future__ import annotations

from typing import Any

import pytest
import trio

from voxtrio.core.actor import (
    Actor,
    ActorContext,
    ActorRef,
    ActorStopped,
    Ask,
    AskTimeout,
    Stop,
    spawn,
)
from voxtrio.core.emitter import EventEmitter
from voxtrio.core.mailbox import YIELD_EVERY


class Recorder(Actor):
    """Records every message; answers asks with the number of messages seen so far."""

    def __init__(self, ready_delay: float = 0.0) -> None:
        self.ready_delay = ready_delay
        self.seen: list[Any] = []
        self.finished = False

    async def run(self, ctx: ActorContext) -> None:
        await trio.sleep(self.ready_delay)
        ctx.started(f"{ctx.name} ready")
        async for msg in ctx.messages():
            if isinstance(msg, Ask):
                if msg.message == "boom":
                    raise RuntimeError("asked to explode")
                if msg.message == "fail":
                    msg.fail(KeyError("nope"))
                elif msg.message == "ignore":
                    pass
                else:
                    msg.reply(len(self.seen))
                continue
            self.seen.append(msg)
            if msg == "crash":
                raise ValueError("bad message: crash")
        self.finished = True


async def test_spawn_returns_once_ready(autojump_clock: trio.abc.Clock) -> None:
    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, Recorder(ready_delay=1.5), name="rec")
        assert trio.current_time() == pytest.approx(1.5)
        assert ref.alive and ref.incarnation == 1
        assert ref.started_value == "rec ready"
        await ref.stop()
    assert not ref.alive
    assert ref.last_exit is not None and ref.last_exit.reason == "stopped"


async def test_tell_delivers_in_order_and_ask_replies() -> None:
    actor = Recorder()
    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, actor, name="rec")
        for i in range(200):  # more than the inbox: tell waits for room
            await ref.tell(i)
        ref.tell_nowait("last")
        assert await ref.ask("count?") == 201
        assert actor.seen == [*range(200), "last"]
        await ref.stop()
    assert actor.finished


async def test_tell_nowait_raises_wouldblock_when_full() -> None:
    class Sleeper(Actor):
        async def run(self, ctx: ActorContext) -> None:
            ctx.started()
            await trio.sleep_forever()

    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, Sleeper(), name="sleeper", inbox_capacity=2)
        ref.tell_nowait(1)
        ref.tell_nowait(2)
        with pytest.raises(trio.WouldBlock):
            ref.tell_nowait(3)
        assert ref.statistics().buffered == 2
        nursery.cancel_scope.cancel()


async def test_drop_oldest_inbox_keeps_newest() -> None:
    got: list[int] = []

    class Slow(Actor):
        async def run(self, ctx: ActorContext) -> None:
            ctx.started()
            await ctx.control.receive()  # wait for a go signal before reading data
            while True:
                try:
                    got.append(ctx.inbox.receive_nowait())
                except trio.WouldBlock:
                    return

    async with trio.open_nursery() as nursery:
        ref = await spawn(
            nursery, Slow(), name="slow", inbox_capacity=3, inbox_overflow="drop_oldest"
        )
        for i in range(10):
            ref.tell_nowait(i)
        ref.tell_control_nowait("go")
        await ref.wait_exit()
    assert got == [7, 8, 9]
    assert ref.statistics().dropped == 7


async def test_control_messages_come_before_buffered_data() -> None:
    order: list[Any] = []

    class Gate(Actor):
        async def run(self, ctx: ActorContext) -> None:
            ctx.started()
            await ctx.control.receive()  # "open": data and control pile up meanwhile
            async for msg in ctx.messages():
                order.append(msg)

    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, Gate(), name="gate")
        for i in range(3):
            ref.tell_nowait(i)
        ref.tell_control_nowait("open")
        ref.tell_control_nowait("interrupt")
        ref.tell_nowait(3)
        ref.tell_control_nowait("flush")
        await trio.testing.wait_all_tasks_blocked()
        ref.tell_control_nowait(Stop())
    assert order == ["interrupt", "flush", 0, 1, 2, 3]


async def test_control_message_wakes_an_actor_parked_on_empty_inbox() -> None:
    got: list[Any] = []

    class Waiter(Actor):
        async def run(self, ctx: ActorContext) -> None:
            async for msg in ctx.messages():
                got.append((msg, trio.current_time()))

    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, Waiter(), name="waiter")
        await trio.testing.wait_all_tasks_blocked()
        ref.tell_control_nowait("interrupt")
        await trio.testing.wait_all_tasks_blocked()
        assert [m for m, _ in got] == ["interrupt"]
        ref.tell_nowait("data")
        await trio.testing.wait_all_tasks_blocked()
        assert [m for m, _ in got] == ["interrupt", "data"]
        ref.tell_control_nowait(Stop("done"))
        exit = await ref.wait_exit()
    assert exit is not None and exit.reason == "stopped"


async def test_messages_marks_ready_implicitly() -> None:
    class Implicit(Actor):
        async def run(self, ctx: ActorContext) -> None:
            async for _ in ctx.messages():
                pass

    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, Implicit(), name="implicit")
        assert ref.alive
        await ref.stop()


async def test_ask_timeout_then_late_reply_is_ignored(autojump_clock: trio.abc.Clock) -> None:
    late: list[bool] = []

    class Late(Actor):
        async def run(self, ctx: ActorContext) -> None:
            async for msg in ctx.messages():
                await trio.sleep(3)
                late.append(msg.reply("too late"))

    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, Late(), name="late")
        t0 = trio.current_time()
        with pytest.raises(AskTimeout, match="did not reply"):
            await ref.ask("hello", timeout=1.0)
        assert trio.current_time() - t0 == pytest.approx(1.0)
        await trio.sleep(5)
        assert late == [False]
        await ref.stop()


async def test_ask_fail_raises_the_actors_exception() -> None:
    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, Recorder(), name="rec")
        with pytest.raises(KeyError, match="nope"):
            await ref.ask("fail")
        await ref.stop()


async def test_ask_unanswered_times_out(autojump_clock: trio.abc.Clock) -> None:
    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, Recorder(), name="rec")
        with pytest.raises(AskTimeout) as info:
            await ref.ask("ignore", timeout=2.5)
        assert info.value.timeout == 2.5 and info.value.actor == "rec"
        assert isinstance(info.value, TimeoutError)
        await ref.stop()


async def test_ask_when_actor_dies_before_replying_raises_actor_stopped() -> None:
    boom: list[BaseException] = []
    with pytest.raises(BaseExceptionGroup) as group:
        async with trio.open_nursery() as nursery:
            ref = await spawn(nursery, Recorder(), name="rec")

            async def asker() -> None:
                try:
                    await ref.ask("boom")
                except ActorStopped as exc:
                    boom.append(exc)

            nursery.start_soon(asker)
    # the actor's own exception is not lost: it crashed the nursery...
    assert group.value.subgroup(RuntimeError) is not None
    # ...and the asker learned the actor died, with the cause attached
    assert len(boom) == 1
    assert isinstance(boom[0].__cause__, RuntimeError)
    assert "before replying" in str(boom[0])


async def test_telling_or_asking_a_dead_actor_raises_actor_stopped() -> None:
    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, Recorder(), name="rec")
        await ref.stop()
    with pytest.raises(ActorStopped, match="'rec' exited"):
        ref.tell_nowait(1)
    with pytest.raises(ActorStopped):
        await ref.tell(1)
    with pytest.raises(ActorStopped):
        ref.tell_control_nowait("interrupt")
    with pytest.raises(ActorStopped):
        await ref.ask("x")
    # stopping again is harmless
    exit = await ref.stop()
    assert exit is not None and exit.reason == "stopped"


async def test_sender_blocked_on_full_inbox_gets_actor_stopped_when_it_dies() -> None:
    class Quitter(Actor):
        async def run(self, ctx: ActorContext) -> None:
            ctx.started()
            await ctx.control.receive()

    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, Quitter(), name="q", inbox_capacity=1)
        ref.tell_nowait(1)
        errors: list[BaseException] = []

        async def blocked_sender() -> None:
            try:
                await ref.tell(2)
            except ActorStopped as exc:
                errors.append(exc)

        nursery.start_soon(blocked_sender)
        await trio.testing.wait_all_tasks_blocked()
        ref.tell_control_nowait("quit")
    assert len(errors) == 1


async def test_exception_before_ready_is_raised_by_spawn() -> None:
    class Broken(Actor):
        async def run(self, ctx: ActorContext) -> None:
            raise OSError("device busy")

    async with trio.open_nursery() as nursery:
        with pytest.raises(OSError, match="device busy"):
            await spawn(nursery, Broken(), name="broken")


async def test_run_returning_without_started_gives_a_dead_ref() -> None:
    class Quick(Actor):
        async def run(self, ctx: ActorContext) -> None:
            return

    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, Quick(), name="quick")
    assert not ref.alive
    assert ref.last_exit is not None and ref.last_exit.reason == "normal"


async def test_stop_cancels_an_actor_that_ignores_stop(autojump_clock: trio.abc.Clock) -> None:
    cleaned: list[float] = []

    class Stubborn(Actor):
        async def run(self, ctx: ActorContext) -> None:
            ctx.started()
            try:
                await trio.sleep_forever()
            finally:
                cleaned.append(trio.current_time())

    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, Stubborn(), name="stubborn")
        t0 = trio.current_time()
        exit = await ref.stop(grace=2.0)
    assert exit is not None and exit.reason == "killed"
    assert cleaned == [pytest.approx(t0 + 2.0)]


async def test_base_actor_run_must_be_overridden() -> None:
    async with trio.open_nursery() as nursery:
        with pytest.raises(NotImplementedError, match="must define"):
            await spawn(nursery, Actor(), name="abstract")


async def test_ctx_fields_and_emit() -> None:
    events = EventEmitter()
    seen: list[Any] = []
    events.on("hello", lambda *args: seen.append(args))
    info: dict[str, Any] = {}

    class Introspect(Actor):
        async def run(self, ctx: ActorContext) -> None:
            info.update(
                name=ctx.name,
                logger=ctx.log.name,
                ref=ctx.self_ref,
                incarnation=ctx.incarnation,
            )
            ctx.emit("hello", ctx.name, 1)
            ctx.started()

    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, Introspect(), name="intro", events=events)
    assert info == {"name": "intro", "logger": "voxtrio.actor.intro", "ref": ref, "incarnation": 1}
    assert seen == [("intro", 1)]
    assert isinstance(ref, ActorRef) and "intro" in repr(ref)


async def test_busy_actor_lets_others_run() -> None:
    """An actor whose inbox never runs dry still yields every YIELD_EVERY messages."""
    ticks = 0
    gaps: list[int] = []

    class Busy(Actor):
        async def run(self, ctx: ActorContext) -> None:
            handled, last_tick, since = 0, ticks, 0
            async for msg in ctx.messages():
                handled += 1
                since += 1
                if ticks != last_tick:
                    gaps.append(since)
                    last_tick, since = ticks, 0
                if handled == 5_000:
                    return
                ctx.self_ref.tell_nowait(msg)  # always has input

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await trio.lowlevel.checkpoint()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(ticker)
        ref = await spawn(nursery, Busy(), name="busy")
        for i in range(8):
            ref.tell_nowait(i)
        await ref.wait_exit()
        nursery.cancel_scope.cancel()
    assert len(gaps) > 5_000 // (2 * YIELD_EVERY)
    # trio runs a batch of ready tasks in random order, so the ticker may run just
    # before or just after a yield: two yield periods at most between sightings.
    assert max(gaps) <= 2 * YIELD_EVERY + 1


async def test_cancelling_the_nursery_ends_a_busy_actor_promptly() -> None:
    class Busy(Actor):
        async def run(self, ctx: ActorContext) -> None:
            async for msg in ctx.messages():
                ctx.self_ref.tell_nowait(msg)

    with trio.fail_after(1):
        async with trio.open_nursery() as nursery:
            ref = await spawn(nursery, Busy(), name="busy")
            ref.tell_nowait(0)
            await trio.sleep(0.01)
            nursery.cancel_scope.cancel()
    assert ref.last_exit is not None and ref.last_exit.reason == "killed"


async def test_validation_errors() -> None:
    async with trio.open_nursery() as nursery:
        with pytest.raises(ValueError, match="positive int"):
            await spawn(nursery, Recorder(), name="bad", inbox_capacity=0)
        ref = await spawn(nursery, Recorder(), name="ok")
        with pytest.raises(ValueError, match="ask timeout"):
            await ref.ask("x", timeout=-1)
        with pytest.raises(ValueError, match="stop grace"):
            await ref.stop(grace=float("nan"))
        await ref.stop()


async def test_close_inbox_drains_then_ends_messages() -> None:
    actor = Recorder()
    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, actor, name="rec")
        ref.tell_nowait(1)
        ref.tell_nowait(2)
        ref.close_inbox()
        with pytest.raises(ActorStopped, match="close_inbox"):
            ref.tell_nowait(3)
        exit = await ref.wait_exit()
    assert actor.seen == [1, 2] and actor.finished
    assert exit is not None and exit.reason == "normal"


async def test_control_wake_up_never_displaces_data() -> None:
    """The wake-up for a parked actor must not cost a data message, even in a one-slot
    drop_oldest inbox that receives data right after the control message."""
    got: list[Any] = []

    class Reader(Actor):
        async def run(self, ctx: ActorContext) -> None:
            async for msg in ctx.messages():
                got.append(msg)

    async with trio.open_nursery() as nursery:
        ref = await spawn(
            nursery, Reader(), name="reader", inbox_capacity=1, inbox_overflow="drop_oldest"
        )
        await trio.testing.wait_all_tasks_blocked()  # parked on the empty inbox
        ref.tell_control_nowait("interrupt")
        ref.tell_control_nowait("flush")
        ref.tell_nowait("frame")
        await trio.testing.wait_all_tasks_blocked()
        ref.tell_control_nowait(Stop())
    assert got == ["interrupt", "flush", "frame"]
    assert ref.statistics().dropped == 0


async def test_a_sender_that_never_blocks_still_yields() -> None:
    """`await tell()` into a drop_oldest inbox never waits, yet lets others run."""
    ticks = 0

    class Deaf(Actor):
        async def run(self, ctx: ActorContext) -> None:
            ctx.started()
            await trio.sleep_forever()

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await trio.lowlevel.checkpoint()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(ticker)
        ref = await spawn(
            nursery, Deaf(), name="deaf", inbox_capacity=4, inbox_overflow="drop_oldest"
        )
        before = ticks
        for i in range(5_000):
            await ref.tell(i)
        assert ticks - before >= 5_000 // (2 * YIELD_EVERY)
        nursery.cancel_scope.cancel()


async def test_ask_timeout_covers_waiting_for_inbox_room(autojump_clock: trio.abc.Clock) -> None:
    class Deaf(Actor):
        async def run(self, ctx: ActorContext) -> None:
            ctx.started()
            await trio.sleep_forever()

    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, Deaf(), name="deaf", inbox_capacity=1)
        ref.tell_nowait("fills the inbox")
        t0 = trio.current_time()
        with pytest.raises(AskTimeout):
            await ref.ask("anyone?", timeout=1.5)
        assert trio.current_time() - t0 == pytest.approx(1.5)
        assert ref.statistics().buffered == 1  # the Ask never got in
        nursery.cancel_scope.cancel()
