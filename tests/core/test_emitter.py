"""EventEmitter: callbacks (sync and async), once/off during emit, and events() streams."""

from __future__ import annotations

import functools
import logging
from typing import Any

import pytest
import trio
import trio.testing

from voxtrio.core.emitter import Event, EventEmitter, EventStreamOverflow

# -- argument trimming ---------------------------------------------------------------


def test_callbacks_receive_only_the_args_they_accept() -> None:
    em = EventEmitter()
    seen: list[Any] = []

    def none() -> None:
        seen.append("none")

    def one(a: int) -> None:
        seen.append(("one", a))

    def two_with_default(a: int, b: int, c: int = 99) -> None:
        seen.append(("three", a, b, c))

    def star(*args: int) -> None:
        seen.append(("star", args))

    def keyword_only(a: int, *, flag: bool = True) -> None:
        seen.append(("kw", a, flag))

    for cb in (none, one, two_with_default, star, keyword_only):
        em.on("x", cb)
    em.emit("x", 1, 2)

    assert seen == [
        "none",
        ("one", 1),
        ("three", 1, 2, 99),
        ("star", (1, 2)),
        ("kw", 1, True),
    ]


def test_bound_methods_and_partials_are_trimmed_too() -> None:
    em = EventEmitter()
    seen: list[Any] = []

    class Listener:
        def handle(self, a: int) -> None:
            seen.append(("method", a))

    def three(prefix: str, a: int, b: int) -> None:
        seen.append((prefix, a, b))

    em.on("x", Listener().handle)
    em.on("x", functools.partial(three, "partial"))
    em.emit("x", 1, 2, 3)
    assert seen == [("method", 1), ("partial", 1, 2)]


def test_fewer_args_than_accepted_are_passed_as_given() -> None:
    em = EventEmitter()
    seen: list[Any] = []
    em.on("x", lambda a=0, b=0: seen.append((a, b)))
    em.emit("x", 5)
    assert seen == [(5, 0)]


def test_decorator_form_returns_the_function() -> None:
    em = EventEmitter()
    seen: list[str] = []

    @em.on("greet")
    def greet(name: str) -> None:
        seen.append(name)

    @em.once("greet")
    def greet_once(name: str) -> None:
        seen.append("once " + name)

    em.emit("greet", "ada")
    em.emit("greet", "bob")
    assert greet("direct") is None
    assert seen == ["ada", "once ada", "bob", "direct"]


def test_registering_the_same_callback_twice_runs_it_once() -> None:
    em = EventEmitter()
    seen: list[int] = []
    cb = seen.append
    em.on("x", cb)
    em.on("x", cb)
    em.emit("x", 1)
    assert seen == [1]
    assert em.listener_count("x") == 1


# -- once / off ----------------------------------------------------------------------


def test_once_runs_once_and_off_removes() -> None:
    em = EventEmitter()
    seen: list[str] = []

    def a() -> None:
        seen.append("a")

    def b() -> None:
        seen.append("b")

    em.once("x", a)
    em.on("x", b)
    em.emit("x")
    em.emit("x")
    em.off("x", b)
    em.emit("x")
    em.off("x", b)  # absent: no-op
    assert seen == ["a", "b", "b"]


def test_off_removes_a_once_callback_before_it_runs() -> None:
    em = EventEmitter()
    seen: list[str] = []

    def a() -> None:
        seen.append("a")

    em.once("x", a)
    em.off("x", a)
    em.emit("x")
    assert seen == []


def test_off_during_emit_skips_a_callback_not_reached_yet() -> None:
    em = EventEmitter()
    seen: list[str] = []

    def second() -> None:
        seen.append("second")

    def first() -> None:
        seen.append("first")
        em.off("x", second)

    em.on("x", first)
    em.on("x", second)
    em.emit("x")
    em.emit("x")
    assert seen == ["first", "first"]


def test_on_during_emit_takes_effect_on_the_next_emit() -> None:
    em = EventEmitter()
    seen: list[str] = []

    def late() -> None:
        seen.append("late")

    def first() -> None:
        seen.append("first")
        em.on("x", late)

    em.on("x", first)
    em.emit("x")
    assert seen == ["first"]
    em.emit("x")
    assert seen == ["first", "first", "late"]


def test_once_callback_runs_once_even_when_it_re_emits() -> None:
    em = EventEmitter()
    calls: list[int] = []

    def recurse(depth: int) -> None:
        calls.append(depth)
        if depth < 3:
            em.emit("x", depth + 1)

    em.once("x", recurse)
    em.emit("x", 0)
    assert calls == [0]


def test_once_callback_runs_once_when_another_callback_re_emits() -> None:
    em = EventEmitter()
    once_calls: list[int] = []
    other_calls: list[int] = []

    def other(depth: int) -> None:
        other_calls.append(depth)
        if depth == 0:
            em.emit("x", 1)

    em.on("x", other)
    em.once("x", once_calls.append)
    em.emit("x", 0)
    assert other_calls == [0, 1]
    assert once_calls == [1]  # the nested emit reached it first; the outer one skipped it


# -- errors contained ----------------------------------------------------------------


def test_callback_exceptions_are_logged_and_contained(caplog: pytest.LogCaptureFixture) -> None:
    em = EventEmitter()
    seen: list[str] = []

    def broken() -> None:
        raise ZeroDivisionError("boom")

    em.on("x", broken)
    em.on("x", lambda: seen.append("after"))
    with caplog.at_level(logging.ERROR, logger="voxtrio.events"):
        em.emit("x")
    assert seen == ["after"]
    [record] = [r for r in caplog.records if r.name == "voxtrio.events"]
    assert "broken" in record.getMessage() and "'x'" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is ZeroDivisionError


def test_sync_callback_returning_a_coroutine_is_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    em = EventEmitter()

    async def work() -> None:
        raise AssertionError("must not run")

    em.on("x", lambda: work())
    with caplog.at_level(logging.ERROR, logger="voxtrio.events"):
        em.emit("x")
    assert "async def" in caplog.text


def test_valid_events_rejects_unknown_names() -> None:
    em = EventEmitter(valid_events={"started", "stopped"})
    em.on("started", lambda: None)
    em.emit("stopped")
    for call in (
        lambda: em.on("strated", lambda: None),
        lambda: em.once("strated", lambda: None),
        lambda: em.off("strated", print),
        lambda: em.emit("strated"),
        lambda: em.events("strated"),
    ):
        with pytest.raises(ValueError, match="'strated'.*started, stopped"):
            call()


def test_non_callable_is_rejected() -> None:
    em = EventEmitter()
    with pytest.raises(TypeError, match="callable"):
        em.on("x", 42)  # type: ignore[call-overload]


# -- async callbacks -----------------------------------------------------------------


async def test_async_callbacks_run_in_the_bound_nursery() -> None:
    em = EventEmitter()
    seen: list[Any] = []

    async def handler(a: int) -> None:
        await trio.lowlevel.checkpoint()
        seen.append(("async", a, trio.lowlevel.current_task().parent_nursery))

    em.on("x", handler)
    async with trio.open_nursery() as nursery:
        em.bind(nursery)
        em.emit("x", 7, "trimmed")
        assert seen == []  # started as a task, not run inline
    assert seen == [("async", 7, nursery)]


async def test_async_callback_errors_are_logged_not_fatal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    em = EventEmitter()
    done = trio.Event()

    async def broken() -> None:
        raise KeyError("nope")

    async def fine() -> None:
        done.set()

    em.on("x", broken)
    em.on("x", fine)
    with caplog.at_level(logging.ERROR, logger="voxtrio.events"):
        async with trio.open_nursery() as nursery:
            em.bind(nursery)
            em.emit("x")
    assert done.is_set()
    assert "broken" in caplog.text and "KeyError" in caplog.text


async def test_async_callback_without_a_nursery_raises_before_running_any() -> None:
    em = EventEmitter()
    seen: list[str] = []

    async def handler() -> None:
        seen.append("async")

    em.on("x", lambda: seen.append("sync"))
    em.on("x", handler)
    with pytest.raises(RuntimeError, match="bind\\(nursery\\)"):
        em.emit("x")
    assert seen == []
    em.emit("y")  # other events are unaffected


async def test_async_once_callback_runs_once() -> None:
    em = EventEmitter()
    seen: list[int] = []

    async def handler(n: int) -> None:
        seen.append(n)

    em.once("x", handler)
    async with trio.open_nursery() as nursery:
        em.bind(nursery)
        em.emit("x", 1)
        em.emit("x", 2)
    assert seen == [1]


async def test_object_with_async_call_is_treated_as_async() -> None:
    em = EventEmitter()
    seen: list[int] = []

    class Handler:
        async def __call__(self, n: int) -> None:
            seen.append(n)

    em.on("x", Handler())
    async with trio.open_nursery() as nursery:
        em.bind(nursery)
        em.emit("x", 3)
    assert seen == [3]


# -- events() streams ----------------------------------------------------------------


async def test_events_stream_yields_events_in_order() -> None:
    em = EventEmitter()
    async with em.events("a", "b") as stream:
        em.emit("a", 1)
        em.emit("c", "ignored")
        em.emit("b", 2, 3)
        assert await stream.__anext__() == Event("a", (1,))
        assert await stream.__anext__() == Event("b", (2, 3))
        assert stream.statistics().buffered == 0


async def test_events_without_names_receives_every_event() -> None:
    em = EventEmitter()
    async with em.events() as stream:
        em.emit("a")
        em.emit("b", 1)
        received = [await stream.receive(), await stream.receive()]
    assert [e.name for e in received] == ["a", "b"]


async def test_slow_subscriber_loses_the_oldest_and_counts_them(
    autojump_clock: trio.testing.MockClock,
) -> None:
    em = EventEmitter()
    received: list[int] = []

    async def slow(stream_ready: trio.Event) -> None:
        async with em.events("tick", capacity=4) as stream:
            stream_ready.set()
            async for event in stream:
                received.append(event.args[0])
                await trio.sleep(1.0)  # far slower than the emitter
                if event.args[0] == 19:
                    assert stream.dropped == 15
                    return

    async with trio.open_nursery() as nursery:
        ready = trio.Event()
        nursery.start_soon(slow, ready)
        await ready.wait()
        for i in range(20):
            em.emit("tick", i)
    # The first event was taken at once; of the other 19 only the newest 4 survived.
    assert received == [0, 16, 17, 18, 19]


async def test_drop_newest_keeps_the_oldest() -> None:
    em = EventEmitter()
    async with em.events("x", capacity=2, overflow="drop_newest") as stream:
        for i in range(5):
            em.emit("x", i)
        assert [(await stream.receive()).args for _ in range(2)] == [(0,), (1,)]
        assert stream.dropped == 3


async def test_error_overflow_ends_the_stream_after_the_buffer() -> None:
    em = EventEmitter()
    stream = em.events("x", capacity=2, overflow="error")
    for i in range(3):
        em.emit("x", i)  # the third overflows: the emitter is unaffected
    got = [(await stream.receive()).args[0] for _ in range(2)]
    assert got == [0, 1]
    with pytest.raises(EventStreamOverflow, match="capacity"):
        await stream.receive()
    em.emit("x", 4)  # unsubscribed: no error, nothing delivered
    stream.close()


def test_block_overflow_is_refused() -> None:
    em = EventEmitter()
    with pytest.raises(ValueError, match="synchronous"):
        em.events("x", overflow="block")  # type: ignore[arg-type]


async def test_leaving_the_block_unsubscribes() -> None:
    em = EventEmitter()
    async with em.events("x") as stream:
        em.emit("x", 1)
    em.emit("x", 2)  # nobody listens any more: must not raise
    assert stream.statistics().sent == 1
    assert [e async for e in stream] == []  # closed: iteration ends at once
    assert not em._streams  # the emitter holds no reference to the closed stream


async def test_closing_ends_a_waiting_iterator(autojump_clock: trio.testing.MockClock) -> None:
    em = EventEmitter()
    stream = em.events("x")
    got: list[Event] = []

    async def consume() -> None:
        async for event in stream:
            got.append(event)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(consume)
        await trio.sleep(1)
        em.emit("x", 1)
        await trio.sleep(1)
        stream.close()
    assert got == [Event("x", (1,))]


async def test_two_subscribers_each_get_every_event() -> None:
    em = EventEmitter()
    async with em.events("x") as first, em.events("x") as second:
        em.emit("x", "hello")
        assert (await first.receive()).args == ("hello",)
        assert (await second.receive()).args == ("hello",)


async def test_emit_after_the_bound_nursery_closed_logs_and_skips(
    caplog: pytest.LogCaptureFixture,
) -> None:
    em = EventEmitter()
    seen: list[str] = []

    async def handler() -> None:
        seen.append("async")

    em.on("x", handler)
    em.on("x", lambda: seen.append("sync"))
    async with trio.open_nursery() as nursery:
        em.bind(nursery)
    with caplog.at_level(logging.WARNING, logger="voxtrio.events"):
        em.emit("x")
    assert seen == ["sync"]
    assert "nursery is closed" in caplog.text
    em.bind(None)
    with pytest.raises(RuntimeError, match="not bound"):
        em.emit("x")
