"""Exceptions of the actor runtime.

    try:
        reply = await ref.ask(Query(), timeout=1.0)
    except AskTimeout:
        ...  # the actor is alive but did not answer in time
    except ActorStopped:
        ...  # the actor is dead, or died before answering

All derive from `ActorError`, so `except ActorError` catches every runtime failure
that is about an actor rather than about the message it was handling.
"""

from __future__ import annotations

__all__ = ["ActorError", "ActorStopped", "AskTimeout", "SupervisorEscalation"]


class ActorError(Exception):
    """Base class of the actor runtime's own errors."""


class ActorStopped(ActorError):
    """The actor is not running: it exited (and was not restarted), or it exited
    while a request to it was pending.

    `actor` is the actor's name. When the actor died of an exception, that exception
    is the `__cause__` (and `reason` says "exception").
    """

    def __init__(self, message: str, *, actor: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.actor = actor
        self.reason = reason


class AskTimeout(ActorError, TimeoutError):
    """`ActorRef.ask()` got no reply within its timeout. The actor may still be alive;
    a late reply is discarded."""

    def __init__(self, message: str, *, actor: str = "", timeout: float = 0.0) -> None:
        super().__init__(message)
        self.actor = actor
        self.timeout = timeout


class SupervisorEscalation(ActorError):
    """A supervisor gave up: its children failed more often than its restart intensity
    allows. It stopped every child and raised this to its own parent.

    `child` names the child whose failure exceeded the intensity; `failure` is that
    failure (also the `__cause__`; None when the child exited without an exception,
    e.g. a permanent child that kept returning); `restarts` and `within` are the limit
    that was exceeded.
    """

    def __init__(
        self,
        message: str,
        *,
        supervisor: str,
        child: str,
        failure: BaseException | None,
        restarts: int,
        within: float,
    ) -> None:
        super().__init__(message)
        self.supervisor = supervisor
        self.child = child
        self.failure = failure
        self.restarts = restarts
        self.within = within
