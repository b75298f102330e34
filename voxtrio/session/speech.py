"""A handle on one agent reply (`say` or `generate_reply`).

    handle = session.say("Welcome!")
    await handle.wait_for_playout()      # returns once it played out or was interrupted
    handle.interrupted, handle.played_text

The handle's `speech_id` is on every event, metric and chat item of the reply.
"""

from __future__ import annotations

from typing import Literal

import trio

from voxtrio.core.misc import shortuuid

__all__ = ["SpeechHandle", "SpeechSource"]

SpeechSource = Literal["say", "generate_reply", "tool_response"]


class SpeechHandle:
    """The state of one reply, shared by the session and its caller."""

    def __init__(
        self,
        *,
        source: SpeechSource,
        allow_interruptions: bool,
        turn_id: str | None,
        user_initiated: bool,
    ) -> None:
        self.speech_id = shortuuid("speech_")
        self.source: SpeechSource = source
        self.allow_interruptions = allow_interruptions
        self.turn_id = turn_id
        self.user_initiated = user_initiated
        self.interrupted = False
        self.played_text = ""
        self.played_duration = 0.0
        self.error: BaseException | None = None
        self._done = trio.Event()

    def done(self) -> bool:
        return self._done.is_set()

    async def wait_for_playout(self) -> None:
        """Wait until the reply played to its end, was interrupted, or failed."""
        await self._done.wait()

    def _finish(self) -> None:
        self._done.set()

    def __repr__(self) -> str:
        state = "done" if self.done() else "active"
        return f"<SpeechHandle {self.speech_id} {self.source} {state}>"
