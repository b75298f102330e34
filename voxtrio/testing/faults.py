"""Fault injection for session tests.

    await crash_actor(session, "recognition")    # the supervisor restarts it

The actor raises `InjectedCrash` as if a bug had hit it; the session's supervisor
restarts it and the session emits a recoverable `error` naming the actor.
"""

from __future__ import annotations

from voxtrio.session.session import AgentSession

__all__ = ["crash_actor"]


async def crash_actor(session: AgentSession, actor: str) -> None:
    """Make `actor` ("activity" or "recognition") of a running session fail."""
    await session._inject_crash(actor)
