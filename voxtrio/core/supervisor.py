"""Supervisors: start actors in order, restart them by policy, stop them in reverse.

    children = [
        ChildSpec("source", Source),
        ChildSpec("parser", Parser, restart="permanent"),
        ChildSpec("printer", Printer, shutdown_grace=1.0),
    ]
    async with Supervisor(children, strategy="rest_for_one", max_restarts=3, within=5.0) as sup:
        sup.events.on("child_exited", lambda e: print(e.name, e.reason))
        await sup.ref("source").tell("go")
        ...
    # leaving the block stops every child, last started first

Or, inside your own nursery: ``sup = await nursery.start(Supervisor(children).run)``.

OTP semantics on trio:

- **Start order.** Children start in list order, each only once the previous one is
  ready (`ctx.started()`). `start_child` appends one at runtime. Stopping goes in
  reverse order.
- **Restart types.** ``"permanent"`` children are always restarted when they exit;
  ``"transient"`` only when they exit abnormally (an exception); ``"temporary"`` never
  (and are forgotten once they exit).
- **Strategies.** When a child must be restarted: ``"one_for_one"`` restarts just it;
  ``"one_for_all"`` stops every other child (reverse order) and restarts all (in
  order); ``"rest_for_one"`` stops the children started after it (reverse order) and
  restarts it and them (in order). Temporary children caught in a group restart are
  stopped and not restarted.
- **Intensity.** More than `max_restarts` restarts within `within` seconds (trio's
  clock) means the failures are not transient: the supervisor stops all its children
  and raises `SupervisorEscalation` (the last failure is its `__cause__` and
  `.failure`) to its parent.
- **Backoff.** Optionally wait `backoff(n)` seconds before the n-th restart of the
  current intensity window (`Backoff` is an exponential one).
- **Shutdown ladder.** Stopping a child sends `Stop` on its control inbox, waits up to
  its `shutdown_grace` for it to exit, then cancels it. Shutdown is thus bounded by the
  sum of the grace periods plus the time cancelled actors take to unwind.
- **Refs across restarts.** `sup.ref(name)` (and the ref `start_child` returns) stays
  valid across restarts: it always reaches the current incarnation. The refs of the
  children passed to `Supervisor(...)` exist as soon as it is built, so a factory may
  capture the ref of a child that starts after it; messages sent to a child that has
  not started yet wait in its inbox. Messages sent while
  a child restarts wait in its inbox for the next incarnation; control messages for
  the dead incarnation are dropped. Once a child is gone for good, its ref raises
  `ActorStopped`.
- **Events.** `sup.events` (an `EventEmitter`) emits "child_started" (`ChildStarted`),
  "child_exited" (`ChildExited`, with the reason: normal / stopped / exception /
  killed), "child_restarted" (`ChildRestarted`) and "escalated" (`Escalated`); each is
  also logged on "voxtrio.supervisor". Children's `ctx.emit` goes to the same emitter.
- **Cancellation.** Cancelling the supervisor (its nursery, or the code around
  `async with`) kills the children at once: cancellation means "now". Leaving the
  `async with` block normally, or `await sup.aclose()`, runs the graceful ladder.

A child that exits before it became ready counts as a failure like any other exit. The
wait for readiness is bounded by `ChildSpec.start_timeout` (none by default), and
`aclose()` cuts a pending start short, so a child that never gets ready cannot block
shutdown.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager
from functools import partial
from types import TracebackType
from typing import Any, Literal, final

import attrs
import trio

from voxtrio.core.actor import Actor, ActorExit, ActorRef, ExitReason, run_incarnation
from voxtrio.core.emitter import EventEmitter
from voxtrio.core.errors import SupervisorEscalation
from voxtrio.core.mailbox import OVERFLOW_POLICIES, Overflow

__all__ = [
    "Backoff",
    "ChildExited",
    "ChildRestarted",
    "ChildSpec",
    "ChildStarted",
    "Escalated",
    "SUPERVISOR_EVENTS",
    "RestartType",
    "Strategy",
    "Supervisor",
    "SupervisorEscalation",
]

Strategy = Literal["one_for_one", "one_for_all", "rest_for_one"]
RestartType = Literal["permanent", "transient", "temporary"]

#: The events a supervisor emits on `Supervisor.events`.
SUPERVISOR_EVENTS = ("child_started", "child_exited", "child_restarted", "escalated")

_STRATEGIES = ("one_for_one", "one_for_all", "rest_for_one")
_RESTART_TYPES = ("permanent", "transient", "temporary")

_log = logging.getLogger("voxtrio.supervisor")


def _check_restart(_: object, __: object, value: str) -> None:
    if value not in _RESTART_TYPES:
        raise ValueError(
            f"unknown restart type {value!r}: use 'permanent' (always restart), "
            "'transient' (restart after an exception) or 'temporary' (never restart)"
        )


def _check_overflow(_: object, __: object, value: str) -> None:
    if value not in OVERFLOW_POLICIES:
        raise ValueError(
            f"unknown inbox overflow {value!r}: use one of "
            + ", ".join(repr(p) for p in OVERFLOW_POLICIES)
        )


def _check_seconds(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value >= 0:  # also refuses NaN
        raise ValueError(f"{attribute.name} must be >= 0 seconds: got {value!r}")


@final
@attrs.frozen(slots=True)
class ChildSpec:
    """How a supervisor runs one child.

        ChildSpec("stt", lambda: SttActor(engine), restart="transient", shutdown_grace=2.0)

    `factory` builds a fresh `Actor` for every (re)start. `restart` is the restart type
    (see the module docs). `shutdown_grace` is how long the child gets to honour `Stop`
    before it is cancelled. The inbox settings are those of `spawn`. A child not ready
    within `start_timeout` seconds is cancelled, which counts as a failure (exit reason
    "killed").
    """

    name: str
    factory: Callable[[], Actor]
    restart: RestartType = attrs.field(default="permanent", validator=_check_restart)
    shutdown_grace: float = attrs.field(default=5.0, validator=_check_seconds)
    inbox_capacity: int = 64
    inbox_overflow: Overflow = attrs.field(default="block", validator=_check_overflow)
    control_capacity: int = 16
    start_timeout: float = attrs.field(default=math.inf, validator=_check_seconds)


@final
@attrs.frozen(slots=True)
class Backoff:
    """Exponential restart delay: `initial * factor ** (n - 1)` seconds before the n-th
    restart of the current intensity window, at most `max`.

        Supervisor(children, backoff=Backoff(initial=0.1, factor=2.0, max=2.0))

    Any callable taking the restart number (1, 2, ...) and returning seconds works too.
    """

    initial: float = attrs.field(default=0.1, validator=_check_seconds)
    factor: float = 2.0
    max: float = attrs.field(default=5.0, validator=_check_seconds)

    def __call__(self, restart: int) -> float:
        return float(min(self.max, self.initial * self.factor ** max(0, restart - 1)))


@final
@attrs.frozen(slots=True)
class ChildStarted:
    """Event "child_started": `name` is ready; `incarnation` counts its starts (1 first)."""

    supervisor: str
    name: str
    incarnation: int


@final
@attrs.frozen(slots=True)
class ChildExited:
    """Event "child_exited": how one incarnation of `name` ended. `error` is the
    exception when `reason` is "exception"."""

    supervisor: str
    name: str
    incarnation: int
    reason: ExitReason
    error: BaseException | None = None


@final
@attrs.frozen(slots=True)
class ChildRestarted:
    """Event "child_restarted": `name` runs again (its `incarnation`) because `cause`
    exited (`cause == name` for the failed child itself; a sibling's name in a group
    restart). `restarts` counts restarts in the current intensity window."""

    supervisor: str
    name: str
    incarnation: int
    cause: str
    restarts: int


@final
@attrs.frozen(slots=True)
class Escalated:
    """Event "escalated": `child` exited once too often; the supervisor stops its
    children and raises `SupervisorEscalation`."""

    supervisor: str
    child: str
    failure: BaseException | None
    restarts: int
    within: float


_StopMode = Literal["restart", "final"]


@final
class _Child:
    __slots__ = ("spec", "ref", "stop_mode", "handled")

    def __init__(self, spec: ChildSpec) -> None:
        self.spec = spec
        self.ref = ActorRef(
            spec.name,
            inbox_capacity=spec.inbox_capacity,
            inbox_overflow=spec.inbox_overflow,
            control_capacity=spec.control_capacity,
        )
        # Set while the supervisor itself stops the child: its exit is then expected.
        self.stop_mode: _StopMode | None = None
        # Incarnations up to this one have had their exit dealt with.
        self.handled = 0


class Supervisor:
    """Runs child actors under OTP-style restart policies (see the module docs).

        async with Supervisor(specs, strategy="one_for_all") as sup: ...
        sup = await nursery.start(Supervisor(specs).run)

    `max_restarts` restarts within `within` seconds are tolerated; one more escalates.
    `backoff` (a `Backoff` or any `restart number -> seconds` callable) delays restarts.
    `events` lets several supervisors (or a session) share one emitter.
    A Supervisor runs once.
    """

    def __init__(
        self,
        children: Iterable[ChildSpec] = (),
        *,
        strategy: Strategy = "one_for_one",
        max_restarts: int = 3,
        within: float = 5.0,
        backoff: Callable[[int], float] | None = None,
        name: str = "supervisor",
        events: EventEmitter | None = None,
    ) -> None:
        if strategy not in _STRATEGIES:
            raise ValueError(
                f"unknown strategy {strategy!r}: use 'one_for_one', 'one_for_all' or 'rest_for_one'"
            )
        if isinstance(max_restarts, bool) or not isinstance(max_restarts, int) or max_restarts < 0:
            raise ValueError(f"max_restarts must be an int >= 0: got {max_restarts!r}")
        if not within > 0 or math.isinf(within):
            raise ValueError(f"within must be a positive, finite number of seconds: got {within!r}")
        self.name = name
        self.strategy: Strategy = strategy
        self.max_restarts = max_restarts
        self.within = within
        self.backoff = backoff
        self.events = events if events is not None else EventEmitter()
        valid = self.events.valid_events
        if valid is not None and not set(SUPERVISOR_EVENTS) <= valid:
            missing = ", ".join(repr(e) for e in SUPERVISOR_EVENTS if e not in valid)
            raise ValueError(
                f"the emitter passed as events= must allow the supervisor's events: add {missing} "
                "to its valid_events"
            )
        specs = list(children)
        names = [spec.name for spec in specs]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"child names must be unique: {', '.join(map(repr, duplicates))}")
        # Refs (and mailboxes) of the initial children exist from now on, so factories
        # can capture `sup.ref("next")` and messages can be sent before a child starts.
        self._children: list[_Child] = [_Child(spec) for spec in specs]
        self._lock = trio.Lock()  # one structural change (start/stop/restart) at a time
        # Exit notices from child tasks. Bounded by the number of children: each child
        # has at most one live incarnation, hence at most one unhandled exit.
        self._exits: deque[tuple[_Child, ActorExit]] = deque()
        self._wakeup = trio.Event()
        self._closing = trio.Event()
        self._done = trio.Event()
        self._state: Literal["new", "running", "done"] = "new"
        self._nursery: trio.Nursery | None = None
        self._restart_times: deque[float] = deque()
        self._escalation: SupervisorEscalation | None = None
        self._cm: AbstractAsyncContextManager[trio.Nursery] | None = None
        self._starting: trio.CancelScope | None = None  # the start in progress, if any

    # -- public API ------------------------------------------------------------------

    # task_status is TaskStatus[Any] (it reports the Supervisor itself) so that a
    # wrapper task declared as TaskStatus[None] can hand its own status on.
    async def run(self, *, task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED) -> None:
        """Start the children in order, signal readiness (with the supervisor itself as
        the value), then supervise until `aclose()`.

        Raises `SupervisorEscalation` when the restart intensity is exceeded (after
        stopping every child).
        """
        if self._state != "new":
            raise RuntimeError(f"supervisor {self.name!r} has already run; build a new one")
        self._state = "running"
        unbind = False
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                if self.events.nursery is None:
                    self.events.bind(nursery)  # async event callbacks run here
                    unbind = True
                async with self._lock:
                    for child in list(self._children):
                        await self._start(child)
                task_status.started(self)
                await self._supervise()
                nursery.cancel_scope.cancel()  # only event-callback tasks can be left
        finally:
            self._state = "done"
            for child in self._children:
                child.ref._close()
            if unbind:
                self.events.bind(None)
            self._done.set()
        if self._escalation is not None:
            raise self._escalation

    async def aclose(self) -> None:
        """Stop every child (reverse start order, shutdown ladder each) and end `run`."""
        self._closing.set()
        self._wakeup.set()
        if self._starting is not None:
            self._starting.cancel()  # a child that never gets ready must not block us
        if self._state == "running":
            await self._done.wait()

    async def start_child(self, spec: ChildSpec) -> ActorRef:
        """Add a child after the others and start it; return its ref once it is ready.

        Structural changes run one at a time, and a start waits for readiness: a child
        must not call `start_child`/`stop_child` on its own supervisor before it called
        `ctx.started()` (it would wait for itself).
        """
        async with self._lock:
            self._check_running()
            if any(child.spec.name == spec.name for child in self._children):
                raise ValueError(
                    f"supervisor {self.name!r} already has a child named {spec.name!r}: "
                    "stop_child() it first or pick another name"
                )
            child = _Child(spec)
            self._children.append(child)
            await self._start(child)
            return child.ref

    async def stop_child(self, name: str) -> ActorExit | None:
        """Stop child `name` (shutdown ladder) and forget it; it is not restarted.

        Returns how it ended (None if it had already ended).
        """
        async with self._lock:
            child = self._find(name)
            was_alive = child.ref.alive
            await self._stop(child, "final")
            self._children.remove(child)
            return child.ref.last_exit if was_alive else None

    def ref(self, name: str) -> ActorRef:
        """The ref of child `name`; valid across its restarts."""
        return self._find(name).ref

    @property
    def children(self) -> tuple[str, ...]:
        """Names of the current children, in start order."""
        return tuple(child.spec.name for child in self._children)

    async def __aenter__(self) -> Supervisor:
        self._cm = trio.open_nursery()
        nursery = await self._cm.__aenter__()
        try:
            await nursery.start(self.run)
        except BaseException:
            await self._cm.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        cm = self._cm
        assert cm is not None, "__aexit__ without __aenter__"
        try:
            await self.aclose()
        except BaseException as close_error:  # cancelled while stopping: hand it on
            if exc is None:
                exc = close_error
        try:
            return bool(
                await cm.__aexit__(
                    type(exc) if exc is not None else None,
                    exc,
                    exc.__traceback__ if exc is not None else None,
                )
            )
        except BaseExceptionGroup as group:
            # One error (typically SupervisorEscalation) is raised as itself, so that
            # `except SupervisorEscalation` works around the `async with`.
            if len(group.exceptions) == 1:
                only = group.exceptions[0]
                raise only from only.__cause__
            raise

    # -- supervision -------------------------------------------------------------------

    async def _supervise(self) -> None:
        while not self._closing.is_set():
            if not self._exits:
                self._wakeup = trio.Event()
                await self._wakeup.wait()
                continue
            child, exit = self._exits.popleft()
            async with self._lock:
                await self._handle_exit(child, exit)
            if self._escalation is not None:
                return
        async with self._lock:
            await self._stop_all()

    async def _handle_exit(self, child: _Child, exit: ActorExit) -> None:
        if exit.incarnation <= child.handled or child not in self._children:
            return  # already dealt with (stopped on purpose, or part of a group restart)
        child.handled = exit.incarnation
        if not self._restarts(child.spec, exit.reason):
            if child.spec.restart == "temporary":
                self._children.remove(child)
            return
        now = trio.current_time()
        times = self._restart_times
        times.append(now)
        while times and times[0] < now - self.within:
            times.popleft()
        if len(times) > self.max_restarts:
            await self._escalate(child, exit)
            return
        restarts = len(times)
        if self.strategy == "one_for_one":
            group = [child]
        elif self.strategy == "one_for_all":
            group = list(self._children)
        else:
            group = self._children[self._children.index(child) :]
        for other in reversed(group):
            if other is not child:
                await self._stop(other, "final" if other.spec.restart == "temporary" else "restart")
        delay = self.backoff(restarts) if self.backoff is not None else 0.0
        if delay > 0:
            with trio.move_on_after(delay):
                await self._closing.wait()
        if self._closing.is_set():
            return  # shutting down: the ladder in _supervise takes it from here
        for member in group:
            if member.spec.restart == "temporary" and member is not child:
                self._children.remove(member)
                continue
            await self._start(member)
            if member.ref.alive:
                _log.info(
                    "%s: restarted %r (incarnation %d) after %r exited",
                    self.name,
                    member.spec.name,
                    member.ref.incarnation,
                    child.spec.name,
                )
                self.events.emit(
                    "child_restarted",
                    ChildRestarted(
                        self.name,
                        member.spec.name,
                        member.ref.incarnation,
                        child.spec.name,
                        restarts,
                    ),
                )

    @staticmethod
    def _restarts(spec: ChildSpec, reason: ExitReason) -> bool:
        if spec.restart == "permanent":
            return True
        if spec.restart == "transient":
            return reason in ("exception", "killed")
        return False

    async def _escalate(self, child: _Child, exit: ActorExit) -> None:
        failure = exit.error
        what = f"{type(failure).__name__}: {failure}" if failure is not None else exit.reason
        err = SupervisorEscalation(
            f"supervisor {self.name!r} gave up: child {child.spec.name!r} exited ({what}) "
            f"after {self.max_restarts} restarts within {self.within:g} s; fix the cause, "
            "or raise max_restarts/within",
            supervisor=self.name,
            child=child.spec.name,
            failure=failure,
            restarts=self.max_restarts,
            within=self.within,
        )
        err.__cause__ = failure
        _log.error("%s: escalating: %s", self.name, err)
        self.events.emit(
            "escalated",
            Escalated(self.name, child.spec.name, failure, self.max_restarts, self.within),
        )
        await self._stop_all()
        self._escalation = err

    # -- starting and stopping one child -----------------------------------------------

    async def _start(self, child: _Child) -> None:
        assert self._nursery is not None
        spec, ref = child.spec, child.ref
        ref._reopen(spec.inbox_capacity, spec.inbox_overflow, spec.control_capacity)
        ref._discard_control()  # meant for the previous incarnation
        child.stop_mode = None
        if self._closing.is_set():
            return  # shutting down: do not start anything new
        # A start is bounded by the child's start_timeout, and aclose() cuts it short.
        with trio.CancelScope(deadline=trio.current_time() + spec.start_timeout) as scope:
            self._starting = scope
            try:
                await self._nursery.start(
                    partial(self._child_task, child), name=f"{self.name}/{spec.name}"
                )
            finally:
                self._starting = None
        if scope.cancelled_caught and not self._closing.is_set():
            _log.warning(
                "%s: %r was not ready within its start_timeout of %g s: cancelled it",
                self.name,
                spec.name,
                spec.start_timeout,
            )
        if ref.alive:
            _log.info("%s: started %r (incarnation %d)", self.name, spec.name, ref.incarnation)
            self.events.emit("child_started", ChildStarted(self.name, spec.name, ref.incarnation))

    async def _child_task(
        self, child: _Child, *, task_status: trio.TaskStatus[ActorRef] = trio.TASK_STATUS_IGNORED
    ) -> None:
        await run_incarnation(
            child.ref,
            child.spec.factory,
            task_status=task_status,
            events=self.events,
            catch=True,
            close_when=partial(self._close_when, child),
            on_exit=partial(self._on_exit, child),
        )

    def _close_when(self, child: _Child, exit: ActorExit) -> bool:
        # Close the mailboxes at once when this exit will not be followed by a restart,
        # so senders learn ActorStopped instead of filling a dead inbox.
        if child.stop_mode is not None:
            return child.stop_mode == "final"
        return not self._restarts(child.spec, exit.reason)

    def _on_exit(self, child: _Child, exit: ActorExit) -> None:
        level = logging.INFO
        if exit.reason == "exception":
            level = logging.ERROR
        elif exit.reason == "killed":
            level = logging.WARNING
        error = exit.error
        _log.log(
            level,
            "%s: %r exited (%s)%s",
            self.name,
            exit.name,
            exit.reason,
            f": {type(error).__name__}: {error}" if error is not None else "",
            exc_info=(type(error), error, error.__traceback__) if error is not None else None,
        )
        self.events.emit(
            "child_exited", ChildExited(self.name, exit.name, exit.incarnation, exit.reason, error)
        )
        self._exits.append((child, exit))
        self._wakeup.set()

    async def _stop(self, child: _Child, mode: _StopMode) -> None:
        child.stop_mode = mode
        ref = child.ref
        await ref.stop(grace=child.spec.shutdown_grace, reason=f"supervisor {self.name!r}")
        child.handled = max(child.handled, ref.incarnation)
        if mode == "final":
            ref._close()

    async def _stop_all(self) -> None:
        for child in reversed(self._children):
            await self._stop(child, "final")

    # -- helpers -------------------------------------------------------------------------

    def _find(self, name: str) -> _Child:
        for child in self._children:
            if child.spec.name == name:
                return child
        known = ", ".join(repr(c.spec.name) for c in self._children) or "none"
        raise KeyError(f"supervisor {self.name!r} has no child {name!r} (children: {known})")

    def _check_running(self) -> None:
        if self._state == "new":
            raise RuntimeError(
                f"supervisor {self.name!r} is not running yet: pass initial children to "
                "Supervisor(...) or start it first (async with / nursery.start(sup.run))"
            )
        if self._state == "done" or self._closing.is_set() or self._escalation is not None:
            raise RuntimeError(f"supervisor {self.name!r} is shutting down or has stopped")

    def __repr__(self) -> str:
        return (
            f"<Supervisor {self.name!r} {self.strategy} {self._state} "
            f"children={list(self.children)}>"
        )
