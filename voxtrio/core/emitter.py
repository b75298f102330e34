"""Named events with callbacks or `async for` streams.

    events = EventEmitter(valid_events={"started", "stopped"})

    @events.on("started")
    def announce(name: str) -> None:
        log.info("started %s", name)

    events.emit("started", "mic")          # runs `announce("mic")` inline

    async with events.events("stopped") as stream:
        async for event in stream:        # Event(name="stopped", args=(...))
            ...

Contract:

- A callback receives only as many positional arguments as it accepts (counted once, at
  registration); a callback with `*args` receives them all. So `emit("x", a, b)` can
  reach `def f(): ...`, `def f(a): ...` and `def f(*args): ...` alike.
- Sync callbacks run inline, in registration order. An exception in a callback is logged
  on the "voxtrio.events" logger and never reaches the code that called `emit()`.
- Async callbacks (`async def`) run as tasks in the nursery the emitter is bound to with
  `bind(nursery)`; their exceptions are logged too. Emitting an event that has an async
  callback while no nursery is bound raises `RuntimeError` before any callback runs.
- `emit()` iterates over a snapshot: a callback registered during an emit first runs on
  the next emit; a callback removed during an emit (and not reached yet) does not run; a
  `once` callback runs at most once even when a callback re-emits the same event.
- Registering the same callback twice for an event is a no-op (the first registration,
  `on` or `once`, wins); `off()` removes it whichever way it was registered.
- `events(*names)` subscribes a bounded mailbox; `emit()` never waits for it, so a slow
  subscriber loses events by its overflow policy (`drop_oldest` by default) and the
  mailbox counts them (`stream.statistics().dropped`). No names means every event.
- With `valid_events`, naming an unknown event in `on`/`once`/`off`/`emit`/`events`
  raises `ValueError` listing the valid names (catches typos like "user_speech_committed").
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Final, Literal, TypeVar, overload

import attrs
import trio

from voxtrio.core.mailbox import (
    MailboxFull,
    MailboxReceiver,
    MailboxSender,
    MailboxStatistics,
    open_mailbox,
)

__all__ = ["Event", "EventEmitter", "EventStream", "EventStreamOverflow", "StreamOverflow"]

logger = logging.getLogger("voxtrio.events")

F = TypeVar("F", bound=Callable[..., Any])

StreamOverflow = Literal["drop_oldest", "drop_newest", "error"]
_STREAM_OVERFLOWS: Final = ("drop_oldest", "drop_newest", "error")


@attrs.frozen(slots=True)
class Event:
    """One emitted event as seen by an `events()` stream: its name and positional args."""

    name: str
    args: tuple[Any, ...] = ()


class EventStreamOverflow(Exception):
    """An `events(..., overflow="error")` subscriber fell more than `capacity` events behind."""


class EventEmitter:
    """Callbacks and bounded streams keyed by event name (see the module docstring)."""

    def __init__(self, valid_events: Iterable[str] | None = None) -> None:
        self._valid: frozenset[str] | None = (
            frozenset(valid_events) if valid_events is not None else None
        )
        # Lists are replaced, never mutated, so emit() can iterate one without copying.
        self._listeners: dict[str, list[_Listener]] = {}
        self._streams: dict[str | None, list[EventStream]] = {}  # None: every event
        self._async_listeners = 0
        self._nursery: trio.Nursery | None = None

    # -- configuration -------------------------------------------------------------

    @property
    def valid_events(self) -> frozenset[str] | None:
        """The allowed event names, or None when any name is allowed."""
        return self._valid

    @property
    def nursery(self) -> trio.Nursery | None:
        """The nursery async callbacks run in, or None when unbound."""
        return self._nursery

    def bind(self, nursery: trio.Nursery | None) -> None:
        """Run async callbacks as tasks in `nursery` (None unbinds).

        Tasks already started keep running in the nursery they started in.
        """
        self._nursery = nursery

    # -- callbacks -----------------------------------------------------------------

    @overload
    def on(self, event: str, callback: None = None) -> Callable[[F], F]: ...
    @overload
    def on(self, event: str, callback: F) -> F: ...
    @overload
    def on(
        self, event: str, callback: Callable[..., Any] | None
    ) -> Callable[..., Any]: ...  # a pass-through of an optional callback
    def on(self, event: str, callback: F | None = None) -> F | Callable[[F], F]:
        """Call `callback` on every `emit(event, ...)`; without a callback, a decorator."""
        return self._register(event, callback, once=False)

    @overload
    def once(self, event: str, callback: None = None) -> Callable[[F], F]: ...
    @overload
    def once(self, event: str, callback: F) -> F: ...
    @overload
    def once(
        self, event: str, callback: Callable[..., Any] | None
    ) -> Callable[..., Any]: ...  # a pass-through of an optional callback
    def once(self, event: str, callback: F | None = None) -> F | Callable[[F], F]:
        """Call `callback` on the next `emit(event, ...)` only; without a callback, a decorator."""
        return self._register(event, callback, once=True)

    def off(self, event: str, callback: Callable[..., Any]) -> None:
        """Remove `callback` from `event` (registered by `on` or `once`); absent is a no-op."""
        self._check_name(event)
        for listener in self._listeners.get(event, ()):
            if listener.callback == callback:
                self._remove(event, listener)
                return

    def listener_count(self, event: str) -> int:
        """How many callbacks are registered for `event` (streams not counted)."""
        return len(self._listeners.get(event, ()))

    def emit(self, event: str, *args: Any) -> None:
        """Run the callbacks of `event` with `args` and feed its streams.

        Raises ValueError for a name outside `valid_events`, RuntimeError when the event
        has an async callback and no nursery is bound. Never raises a callback's error.
        """
        valid = self._valid
        if valid is not None and event not in valid:
            self._check_name(event)  # raises with the list of valid names
        listeners = self._listeners.get(event)
        if listeners:
            if self._async_listeners and self._nursery is None:
                for listener in listeners:
                    if listener.is_async:
                        raise RuntimeError(
                            f"event {event!r} has an async callback "
                            f"({_describe(listener.callback)}) but the emitter is not bound to "
                            "a nursery: call emitter.bind(nursery) first, or register a sync "
                            "callback"
                        )
            for listener in listeners:
                if not listener.active:
                    continue  # removed by an earlier callback of this same emit
                if listener.once:
                    self._remove(event, listener)
                limit = listener.max_args
                call_args = args if limit is None or limit >= len(args) else args[:limit]
                if listener.is_async:
                    self._start_async(event, listener.callback, call_args)
                else:
                    self._call_sync(event, listener.callback, call_args)
        if not self._streams:
            return
        streams = self._streams.get(event)
        every = self._streams.get(None)
        if streams or every:
            item = Event(event, args)
            for stream in streams or ():
                stream._deliver(item)
            for stream in every or ():
                stream._deliver(item)

    # -- streams -------------------------------------------------------------------

    def events(
        self, *names: str, capacity: int = 64, overflow: StreamOverflow = "drop_oldest"
    ) -> EventStream:
        """Subscribe a bounded mailbox to `names` (none: every event) and return its stream.

        The subscription starts now, so nothing emitted after this call is missed. Use it
        as `async with emitter.events(...) as stream: async for event in stream: ...`;
        leaving the block (or `close()`) unsubscribes. `overflow` is how a full mailbox
        behaves: "drop_oldest" (default), "drop_newest", or "error" (the stream ends with
        `EventStreamOverflow` after the buffered events). "block" is refused: `emit()` is
        synchronous and cannot wait for a subscriber.
        """
        for name in names:
            self._check_name(name)
        if overflow not in _STREAM_OVERFLOWS:
            raise ValueError(
                f"events() overflow must be one of {', '.join(_STREAM_OVERFLOWS)}: got "
                f"{overflow!r} (emit() is synchronous and cannot wait for a slow subscriber)"
            )
        stream = EventStream(self, tuple(dict.fromkeys(names)), capacity, overflow)
        for key in stream.names or (None,):
            self._streams[key] = [*self._streams.get(key, ()), stream]
        return stream

    # -- internals -----------------------------------------------------------------

    def _check_name(self, event: str) -> None:
        if self._valid is not None and event not in self._valid:
            raise ValueError(
                f"unknown event {event!r}: valid events are {', '.join(sorted(self._valid))}"
            )

    def _register(self, event: str, callback: F | None, *, once: bool) -> F | Callable[[F], F]:
        self._check_name(event)
        if callback is None:

            def decorator(fn: F) -> F:
                self._register(event, fn, once=once)
                return fn

            return decorator
        if not callable(callback):
            raise TypeError(f"callback for event {event!r} must be callable: got {callback!r}")
        current = self._listeners.get(event, [])
        if any(listener.callback == callback for listener in current):
            return callback
        listener = _Listener(callback, once=once)
        self._listeners[event] = [*current, listener]
        if listener.is_async:
            self._async_listeners += 1
        return callback

    def _remove(self, event: str, listener: _Listener) -> None:
        if not listener.active:
            return
        listener.active = False
        remaining = [other for other in self._listeners.get(event, ()) if other is not listener]
        if remaining:
            self._listeners[event] = remaining
        else:
            self._listeners.pop(event, None)
        if listener.is_async:
            self._async_listeners -= 1

    def _unsubscribe(self, stream: EventStream) -> None:
        for key in stream.names or (None,):
            remaining = [other for other in self._streams.get(key, ()) if other is not stream]
            if remaining:
                self._streams[key] = remaining
            else:
                self._streams.pop(key, None)

    def _call_sync(self, event: str, callback: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            result = callback(*args)
        except Exception:
            logger.exception("callback %s for event %r raised", _describe(callback), event)
            return
        if inspect.iscoroutine(result):
            # A sync function that returns a coroutine (a lambda around an async call):
            # closing it avoids the "never awaited" warning; the log says how to fix it.
            result.close()
            logger.error(
                "callback %s for event %r returned a coroutine that was not run: register "
                "an `async def` function instead",
                _describe(callback),
                event,
            )

    def _start_async(self, event: str, callback: Callable[..., Any], args: tuple[Any, ...]) -> None:
        assert self._nursery is not None  # checked in emit()
        try:
            self._nursery.start_soon(
                _run_async_callback,
                event,
                callback,
                args,
                name=f"on {event}: {_describe(callback)}",
            )
        except RuntimeError:  # the nursery has closed: the owner is shutting down
            logger.warning(
                "async callback %s for event %r not run: the bound nursery is closed",
                _describe(callback),
                event,
            )


class EventStream:
    """A bounded subscription returned by `EventEmitter.events()`.

        async with emitter.events("error", capacity=16) as stream:
            async for event in stream:
                print(event.name, event.args)

    Iteration ends after `close()` (or leaving the `async with`); with overflow "error" it
    raises `EventStreamOverflow` once the events buffered before the overflow are read.
    """

    def __init__(
        self,
        emitter: EventEmitter,
        names: tuple[str, ...],
        capacity: int,
        overflow: StreamOverflow,
    ) -> None:
        self._emitter = emitter
        self._names = names
        self._overflow: StreamOverflow = overflow
        self._send: MailboxSender[Event]
        self._receive: MailboxReceiver[Event]
        self._send, self._receive = open_mailbox(capacity, overflow)
        self._subscribed = True
        self._overflowed = False

    @property
    def names(self) -> tuple[str, ...]:
        """The subscribed event names; empty means every event."""
        return self._names

    @property
    def dropped(self) -> int:
        """How many events this subscriber lost because its mailbox was full."""
        return self._receive.statistics().dropped

    def statistics(self) -> MailboxStatistics:
        """The mailbox counters: capacity, buffered, sent, received, dropped, ..."""
        return self._receive.statistics()

    async def receive(self) -> Event:
        """The next event; raises trio.EndOfChannel once the stream is closed."""
        try:
            return await self._receive.receive()
        except trio.EndOfChannel:
            if self._overflowed:
                raise EventStreamOverflow(
                    f"event subscriber for {self._describe_names()} fell more than "
                    f"{self._receive.statistics().capacity} events behind: raise capacity= "
                    "or use overflow='drop_oldest'"
                ) from None
            raise
        except trio.ClosedResourceError:
            raise trio.EndOfChannel from None

    def close(self) -> None:
        """Unsubscribe; buffered events are discarded and iteration ends."""
        self._unsubscribe()
        self._send.close()
        self._receive.close()

    async def aclose(self) -> None:
        """Same as `close()`, with a checkpoint."""
        self.close()
        await trio.lowlevel.checkpoint()

    async def __aenter__(self) -> EventStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Event:
        try:
            return await self.receive()
        except trio.EndOfChannel:
            raise StopAsyncIteration from None

    def _deliver(self, event: Event) -> None:
        try:
            self._send.send_nowait(event)
        except MailboxFull:
            self._overflowed = True
            self._unsubscribe()
            self._send.close()
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self._unsubscribe()  # the subscriber went away without close()

    def _unsubscribe(self) -> None:
        if self._subscribed:
            self._subscribed = False
            self._emitter._unsubscribe(self)

    def _describe_names(self) -> str:
        return ", ".join(repr(name) for name in self._names) if self._names else "every event"


@attrs.define(slots=True, eq=False)
class _Listener:
    callback: Callable[..., Any]
    once: bool
    max_args: int | None = attrs.field(init=False)
    is_async: bool = attrs.field(init=False)
    active: bool = attrs.field(init=False, default=True)

    def __attrs_post_init__(self) -> None:
        self.max_args = _positional_capacity(self.callback)
        self.is_async = _is_async_callable(self.callback)


async def _run_async_callback(
    event: str, callback: Callable[..., Any], args: tuple[Any, ...]
) -> None:
    try:
        await callback(*args)
    except Exception:
        logger.exception("async callback %s for event %r raised", _describe(callback), event)


def _positional_capacity(callback: Callable[..., Any]) -> int | None:
    """How many positional args `callback` takes; None for `*args` or an opaque signature."""
    try:
        signature = inspect.signature(callback)
    except (TypeError, ValueError):  # some builtins hide their signature: pass everything
        return None
    count = 0
    for parameter in signature.parameters.values():
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            return None
        if parameter.kind in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        ):
            count += 1
    return count


def _is_async_callable(callback: Callable[..., Any]) -> bool:
    if inspect.iscoroutinefunction(callback):
        return True
    call = getattr(callback, "__call__", None)  # noqa: B004 - objects with `async def __call__`
    return call is not None and inspect.iscoroutinefunction(call)


def _describe(callback: Callable[..., Any]) -> str:
    return getattr(callback, "__qualname__", None) or repr(callback)
