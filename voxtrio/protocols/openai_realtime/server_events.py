"""Server events: what a GA Realtime server sends (46 types, plus UnknownServerEvent).

    event = decode(text)
    match event:
        case ResponseOutputAudioDelta(item_id=item_id, delta=delta): ...
        case ResponseDone(response=response): ...
        case UnknownServerEvent(type=kind): log.debug("ignoring %s", kind)

Contract: every event carries `event_id` (except the SIP-only DTMF event, whose schema
has none). Classes are
named after their wire `type` (`response.output_audio.delta` -> ResponseOutputAudioDelta).
Events of a type this codec does not know decode to `UnknownServerEvent` with the raw
object, so a server that adds events does not break clients. Item events never carry
audio bytes except `conversation.item.retrieved`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import attrs

from .items import Item
from .responses import ErrorDetails, Response
from .session_config import SessionConfig, TranscriptionSessionConfig
from .values import JsonObject

__all__ = [
    "SERVER_EVENT_TYPES",
    "Conversation",
    "ConversationCreated",
    "ConversationItemAdded",
    "ConversationItemCreated",
    "ConversationItemDeleted",
    "ConversationItemDone",
    "ConversationItemInputAudioTranscriptionCompleted",
    "ConversationItemInputAudioTranscriptionDelta",
    "ConversationItemInputAudioTranscriptionFailed",
    "ConversationItemInputAudioTranscriptionSegment",
    "ConversationItemRetrieved",
    "ConversationItemTruncated",
    "ErrorEvent",
    "InputAudioBufferCleared",
    "InputAudioBufferCommitted",
    "InputAudioBufferDtmfEventReceived",
    "InputAudioBufferSpeechStarted",
    "InputAudioBufferSpeechStopped",
    "InputAudioBufferTimeoutTriggered",
    "LogProb",
    "McpListToolsCompleted",
    "McpListToolsFailed",
    "McpListToolsInProgress",
    "OutputAudioBufferCleared",
    "OutputAudioBufferStarted",
    "OutputAudioBufferStopped",
    "RateLimit",
    "RateLimitsUpdated",
    "ResponseContentPartAdded",
    "ResponseContentPartDone",
    "ResponseCreated",
    "ResponseDone",
    "ResponseFunctionCallArgumentsDelta",
    "ResponseFunctionCallArgumentsDone",
    "ResponseMcpCallArgumentsDelta",
    "ResponseMcpCallArgumentsDone",
    "ResponseMcpCallCompleted",
    "ResponseMcpCallFailed",
    "ResponseMcpCallInProgress",
    "ResponseOutputAudioDelta",
    "ResponseOutputAudioDone",
    "ResponseOutputAudioTranscriptDelta",
    "ResponseOutputAudioTranscriptDone",
    "ResponseOutputItemAdded",
    "ResponseOutputItemDone",
    "ResponseOutputTextDelta",
    "ResponseOutputTextDone",
    "ResponsePart",
    "ServerError",
    "ServerEvent",
    "SessionCreated",
    "SessionUpdated",
    "TranscriptionLanguage",
    "TranscriptionTokenDetails",
    "TranscriptionUsageDuration",
    "TranscriptionUsageTokens",
    "UnknownServerEvent",
]


# -- payload objects ---------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ServerError:
    """The `error` of an `error` event; `event_id` names the client event that caused it."""

    type: str
    message: str
    code: str | None = None
    param: str | None = None
    event_id: str | None = None


@attrs.frozen(kw_only=True)
class Conversation:
    """The conversation announced by `conversation.created`."""

    id: str | None = None
    object: Literal["realtime.conversation"] | None = None


@attrs.frozen(kw_only=True)
class RateLimit:
    """One rate limit: `name` is "requests" or "tokens"."""

    name: Literal["requests", "tokens"] | None = None
    limit: int | None = None
    remaining: int | None = None
    reset_seconds: float | None = None


@attrs.frozen(kw_only=True)
class ResponsePart:
    """A content part of a response item: `type` "audio" (with transcript) or "text"."""

    type: Literal["text", "audio"] | None = None
    text: str | None = None
    audio: str | None = None
    transcript: str | None = None


@attrs.frozen(kw_only=True)
class LogProb:
    """Log probability of one transcription token."""

    token: str
    bytes: tuple[int, ...]
    logprob: float


@attrs.frozen(kw_only=True)
class TranscriptionLanguage:
    """A language detected in the input audio."""

    code: str


@attrs.frozen(kw_only=True)
class TranscriptionTokenDetails:
    """Transcription input tokens by modality."""

    text_tokens: int | None = None
    audio_tokens: int | None = None


@attrs.frozen(kw_only=True)
class TranscriptionUsageTokens:
    """Transcription billed by tokens."""

    type: ClassVar[str] = "tokens"
    input_tokens: int
    output_tokens: int
    total_tokens: int
    input_token_details: TranscriptionTokenDetails | None = None


@attrs.frozen(kw_only=True)
class TranscriptionUsageDuration:
    """Transcription billed by audio duration."""

    type: ClassVar[str] = "duration"
    seconds: float


# -- session and conversation --------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SessionCreated:
    """First event of every connection: the session's default configuration."""

    type: ClassVar[str] = "session.created"
    event_id: str
    session: SessionConfig | TranscriptionSessionConfig


@attrs.frozen(kw_only=True)
class SessionUpdated:
    """Reply to `session.update`: the full effective configuration."""

    type: ClassVar[str] = "session.updated"
    event_id: str
    session: SessionConfig | TranscriptionSessionConfig


@attrs.frozen(kw_only=True)
class ConversationCreated:
    """The default conversation exists (some servers send it; do not depend on it)."""

    type: ClassVar[str] = "conversation.created"
    event_id: str
    conversation: Conversation


@attrs.frozen(kw_only=True)
class ConversationItemCreated:
    """Beta name of `conversation.item.added`, still in the GA SDK's union."""

    type: ClassVar[str] = "conversation.item.created"
    event_id: str
    item: Item
    previous_item_id: str | None = None


@attrs.frozen(kw_only=True)
class ConversationItemAdded:
    """An item entered the conversation (model output: empty content, in_progress)."""

    type: ClassVar[str] = "conversation.item.added"
    event_id: str
    item: Item
    previous_item_id: str | None = None


@attrs.frozen(kw_only=True)
class ConversationItemDone:
    """An item is final (without audio bytes)."""

    type: ClassVar[str] = "conversation.item.done"
    event_id: str
    item: Item
    previous_item_id: str | None = None


@attrs.frozen(kw_only=True)
class ConversationItemRetrieved:
    """Reply to `conversation.item.retrieve`: the full item, audio included."""

    type: ClassVar[str] = "conversation.item.retrieved"
    event_id: str
    item: Item


@attrs.frozen(kw_only=True)
class ConversationItemDeleted:
    """Reply to `conversation.item.delete`."""

    type: ClassVar[str] = "conversation.item.deleted"
    event_id: str
    item_id: str


@attrs.frozen(kw_only=True)
class ConversationItemTruncated:
    """Reply to `conversation.item.truncate`: audio and transcript after `audio_end_ms` are gone."""

    type: ClassVar[str] = "conversation.item.truncated"
    event_id: str
    item_id: str
    content_index: int
    audio_end_ms: int


@attrs.frozen(kw_only=True)
class ConversationItemInputAudioTranscriptionDelta:
    """Part of the user's transcript (arrives asynchronously to response events)."""

    type: ClassVar[str] = "conversation.item.input_audio_transcription.delta"
    event_id: str
    item_id: str
    content_index: int | None = None
    delta: str | None = None
    logprobs: tuple[LogProb, ...] | None = None


@attrs.frozen(kw_only=True)
class ConversationItemInputAudioTranscriptionCompleted:
    """The user's full transcript for one item, with transcription usage."""

    type: ClassVar[str] = "conversation.item.input_audio_transcription.completed"
    event_id: str
    item_id: str
    content_index: int
    transcript: str
    usage: TranscriptionUsageTokens | TranscriptionUsageDuration
    logprobs: tuple[LogProb, ...] | None = None
    languages: tuple[TranscriptionLanguage, ...] | None = None


@attrs.frozen(kw_only=True)
class ConversationItemInputAudioTranscriptionFailed:
    """Transcription of the user's audio failed; the conversation goes on."""

    type: ClassVar[str] = "conversation.item.input_audio_transcription.failed"
    event_id: str
    item_id: str
    content_index: int
    error: ErrorDetails


@attrs.frozen(kw_only=True)
class ConversationItemInputAudioTranscriptionSegment:
    """A diarized transcript segment (speaker, start/end seconds)."""

    type: ClassVar[str] = "conversation.item.input_audio_transcription.segment"
    event_id: str
    item_id: str
    content_index: int
    id: str
    text: str
    speaker: str
    start: float
    end: float


# -- input audio buffer --------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class InputAudioBufferSpeechStarted:
    """Server VAD heard speech; `audio_start_ms` counts from the session's first audio."""

    type: ClassVar[str] = "input_audio_buffer.speech_started"
    event_id: str
    audio_start_ms: int
    item_id: str


@attrs.frozen(kw_only=True)
class InputAudioBufferSpeechStopped:
    """Server VAD heard the end of speech."""

    type: ClassVar[str] = "input_audio_buffer.speech_stopped"
    event_id: str
    audio_end_ms: int
    item_id: str


@attrs.frozen(kw_only=True)
class InputAudioBufferCommitted:
    """The input buffer became user item `item_id`."""

    type: ClassVar[str] = "input_audio_buffer.committed"
    event_id: str
    item_id: str
    previous_item_id: str | None = None


@attrs.frozen(kw_only=True)
class InputAudioBufferCleared:
    """Reply to `input_audio_buffer.clear`."""

    type: ClassVar[str] = "input_audio_buffer.cleared"
    event_id: str


@attrs.frozen(kw_only=True)
class InputAudioBufferTimeoutTriggered:
    """Server VAD's `idle_timeout_ms` fired (a response follows)."""

    type: ClassVar[str] = "input_audio_buffer.timeout_triggered"
    event_id: str
    audio_start_ms: int
    audio_end_ms: int
    item_id: str


@attrs.frozen(kw_only=True)
class InputAudioBufferDtmfEventReceived:
    """SIP only: a DTMF key press (`event` is the key, `received_at` a Unix time)."""

    type: ClassVar[str] = "input_audio_buffer.dtmf_event_received"
    event: str
    received_at: int


@attrs.frozen(kw_only=True)
class OutputAudioBufferStarted:
    """WebRTC/SIP only: server-side playout of a response started."""

    type: ClassVar[str] = "output_audio_buffer.started"
    event_id: str
    response_id: str


@attrs.frozen(kw_only=True)
class OutputAudioBufferStopped:
    """WebRTC/SIP only: server-side playout drained."""

    type: ClassVar[str] = "output_audio_buffer.stopped"
    event_id: str
    response_id: str


@attrs.frozen(kw_only=True)
class OutputAudioBufferCleared:
    """WebRTC/SIP only: server-side playout was cut off."""

    type: ClassVar[str] = "output_audio_buffer.cleared"
    event_id: str
    response_id: str


# -- responses -----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ResponseCreated:
    """A response started (status in_progress)."""

    type: ClassVar[str] = "response.created"
    event_id: str
    response: Response


@attrs.frozen(kw_only=True)
class ResponseDone:
    """A response ended, whatever the outcome; carries status, output items and usage."""

    type: ClassVar[str] = "response.done"
    event_id: str
    response: Response


@attrs.frozen(kw_only=True)
class RateLimitsUpdated:
    """Rate limits, sent at the start of each response."""

    type: ClassVar[str] = "rate_limits.updated"
    event_id: str
    rate_limits: tuple[RateLimit, ...]


@attrs.frozen(kw_only=True)
class ResponseOutputItemAdded:
    """The response added an output item (message or function call)."""

    type: ClassVar[str] = "response.output_item.added"
    event_id: str
    response_id: str
    output_index: int
    item: Item


@attrs.frozen(kw_only=True)
class ResponseOutputItemDone:
    """An output item of the response is final."""

    type: ClassVar[str] = "response.output_item.done"
    event_id: str
    response_id: str
    output_index: int
    item: Item


@attrs.frozen(kw_only=True)
class ResponseContentPartAdded:
    """A content part (audio or text) started in an output item."""

    type: ClassVar[str] = "response.content_part.added"
    event_id: str
    response_id: str
    item_id: str
    output_index: int
    content_index: int
    part: ResponsePart


@attrs.frozen(kw_only=True)
class ResponseContentPartDone:
    """A content part is final."""

    type: ClassVar[str] = "response.content_part.done"
    event_id: str
    response_id: str
    item_id: str
    output_index: int
    content_index: int
    part: ResponsePart


@attrs.frozen(kw_only=True)
class ResponseOutputAudioDelta:
    """A chunk of response audio (base64, session output format)."""

    type: ClassVar[str] = "response.output_audio.delta"
    event_id: str
    response_id: str
    item_id: str
    output_index: int
    content_index: int
    delta: str


@attrs.frozen(kw_only=True)
class ResponseOutputAudioDone:
    """No more audio for this content part."""

    type: ClassVar[str] = "response.output_audio.done"
    event_id: str
    response_id: str
    item_id: str
    output_index: int
    content_index: int


@attrs.frozen(kw_only=True)
class ResponseOutputAudioTranscriptDelta:
    """A piece of the transcript of the response audio."""

    type: ClassVar[str] = "response.output_audio_transcript.delta"
    event_id: str
    response_id: str
    item_id: str
    output_index: int
    content_index: int
    delta: str


@attrs.frozen(kw_only=True)
class ResponseOutputAudioTranscriptDone:
    """The full transcript of the response audio."""

    type: ClassVar[str] = "response.output_audio_transcript.done"
    event_id: str
    response_id: str
    item_id: str
    output_index: int
    content_index: int
    transcript: str


@attrs.frozen(kw_only=True)
class ResponseOutputTextDelta:
    """A piece of response text (text modality)."""

    type: ClassVar[str] = "response.output_text.delta"
    event_id: str
    response_id: str
    item_id: str
    output_index: int
    content_index: int
    delta: str


@attrs.frozen(kw_only=True)
class ResponseOutputTextDone:
    """The full response text of one content part."""

    type: ClassVar[str] = "response.output_text.done"
    event_id: str
    response_id: str
    item_id: str
    output_index: int
    content_index: int
    text: str


@attrs.frozen(kw_only=True)
class ResponseFunctionCallArgumentsDelta:
    """A piece of a function call's JSON arguments."""

    type: ClassVar[str] = "response.function_call_arguments.delta"
    event_id: str
    response_id: str
    item_id: str
    output_index: int
    call_id: str
    delta: str


@attrs.frozen(kw_only=True)
class ResponseFunctionCallArgumentsDone:
    """A function call is complete: run the tool, send its output, then `response.create`."""

    type: ClassVar[str] = "response.function_call_arguments.done"
    event_id: str
    response_id: str
    item_id: str
    output_index: int
    call_id: str
    name: str
    arguments: str


# -- MCP (passed through; voxtrio does not run MCP tools itself) ----------------------------


@attrs.frozen(kw_only=True)
class McpListToolsInProgress:
    """The server is listing an MCP server's tools."""

    type: ClassVar[str] = "mcp_list_tools.in_progress"
    event_id: str
    item_id: str


@attrs.frozen(kw_only=True)
class McpListToolsCompleted:
    """Listing an MCP server's tools succeeded."""

    type: ClassVar[str] = "mcp_list_tools.completed"
    event_id: str
    item_id: str


@attrs.frozen(kw_only=True)
class McpListToolsFailed:
    """Listing an MCP server's tools failed."""

    type: ClassVar[str] = "mcp_list_tools.failed"
    event_id: str
    item_id: str


@attrs.frozen(kw_only=True)
class ResponseMcpCallArgumentsDelta:
    """A piece of an MCP call's arguments."""

    type: ClassVar[str] = "response.mcp_call_arguments.delta"
    event_id: str
    response_id: str
    item_id: str
    output_index: int
    delta: str
    obfuscation: str | None = None


@attrs.frozen(kw_only=True)
class ResponseMcpCallArgumentsDone:
    """An MCP call's arguments are complete."""

    type: ClassVar[str] = "response.mcp_call_arguments.done"
    event_id: str
    response_id: str
    item_id: str
    output_index: int
    arguments: str


@attrs.frozen(kw_only=True)
class ResponseMcpCallInProgress:
    """An MCP call is running."""

    type: ClassVar[str] = "response.mcp_call.in_progress"
    event_id: str
    item_id: str
    output_index: int


@attrs.frozen(kw_only=True)
class ResponseMcpCallCompleted:
    """An MCP call succeeded."""

    type: ClassVar[str] = "response.mcp_call.completed"
    event_id: str
    item_id: str
    output_index: int


@attrs.frozen(kw_only=True)
class ResponseMcpCallFailed:
    """An MCP call failed."""

    type: ClassVar[str] = "response.mcp_call.failed"
    event_id: str
    item_id: str
    output_index: int


# -- errors and the unknown ----------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ErrorEvent:
    """Something went wrong; the session usually stays open.

    `error.event_id` names the client event at fault when the client set one.
    """

    type: ClassVar[str] = "error"
    event_id: str
    error: ServerError


@attrs.frozen(kw_only=True)
class UnknownServerEvent:
    """An event whose `type` this codec does not know, kept whole in `raw`."""

    type: str
    raw: JsonObject

    @property
    def event_id(self) -> str | None:
        event_id: Any = self.raw.get("event_id")
        return event_id if isinstance(event_id, str) else None

    def to_json_dict(self) -> JsonObject:
        return self.raw


ServerEvent = (
    SessionCreated
    | SessionUpdated
    | ConversationCreated
    | ConversationItemCreated
    | ConversationItemAdded
    | ConversationItemDone
    | ConversationItemRetrieved
    | ConversationItemDeleted
    | ConversationItemTruncated
    | ConversationItemInputAudioTranscriptionDelta
    | ConversationItemInputAudioTranscriptionCompleted
    | ConversationItemInputAudioTranscriptionFailed
    | ConversationItemInputAudioTranscriptionSegment
    | InputAudioBufferSpeechStarted
    | InputAudioBufferSpeechStopped
    | InputAudioBufferCommitted
    | InputAudioBufferCleared
    | InputAudioBufferTimeoutTriggered
    | InputAudioBufferDtmfEventReceived
    | OutputAudioBufferStarted
    | OutputAudioBufferStopped
    | OutputAudioBufferCleared
    | ResponseCreated
    | ResponseDone
    | RateLimitsUpdated
    | ResponseOutputItemAdded
    | ResponseOutputItemDone
    | ResponseContentPartAdded
    | ResponseContentPartDone
    | ResponseOutputAudioDelta
    | ResponseOutputAudioDone
    | ResponseOutputAudioTranscriptDelta
    | ResponseOutputAudioTranscriptDone
    | ResponseOutputTextDelta
    | ResponseOutputTextDone
    | ResponseFunctionCallArgumentsDelta
    | ResponseFunctionCallArgumentsDone
    | McpListToolsInProgress
    | McpListToolsCompleted
    | McpListToolsFailed
    | ResponseMcpCallArgumentsDelta
    | ResponseMcpCallArgumentsDone
    | ResponseMcpCallInProgress
    | ResponseMcpCallCompleted
    | ResponseMcpCallFailed
    | ErrorEvent
    | UnknownServerEvent
)

SERVER_EVENT_TYPES: dict[str, type[Any]] = {
    cls.__dict__["type"]: cls
    for cls in (
        SessionCreated,
        SessionUpdated,
        ConversationCreated,
        ConversationItemCreated,
        ConversationItemAdded,
        ConversationItemDone,
        ConversationItemRetrieved,
        ConversationItemDeleted,
        ConversationItemTruncated,
        ConversationItemInputAudioTranscriptionDelta,
        ConversationItemInputAudioTranscriptionCompleted,
        ConversationItemInputAudioTranscriptionFailed,
        ConversationItemInputAudioTranscriptionSegment,
        InputAudioBufferSpeechStarted,
        InputAudioBufferSpeechStopped,
        InputAudioBufferCommitted,
        InputAudioBufferCleared,
        InputAudioBufferTimeoutTriggered,
        InputAudioBufferDtmfEventReceived,
        OutputAudioBufferStarted,
        OutputAudioBufferStopped,
        OutputAudioBufferCleared,
        ResponseCreated,
        ResponseDone,
        RateLimitsUpdated,
        ResponseOutputItemAdded,
        ResponseOutputItemDone,
        ResponseContentPartAdded,
        ResponseContentPartDone,
        ResponseOutputAudioDelta,
        ResponseOutputAudioDone,
        ResponseOutputAudioTranscriptDelta,
        ResponseOutputAudioTranscriptDone,
        ResponseOutputTextDelta,
        ResponseOutputTextDone,
        ResponseFunctionCallArgumentsDelta,
        ResponseFunctionCallArgumentsDone,
        McpListToolsInProgress,
        McpListToolsCompleted,
        McpListToolsFailed,
        ResponseMcpCallArgumentsDelta,
        ResponseMcpCallArgumentsDone,
        ResponseMcpCallInProgress,
        ResponseMcpCallCompleted,
        ResponseMcpCallFailed,
        ErrorEvent,
    )
}
"""Wire `type` -> server event class (the 46 GA types; not UnknownServerEvent)."""
