"""Client events: what a client sends to a GA Realtime server (11 types).

    encode(SessionUpdate(session=SessionConfig(instructions="Be brief.")))
    encode(InputAudioBufferAppend(audio=pcm16_base64))
    encode(ConversationItemTruncate(item_id="item_9", content_index=0, audio_end_ms=1520))

Contract: each class writes its wire `type` (also readable as `Class.type`); `event_id`
is optional and, when set, is echoed by the server in `error.error.event_id`, which is
how a client ties an error to the event that caused it. Server replies are listed on each
class. `decode_client_event` (in `codec`) reads these back, for servers and tests.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from .items import Item
from .responses import ResponseCreateParams
from .session_config import SessionConfig, TranscriptionSessionConfig

__all__ = [
    "CLIENT_EVENT_TYPES",
    "ClientEvent",
    "ConversationItemCreate",
    "ConversationItemDelete",
    "ConversationItemRetrieve",
    "ConversationItemTruncate",
    "InputAudioBufferAppend",
    "InputAudioBufferClear",
    "InputAudioBufferCommit",
    "OutputAudioBufferClear",
    "ResponseCancel",
    "ResponseCreate",
    "SessionUpdate",
]


@attrs.frozen(kw_only=True)
class SessionUpdate:
    """Change the session; only the fields present change. Reply: `session.updated` or `error`."""

    type: ClassVar[str] = "session.update"
    session: SessionConfig | TranscriptionSessionConfig = attrs.field()
    event_id: str | None = None

    @session.validator
    def _check_session(self, _attribute: Any, session: Any) -> None:
        # The server rejects its own bookkeeping fields in an update.
        present = [name for name in ("id", "object", "expires_at") if getattr(session, name, None)]
        if present:
            raise ValueError(
                f"session.update must not carry server-set fields {present}; "
                "send session.without_server_fields()"
            )


@attrs.frozen(kw_only=True)
class InputAudioBufferAppend:
    """Append base64 audio (session input format, up to 15 MiB) to the input buffer. No reply."""

    type: ClassVar[str] = "input_audio_buffer.append"
    audio: str
    event_id: str | None = None


@attrs.frozen(kw_only=True)
class InputAudioBufferCommit:
    """Commit the buffer as a user item (push-to-talk; needs >= 100 ms of audio).

    Reply: `input_audio_buffer.committed` and the item events. Does not start a response.
    """

    type: ClassVar[str] = "input_audio_buffer.commit"
    event_id: str | None = None


@attrs.frozen(kw_only=True)
class InputAudioBufferClear:
    """Discard the uncommitted input audio. Reply: `input_audio_buffer.cleared`."""

    type: ClassVar[str] = "input_audio_buffer.clear"
    event_id: str | None = None


@attrs.frozen(kw_only=True)
class ConversationItemCreate:
    """Add an item after `previous_item_id` (default: at the end).

    Reply: `conversation.item.added` then `conversation.item.done`.
    """

    type: ClassVar[str] = "conversation.item.create"
    item: Item
    previous_item_id: str | None = None
    event_id: str | None = None


@attrs.frozen(kw_only=True)
class ConversationItemTruncate:
    """Cut an assistant audio item at `audio_end_ms` (what the user actually heard).

    The server also drops the transcript after that point. Reply:
    `conversation.item.truncated`; an error if `audio_end_ms` exceeds the item's audio.
    """

    type: ClassVar[str] = "conversation.item.truncate"
    item_id: str
    content_index: int
    audio_end_ms: int
    event_id: str | None = None


@attrs.frozen(kw_only=True)
class ConversationItemDelete:
    """Remove an item from the conversation. Reply: `conversation.item.deleted`."""

    type: ClassVar[str] = "conversation.item.delete"
    item_id: str
    event_id: str | None = None


@attrs.frozen(kw_only=True)
class ConversationItemRetrieve:
    """Fetch an item with its audio. Reply: `conversation.item.retrieved`."""

    type: ClassVar[str] = "conversation.item.retrieve"
    item_id: str
    event_id: str | None = None


@attrs.frozen(kw_only=True)
class ResponseCreate:
    """Ask for a response, optionally with per-response overrides.

    Reply: `response.created` ... `response.done`. Needed after every tool output.
    """

    type: ClassVar[str] = "response.create"
    response: ResponseCreateParams | None = None
    event_id: str | None = None


@attrs.frozen(kw_only=True)
class ResponseCancel:
    """Cancel the response in flight. Reply: `response.done` with status "cancelled"."""

    type: ClassVar[str] = "response.cancel"
    response_id: str | None = None
    event_id: str | None = None


@attrs.frozen(kw_only=True)
class OutputAudioBufferClear:
    """WebRTC/SIP only: cut off server-side playout. Reply: `output_audio_buffer.cleared`."""

    type: ClassVar[str] = "output_audio_buffer.clear"
    event_id: str | None = None


ClientEvent = (
    SessionUpdate
    | InputAudioBufferAppend
    | InputAudioBufferCommit
    | InputAudioBufferClear
    | ConversationItemCreate
    | ConversationItemTruncate
    | ConversationItemDelete
    | ConversationItemRetrieve
    | ResponseCreate
    | ResponseCancel
    | OutputAudioBufferClear
)

CLIENT_EVENT_TYPES: dict[str, type[ClientEvent]] = {
    cls.type: cls
    for cls in (
        SessionUpdate,
        InputAudioBufferAppend,
        InputAudioBufferCommit,
        InputAudioBufferClear,
        ConversationItemCreate,
        ConversationItemTruncate,
        ConversationItemDelete,
        ConversationItemRetrieve,
        ResponseCreate,
        ResponseCancel,
        OutputAudioBufferClear,
    )
}
"""Wire `type` -> client event class."""
