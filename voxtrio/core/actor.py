"""Actors: isolated trio tasks that talk to the rest only through bounded mailboxes.

    class Counter(Actor):
        async def run(self, ctx: ActorContext) -> None:
            total = 0
            ctx.started()                          # ready: spawn() returns now
            async for msg in ctx.messages():       # control first; ends on Stop
                if isinstance(msg, Ask):
                    msg.reply(total)
                else:
                    total += msg

    async with trio.open_nursery() as nursery:
        counter = await spawn(nursery, Counter(), name="counter")
        counter.tell_nowait(2)
        assert await counter.ask("total?", timeout=1.0) == 2
        await counter.stop()                       # Stop, grace period, then cancel

Contract:

- An actor has two mailboxes: *data* (`ctx.inbox`, bounded, overflow policy chosen at
  spawn) and *control* (`ctx.control`: interrupt / flush / `Stop`, small, blocking).
  `ctx.messages()` always hands out pending control messages before data and ends when
  it meets `Stop` (or when the data inbox ends). Actors that need more than one input
  may read `ctx.inbox` / `ctx.control` directly instead.
- `spawn()` returns once the actor called `ctx.started()` (readiness). Iterating
  `ctx.messages()` marks the actor ready if it has not said so yet.
- An `ActorRef` is the only handle other code gets. `tell` / `tell_nowait` send data,
  `tell_control` / `tell_control_nowait` send control, `ask` is request-reply: the actor
  receives an `Ask` envelope and answers with `.reply(value)` or `.fail(exc)`.
- Telling a dead actor raises `ActorStopped`; so does `ask` when the actor is dead or
  exits before replying. `ask` raises `AskTimeout` when no reply comes in time.
- Under a `Supervisor` the same `ActorRef` follows the actor across restarts: the
  mailboxes outlive a crashed incarnation (messages buffered for it go to the next one;
  stale control messages are discarded), and only when the actor is gone for good are
  its mailboxes closed and its refs start raising `ActorStopped`.
- A spawned actor that raises takes its nursery down, as any trio task would; put it
  under a `Supervisor` to have failures restarted instead.

Hot path: `tell_nowait` is one mailbox `send_nowait` plus an exception guard, and
`ctx.messages()` takes a buffered message without a scheduler round-trip, yielding to
other tasks every `YIELD_EVERY` messages so a busy actor never starves the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal, final

import attrs
import trio
from outcome import Error, Outcome, Value

from voxtrio.core.emitter import EventEmitter
from voxtrio.core.errors import ActorError, ActorStopped, AskTimeout
from voxtrio.core.mailbox import (
    YIELD_EVERY,
    MailboxReceiver,
    MailboxSender,
    MailboxStatistics,
    Overflow,
    open_mailbox,
)

__all__ = [
    "Actor",
    "ActorContext",
    "ActorError",
    "ActorExit",
    "ActorRef",
    "ActorStopped",
    "Ask",
    "AskTimeout",
    "ExitReason",
    "Stop",
    "spawn",
]

ExitReason = Literal["normal", "stopped", "exception", "killed"]
"""Why an actor incarnation ended: its `run` returned by itself ("normal"), returned
after being asked to stop ("stopped"), raised ("exception"), or was cancelled ("killed")."""


@final
class _Wake:
    """Sentinel put in a parked actor's data inbox to make it look at control."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<wake: control pending>"


_WAKE = _Wake()
_checkpoint = trio.lowlevel.checkpoint


class Actor:
    """Base class of actors: override `run`.

        class Printer(Actor):
            async def run(self, ctx: ActorContext) -> None:
                ctx.started()
                async for line in ctx.messages():
                    ctx.log.info("%s", line)

    `run` owns the actor's lifetime: it returns (or raises) when the actor is done.
    Everything the actor starts belongs in nurseries opened inside `run`, so that
    ending `run` ends them. One `Actor` object runs once; a supervisor builds a fresh
    one from its factory for every restart.
    """

    async def run(self, ctx: ActorContext) -> None:
        """The actor's body. Call `ctx.started()` once ready to serve."""
        raise NotImplementedError(f"{type(self).__name__} must define `async def run(self, ctx)`")  # abstract


@final
@attrs.frozen(slots=True)
class Stop:
    """The polite stop request, delivered on the control mailbox.

    `ctx.messages()` ends when it meets one; an actor reading `ctx.control` itself
    should return from `run` soon after receiving it. A supervisor's shutdown ladder
    sends it first and cancels the actor only if it has not exited within the grace
    period.
    """

    reason: str = ""


@final
@attrs.frozen(slots=True)
class ActorExit:
    """How one incarnation of an actor ended (`ActorRef.last_exit`, supervisor events)."""

    name: str
    incarnation: int
    reason: ExitReason
    error: BaseException | None = None


@final
class _ReplySlot:
    """One-shot reply cell shared by an `ask` caller and its `Ask` envelope."""

    __slots__ = ("event", "outcome")

    def __init__(self) -> None:
        self.event = trio.Event()
        self.outcome: Outcome[Any] | None = None

    def settle(self, outcome: Outcome[Any]) -> bool:
        if self.outcome is not None:
            return False
        self.outcome = outcome
        self.event.set()
        return True


@final
@attrs.frozen(slots=True, eq=False)
class Ask:
    """A request that expects one reply, as an actor receives it from `ActorRef.ask`.

        async for msg in ctx.messages():
            if isinstance(msg, Ask):
                msg.reply(lookup(msg.message))      # or msg.fail(KeyError(...))

    The first `reply`/`fail` wins and returns True; later ones (or ones after the asker
    timed out or the actor restarted) are ignored and return False, so answering never
    raises. An exception passed to `fail` is raised in the asker.
    """

    message: Any
    _slot: _ReplySlot = attrs.field(repr=False)

    def reply(self, value: Any = None) -> bool:
        """Answer with `value`; False if the request was already settled."""
        return self._slot.settle(Value(value))

    def fail(self, error: BaseException) -> bool:
        """Answer by raising `error` in the asker; False if already settled."""
        return self._slot.settle(Error(error))

    @property
    def settled(self) -> bool:
        """True once answered (or abandoned because the actor exited)."""
        return self._slot.outcome is not None


@final
class _Incarnation:
    """Runtime state of one run of an actor."""

    __slots__ = ("number", "scope", "exited", "stop_requested", "exit")

    def __init__(self, number: int) -> None:
        self.number = number
        self.scope = trio.CancelScope()
        self.exited = trio.Event()
        self.stop_requested = False
        self.exit: ActorExit | None = None


@final
class ActorRef:
    """The handle to an actor: send it messages, ask it questions, stop it.

        ref.tell_nowait(frame)                 # WouldBlock if full under "block"
        await ref.tell(text)                   # waits for room (back-pressure)
        ref.tell_control_nowait(Interrupt())   # jumps ahead of queued data
        answer = await ref.ask(Query(), timeout=2.0)
        await ref.stop(grace=1.0)

    Refs are created by `spawn` and by `Supervisor`; never construct one directly.
    Under a supervisor a ref stays valid across restarts (see the module docs).
    Sending to an actor that is gone raises `ActorStopped`.
    """

    __slots__ = (
        "name",
        "started_value",
        "_data",
        "_control",
        "_data_rx",
        "_control_rx",
        "_closed",
        "_input_closed",
        "_control_pending",
        "_parked",
        "_budget",
        "_pending",
        "_current",
        "_count",
        "_last_exit",
        "__weakref__",
    )

    def __init__(
        self,
        name: str,
        *,
        inbox_capacity: int = 64,
        inbox_overflow: Overflow = "block",
        control_capacity: int = 16,
    ) -> None:
        self.name = name
        #: The value the current incarnation passed to `ctx.started(value)`.
        self.started_value: Any = None
        self._data: MailboxSender[Any]
        self._control: MailboxSender[Any]
        self._data_rx: MailboxReceiver[Any]
        self._control_rx: MailboxReceiver[Any]
        self._closed = True
        self._input_closed = False
        self._control_pending = False
        self._parked = False  # the actor waits in ctx.messages() on an empty inbox
        self._budget = YIELD_EVERY  # tell() calls left before a forced checkpoint
        self._pending: set[_ReplySlot] = set()
        self._current: _Incarnation | None = None
        self._count = 0
        self._last_exit: ActorExit | None = None
        self._open_mailboxes(inbox_capacity, inbox_overflow, control_capacity)

    # -- sending ---------------------------------------------------------------------

    def tell_nowait(self, msg: Any) -> None:
        """Put `msg` in the data inbox without waiting.

        Raises `trio.WouldBlock` when the inbox is full under overflow "block",
        `MailboxFull` under "error" (the drop policies never raise), `ActorStopped`
        when the actor is gone.
        """
        try:
            self._data.send_nowait(msg)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise self._stopped_error() from self._last_cause()

    async def tell(self, msg: Any) -> None:
        """Put `msg` in the data inbox, waiting for room under overflow "block".

        Raises `ActorStopped` when the actor is gone (also if it goes while we wait).
        Like the mailbox's `send`, it completes without a scheduler round-trip when
        there is room, and yields every `YIELD_EVERY` calls so a busy sender cannot
        starve other tasks.
        """
        self._budget -= 1
        if self._budget <= 0:
            # Yield before sending: a Cancelled here means nothing was sent.
            self._budget = YIELD_EVERY
            await _checkpoint()
        try:
            self._data.send_nowait(msg)
            return
        except trio.WouldBlock:
            pass
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise self._stopped_error() from self._last_cause()
        try:
            await self._data.send(msg)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise self._stopped_error() from self._last_cause()

    def tell_control_nowait(self, msg: Any) -> None:
        """Put `msg` in the control inbox (ahead of all data) without waiting.

        Raises `trio.WouldBlock` when the control inbox is full, `ActorStopped` when the
        actor is gone.
        """
        try:
            self._control.send_nowait(msg)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise self._stopped_error() from self._last_cause()
        self._ring()

    async def tell_control(self, msg: Any) -> None:
        """Put `msg` in the control inbox, waiting for room; `ActorStopped` if gone."""
        try:
            await self._control.send(msg)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise self._stopped_error() from self._last_cause()
        self._ring()

    # A deadline per request is part of ask's contract (a caller must never wait
    # forever on an actor), hence the timeout parameter trio style usually avoids.
    async def ask(self, msg: Any, *, timeout: float = 5.0) -> Any:  # noqa: ASYNC109
        """Send `msg` wrapped in an `Ask` and return the actor's reply.

        The timeout (seconds of trio time, `math.inf` for none) covers both waiting for
        inbox room and waiting for the reply. Raises `AskTimeout` when it expires,
        `ActorStopped` when the actor is gone or exits before replying, and whatever
        exception the actor passed to `Ask.fail`.
        """
        _validate_timeout("ask timeout", timeout)
        slot = _ReplySlot()
        self._pending.add(slot)
        try:
            with trio.move_on_after(timeout):
                await self.tell(Ask(msg, slot))
                await slot.event.wait()
        finally:
            self._pending.discard(slot)
        if slot.outcome is None:
            slot.settle(Error(AskTimeout("abandoned", actor=self.name, timeout=timeout)))
            raise AskTimeout(
                f"actor {self.name!r} did not reply to {type(msg).__name__} within "
                f"{timeout:g} s: raise the timeout, or check the actor answers every Ask "
                "with reply() or fail()",
                actor=self.name,
                timeout=timeout,
            )
        return slot.outcome.unwrap()

    def close_inbox(self) -> None:
        """Declare the end of the data stream: the actor still receives what is
        buffered, then `ctx.messages()` ends (the mailbox reports `EndOfChannel`).
        Later data sends raise `ActorStopped`; control messages still go through.
        Use it for finite streams with a single producer: it closes the inbox for every
        holder of this ref.
        """
        self._input_closed = True
        self._data.close()

    # -- lifecycle -------------------------------------------------------------------

    async def stop(self, *, grace: float = 5.0, reason: str = "") -> ActorExit | None:
        """Stop the current incarnation: send `Stop`, wait up to `grace` seconds for it
        to exit, then cancel it. Returns how it ended (None if it never ran).

        Bounded: returns within `grace` plus the time the actor takes to honour
        cancellation. Under a supervisor use `Supervisor.stop_child` instead, or the
        supervisor will restart the actor according to its restart type.
        """
        _validate_timeout("stop grace", grace)
        inc = self._current
        if inc is None:
            return None
        if not inc.exited.is_set():
            inc.stop_requested = True
            with trio.move_on_after(grace):
                try:
                    await self.tell_control(Stop(reason))
                except ActorStopped:
                    pass
                await inc.exited.wait()
            if not inc.exited.is_set():
                inc.scope.cancel()
                await inc.exited.wait()
        return inc.exit

    async def wait_exit(self) -> ActorExit | None:
        """Wait until the current incarnation exits; return how (None if it never ran)."""
        inc = self._current
        if inc is None:
            return None
        await inc.exited.wait()
        return inc.exit

    @property
    def alive(self) -> bool:
        """True while an incarnation of the actor is running."""
        inc = self._current
        return inc is not None and not inc.exited.is_set()

    @property
    def incarnation(self) -> int:
        """How many times the actor has been started (1 for its first run)."""
        return self._count

    @property
    def last_exit(self) -> ActorExit | None:
        """How the most recent incarnation ended, or None if none has ended yet."""
        return self._last_exit

    def statistics(self) -> MailboxStatistics:
        """Counters of the data inbox (capacity, buffered, sent, received, dropped...)."""
        return self._data.statistics()

    def control_statistics(self) -> MailboxStatistics:
        """Counters of the control inbox."""
        return self._control.statistics()

    def __repr__(self) -> str:
        state = "alive" if self.alive else "stopped"
        return f"<ActorRef {self.name!r} {state} incarnation={self._count}>"

    # -- runtime internals -------------------------------------------------------------

    def _ring(self) -> None:
        # A control message arrived. If the actor waits in ctx.messages() on its empty
        # data inbox, wake it with a sentinel so it handles control first (trio channels
        # have no priorities). A sentinel costs far less than wrapping every wait in a
        # cancel scope. It is sent only into an empty inbox, so it never displaces data;
        # it may be buffered if the reader is between "empty" and parking (yielding in
        # receive), which is exactly when it must not be lost.
        self._control_pending = True
        if self._parked:
            data = self._data
            try:
                if not data.statistics().buffered:
                    data.send_nowait(_WAKE)
                    self._parked = False  # one wake-up is enough until it parks again
            except (trio.WouldBlock, trio.BrokenResourceError, trio.ClosedResourceError):
                pass

    def _last_cause(self) -> BaseException | None:
        last = self._last_exit
        return last.error if last is not None else None

    def _stopped_error(self) -> ActorStopped:
        if self._input_closed and not self._closed:
            return ActorStopped(
                f"actor {self.name!r} takes no more data: its inbox was closed with close_inbox()",
                actor=self.name,
            )
        last = self._last_exit
        how = f"exited ({last.reason})" if last is not None else "is not running"
        return ActorStopped(
            f"actor {self.name!r} {how}: it accepts no more messages",
            actor=self.name,
            reason=last.reason if last is not None else "",
        )

    def _open_mailboxes(self, capacity: int, overflow: Overflow, control_capacity: int) -> None:
        self._data, self._data_rx = open_mailbox(capacity, overflow)
        self._control, self._control_rx = open_mailbox(control_capacity, "block")
        self._control_pending = False
        self._closed = False
        self._input_closed = False

    def _reopen(self, capacity: int, overflow: Overflow, control_capacity: int) -> None:
        """Give a closed ref fresh mailboxes (a supervisor reviving an exited child)."""
        if self._closed:
            self._open_mailboxes(capacity, overflow, control_capacity)

    def _close(self) -> None:
        """The actor is gone for good: refuse new messages and drop buffered ones."""
        self._closed = True
        self._data_rx.close()
        self._control_rx.close()
        self._data.close()
        self._control.close()

    def _discard_control(self) -> int:
        """Drop control messages meant for a previous incarnation."""
        dropped = 0
        while True:
            try:
                self._control_rx.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
                break
            dropped += 1
        self._control_pending = False
        return dropped

    def _fail_pending(self, exit: ActorExit) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, set()
        for slot in pending:
            err = ActorStopped(
                f"actor {self.name!r} exited ({exit.reason}) before replying",
                actor=self.name,
                reason=exit.reason,
            )
            err.__cause__ = exit.error
            slot.settle(Error(err))


@final
class ActorContext:
    """What an actor's `run` gets: its name, logger, mailboxes and own ref.

    - `name`, `log` (logger "voxtrio.actor.<name>"), `incarnation` (1, 2, ... across
      supervisor restarts)
    - `inbox` / `control`: the receiving ends of the data and control mailboxes
    - `self_ref`: the actor's own `ActorRef` (to hand to others for replies)
    - `started(value=None)`: declare readiness (once; later calls are ignored)
    - `messages()`: async iterator, control before data, ends on `Stop`
    - `emit(event, *args)`: emit on the emitter the actor was spawned with (the
      supervisor's `events`); a no-op when there is none
    """

    __slots__ = (
        "name",
        "log",
        "inbox",
        "control",
        "self_ref",
        "incarnation",
        "_inc",
        "_task_status",
        "_events",
        "_ready",
        "_saw_stop",
    )

    def __init__(
        self,
        ref: ActorRef,
        inc: _Incarnation,
        task_status: trio.TaskStatus[ActorRef],
        events: EventEmitter | None,
    ) -> None:
        self.name = ref.name
        self.log = logging.getLogger(f"voxtrio.actor.{ref.name}")
        self.inbox: MailboxReceiver[Any] = ref._data_rx
        self.control: MailboxReceiver[Any] = ref._control_rx
        self.self_ref = ref
        self.incarnation = inc.number
        self._inc = inc
        self._task_status = task_status
        self._events = events
        self._ready = False
        self._saw_stop = False

    def started(self, value: Any = None) -> None:
        """Declare the actor ready; `spawn` (or the supervisor) continues now.

        `value` is published as `ActorRef.started_value`. Calls after the first are
        ignored.
        """
        if self._ready:
            return
        self._ready = True
        self.self_ref.started_value = value
        self._task_status.started(self.self_ref)

    @property
    def ready(self) -> bool:
        """True once `started()` was called."""
        return self._ready

    @property
    def stop_requested(self) -> bool:
        """True once a `Stop` was read by `messages()` or a shutdown ladder began."""
        return self._saw_stop or self._inc.stop_requested

    def messages(self) -> _Messages:
        """Iterate over incoming messages: pending control messages first, then data.

        Ends (without yielding it) at a `Stop` control message, or when the data inbox
        is closed and drained. Marks the actor ready if it was not yet. One task at a
        time should iterate.
        """
        self.started()
        return _Messages(self)

    def emit(self, event: str, *args: Any) -> None:
        """Emit `event` on the actor's emitter (no-op if it was spawned without one)."""
        if self._events is not None:
            self._events.emit(event, *args)


@final
class _Messages:
    """The iterator behind `ActorContext.messages()`."""

    __slots__ = ("_ctx", "_ref", "_inbox", "_control", "_budget")

    def __init__(self, ctx: ActorContext) -> None:
        self._ctx = ctx
        self._ref = ctx.self_ref
        self._inbox = ctx.inbox
        self._control = ctx.control
        self._budget = YIELD_EVERY

    def __aiter__(self) -> _Messages:
        return self

    async def __anext__(self) -> Any:
        self._budget -= 1
        if self._budget <= 0:
            # Yield before taking anything: a Cancelled here loses no message. This is
            # what keeps an actor whose inbox never runs dry from starving the others.
            self._budget = YIELD_EVERY
            await _checkpoint()
        if self._ctx._saw_stop:
            raise StopAsyncIteration
        ref = self._ref
        inbox = self._inbox
        while True:
            if ref._control_pending:
                found, msg = self._take_control()
                if found:
                    return msg
            try:
                msg = inbox.receive_nowait()
            except trio.WouldBlock:
                # Park. A control message wakes us with _WAKE (see ActorRef._ring).
                ref._parked = True
                try:
                    msg = await inbox.receive()
                except (trio.EndOfChannel, trio.ClosedResourceError):
                    raise StopAsyncIteration from None
                finally:
                    ref._parked = False
                self._budget = YIELD_EVERY  # we just parked: a fresh budget
            except (trio.EndOfChannel, trio.ClosedResourceError):
                raise StopAsyncIteration from None
            if msg is not _WAKE:
                return msg

    def _take_control(self) -> tuple[bool, Any]:
        ref = self._ref
        try:
            msg = self._control.receive_nowait()
        except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
            ref._control_pending = False
            return False, None
        if isinstance(msg, Stop):
            self._ctx._saw_stop = True
            raise StopAsyncIteration
        return True, msg


async def spawn(
    nursery: trio.Nursery,
    actor: Actor,
    *,
    name: str,
    inbox_capacity: int = 64,
    inbox_overflow: Overflow = "block",
    control_capacity: int = 16,
    events: EventEmitter | None = None,
) -> ActorRef:
    """Start `actor` as a task in `nursery`; return its ref once it is ready.

        ref = await spawn(nursery, Parser(), name="parser", inbox_capacity=32)

    The inbox holds `inbox_capacity` data messages with the given overflow policy; the
    control inbox holds `control_capacity` messages and blocks when full. `events` is
    what `ctx.emit` emits on. An exception raised by the actor before it is ready is
    raised here; one raised later crashes `nursery`, like any trio task. If `run`
    returns without declaring readiness, the (already dead) ref is returned.
    """
    ref = ActorRef(
        name,
        inbox_capacity=inbox_capacity,
        inbox_overflow=inbox_overflow,
        control_capacity=control_capacity,
    )
    result: ActorRef = await nursery.start(_run_spawned, ref, actor, events, name=f"actor:{name}")
    return result


async def _run_spawned(
    ref: ActorRef,
    actor: Actor,
    events: EventEmitter | None,
    *,
    task_status: trio.TaskStatus[ActorRef] = trio.TASK_STATUS_IGNORED,
) -> None:
    await run_incarnation(ref, lambda: actor, task_status=task_status, events=events, catch=False)


def _always(_: ActorExit) -> bool:
    return True


async def run_incarnation(
    ref: ActorRef,
    make_actor: Callable[[], Actor],
    *,
    task_status: trio.TaskStatus[ActorRef],
    events: EventEmitter | None,
    catch: bool,
    close_when: Callable[[ActorExit], bool] = _always,
    on_exit: Callable[[ActorExit], None] | None = None,
) -> ActorExit:
    """Run one incarnation of the actor behind `ref` (runtime use: spawn, Supervisor).

    Builds the actor with `make_actor()` (an exception there counts as the actor
    raising), runs it, and records how it ended. Then, in order: closes the mailboxes if
    `close_when(exit)`, fails pending asks with `ActorStopped`, marks the incarnation
    exited, calls `on_exit(exit)`. With `catch=True` an exception from the actor is
    returned as the exit instead of raised, and readiness is signalled even if the
    actor never got there, so `nursery.start` always returns. Cancellation and other
    BaseExceptions always propagate (after the bookkeeping).
    """
    ref._count += 1
    inc = _Incarnation(ref._count)
    ref._current = inc
    ctx = ActorContext(ref, inc, task_status, events)
    try:
        with inc.scope:
            await make_actor().run(ctx)
    except Exception as exc:
        exit = _finish(ref, inc, ctx, exc, False, close_when, on_exit)
        if not catch:
            raise
    except BaseException:
        _finish(ref, inc, ctx, None, True, close_when, on_exit)
        raise
    else:
        exit = _finish(ref, inc, ctx, None, inc.scope.cancelled_caught, close_when, on_exit)
    if not ctx._ready:
        ctx._ready = True
        task_status.started(ref)
    return exit


def _finish(
    ref: ActorRef,
    inc: _Incarnation,
    ctx: ActorContext,
    error: Exception | None,
    killed: bool,
    close_when: Callable[[ActorExit], bool],
    on_exit: Callable[[ActorExit], None] | None,
) -> ActorExit:
    reason: ExitReason
    if error is not None:
        reason = "exception"
    elif killed:
        reason = "killed"
    elif inc.stop_requested or ctx._saw_stop:
        reason = "stopped"
    else:
        reason = "normal"
    exit = ActorExit(ref.name, inc.number, reason, error)
    inc.exit = exit
    ref._last_exit = exit
    if close_when(exit):
        ref._close()
    ref._fail_pending(exit)
    inc.exited.set()
    if on_exit is not None:
        on_exit(exit)
    return exit


def _validate_timeout(name: str, value: float) -> float:
    if not value >= 0:  # also refuses NaN
        raise ValueError(f"{name} must be >= 0 seconds (math.inf for none): got {value}")
    return value
