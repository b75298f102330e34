"""How the session decides that the user finished, or interrupted, a turn.

    AgentSession(..., turn_handling=TurnHandlingOptions(min_endpointing_delay=0.4))

Defaults are the ones users of LiveKit Agents know. Every field is validated: a negative
delay or a `max_endpointing_delay` below `min_endpointing_delay` raises `ValueError`.
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["TurnHandlingOptions"]


def _non_negative(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


@attrs.frozen(slots=True, kw_only=True)
class TurnHandlingOptions:
    """Endpointing, interruption and false-interruption settings.

    - `min_endpointing_delay`: seconds of silence after the user's speech (as the VAD
      heard it end) before the turn is taken as finished, once a final transcript exists.
    - `max_endpointing_delay`: the longest the session waits for a final transcript after
      the speech ended; past it the turn ends with what was transcribed (nothing → no turn).
    - `allow_interruptions`: whether user speech may cut the agent off.
    - `min_interruption_duration`: seconds of user speech (VAD) needed to interrupt, so
      short noises and backchannels do not.
    - `min_interruption_words`: words of transcript needed as well (0: speech alone).
    - `resume_false_interruption` / `false_interruption_timeout`: user speech first
      *pauses* the agent; if no transcript arrives within the timeout the reply resumes
      (`agent_false_interruption` with `resumed=True`), otherwise it is interrupted.
    - `max_tool_steps`: tool-call rounds allowed in one reply.
    """

    min_endpointing_delay: float = attrs.field(default=0.5, validator=_non_negative)
    max_endpointing_delay: float = attrs.field(default=3.0, validator=_non_negative)
    allow_interruptions: bool = True
    min_interruption_duration: float = attrs.field(default=0.5, validator=_non_negative)
    min_interruption_words: int = attrs.field(default=0, validator=_non_negative)
    resume_false_interruption: bool = True
    false_interruption_timeout: float = attrs.field(default=2.0, validator=_non_negative)
    max_tool_steps: int = attrs.field(default=3, validator=_non_negative)

    def __attrs_post_init__(self) -> None:
        if self.max_endpointing_delay < self.min_endpointing_delay:
            raise ValueError(
                f"max_endpointing_delay ({self.max_endpointing_delay}) must be >= "
                f"min_endpointing_delay ({self.min_endpointing_delay})"
            )
