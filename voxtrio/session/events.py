"""The events an `AgentSession` emits, with their payloads.

    @session.on("user_input_transcribed")
    def show(ev: UserInputTranscribedEvent) -> None:
        print(ev.transcript, ev.is_final, ev.turn_id)

Names and fields follow what users of LiveKit Agents know. Every payload has a
`created_at` (seconds since the epoch, derived from trio's clock, see
`voxtrio.core.clock`) and, where it belongs to a user turn or an agent reply, the
`turn_id` / `speech_id` that joins it to metrics and chat items.
"""

from __future__ import annotations

import enum
from typing import Any, Literal, TypeAlias

import attrs

from voxtrio.core.clock import wall_time
from voxtrio.engines.chat import ChatMessage, FunctionCall, FunctionCallOutput

__all__ = [
    "EVENT_NAMES",
    "AgentFalseInterruptionEvent",
    "AgentTranscribedEvent",
    "AgentState",
    "AgentStateChangedEvent",
    "CloseEvent",
    "CloseReason",
    "ConversationItemAddedEvent",
    "ErrorEvent",
    "FunctionToolsExecutedEvent",
    "MetricsCollectedEvent",
    "SpeechCreatedEvent",
    "UserInputTranscribedEvent",
    "UserState",
    "UserStateChangedEvent",
    "UserTranscriptionTimeoutEvent",
]

UserState: TypeAlias = Literal["speaking", "listening", "away"]
AgentState: TypeAlias = Literal["initializing", "idle", "listening", "thinking", "speaking"]


class CloseReason(enum.StrEnum):
    ERROR = "error"
    USER_INITIATED = "user_initiated"
    JOB_SHUTDOWN = "job_shutdown"
    PARTICIPANT_DISCONNECTED = "participant_disconnected"
    TASK_COMPLETED = "task_completed"


def _now() -> float:
    return wall_time()


@attrs.frozen(slots=True, kw_only=True)
class UserStateChangedEvent:
    """The user started or stopped speaking, or went away.

    `created_at` is back-dated to when the VAD heard speech start or end, not when the
    VAD was sure of it.
    """

    old_state: UserState
    new_state: UserState
    turn_id: str | None = None
    created_at: float = attrs.field(factory=_now)
    type: Literal["user_state_changed"] = "user_state_changed"


@attrs.frozen(slots=True, kw_only=True)
class AgentStateChangedEvent:
    """The agent moved between initializing / listening / thinking / speaking.

    `speaking` is entered on the first audio frame actually played, not when the TTS
    produced it.
    """

    old_state: AgentState
    new_state: AgentState
    turn_id: str | None = None
    speech_id: str | None = None
    created_at: float = attrs.field(factory=_now)
    type: Literal["agent_state_changed"] = "agent_state_changed"


@attrs.frozen(slots=True, kw_only=True)
class UserInputTranscribedEvent:
    transcript: str
    is_final: bool
    language: str | None = None
    speaker_id: str | None = None
    item_id: str | None = None
    turn_id: str | None = None
    created_at: float = attrs.field(factory=_now)
    type: Literal["user_input_transcribed"] = "user_input_transcribed"


@attrs.frozen(slots=True, kw_only=True)
class AgentTranscribedEvent:
    """The agent's words, released in step with the audio the user has heard.

    `transcript` is the reply's text heard so far; `delta` what this event adds. The
    last event of a reply has `is_final=True` and holds the text committed to the
    history (all of it, or, if interrupted, what was heard).
    """

    transcript: str
    delta: str
    is_final: bool
    speech_id: str | None = None
    turn_id: str | None = None
    created_at: float = attrs.field(factory=_now)
    type: Literal["agent_transcribed"] = "agent_transcribed"


@attrs.frozen(slots=True, kw_only=True)
class UserTranscriptionTimeoutEvent:
    """The VAD heard speech but no final transcript came within the timeout."""

    speech_duration: float
    vad_speech_started_at: float
    turn_id: str | None = None
    created_at: float = attrs.field(factory=_now)
    type: Literal["user_transcription_timeout"] = "user_transcription_timeout"


@attrs.frozen(slots=True, kw_only=True)
class ConversationItemAddedEvent:
    """A message was committed to the history.

    User messages at the end of the user's turn; assistant messages when their playout
    finished or was interrupted (then `item.interrupted` is true and `item.content`
    holds only what the user heard).
    """

    item: ChatMessage
    turn_id: str | None = None
    speech_id: str | None = None
    created_at: float = attrs.field(factory=_now)
    type: Literal["conversation_item_added"] = "conversation_item_added"


@attrs.frozen(slots=True, kw_only=True)
class SpeechCreatedEvent:
    speech_id: str
    source: Literal["say", "generate_reply", "tool_response"]
    user_initiated: bool
    turn_id: str | None = None
    created_at: float = attrs.field(factory=_now)
    type: Literal["speech_created"] = "speech_created"


@attrs.frozen(slots=True, kw_only=True)
class FunctionToolsExecutedEvent:
    function_calls: list[FunctionCall]
    function_call_outputs: list[FunctionCallOutput]
    turn_id: str | None = None
    speech_id: str | None = None
    created_at: float = attrs.field(factory=_now)
    type: Literal["function_tools_executed"] = "function_tools_executed"

    def zipped(self) -> list[tuple[FunctionCall, FunctionCallOutput]]:
        return list(zip(self.function_calls, self.function_call_outputs, strict=True))


@attrs.frozen(slots=True, kw_only=True)
class MetricsCollectedEvent:
    """Any component's metrics: test with `isinstance(ev.metrics, STTMetrics)`."""

    metrics: Any
    created_at: float = attrs.field(factory=_now)
    type: Literal["metrics_collected"] = "metrics_collected"


@attrs.frozen(slots=True, kw_only=True)
class AgentFalseInterruptionEvent:
    """User sound paused the agent but no words followed; `resumed` says if it went on."""

    resumed: bool
    speech_id: str | None = None
    turn_id: str | None = None
    created_at: float = attrs.field(factory=_now)
    type: Literal["agent_false_interruption"] = "agent_false_interruption"


@attrs.frozen(slots=True, kw_only=True)
class ErrorEvent:
    """A component failed; `recoverable` errors were handled (retried, restarted)."""

    error: BaseException
    source: str
    recoverable: bool
    created_at: float = attrs.field(factory=_now)
    type: Literal["error"] = "error"


@attrs.frozen(slots=True, kw_only=True)
class CloseEvent:
    reason: CloseReason
    error: BaseException | None = None
    created_at: float = attrs.field(factory=_now)
    type: Literal["close"] = "close"


EVENT_NAMES: tuple[str, ...] = (
    "user_state_changed",
    "agent_state_changed",
    "user_input_transcribed",
    "agent_transcribed",
    "user_transcription_timeout",
    "conversation_item_added",
    "speech_created",
    "function_tools_executed",
    "metrics_collected",
    "agent_false_interruption",
    "error",
    "close",
)
