"""Conversation items and their content parts.

    MessageItem.user_text("What's the weather?")
    MessageItem(role="user", content=(InputAudio(audio=b64, transcript="hi"),))
    FunctionCallOutputItem(call_id="call_1", output='{"temp_c": 21}')

Contract: a message's parts must suit its role — system: `InputText`; user: `InputText`,
`InputAudio`, `InputImage`; assistant: `OutputText`, `OutputAudio` (constructing or
decoding anything else raises). The client cannot add assistant audio to a
conversation; send an `OutputText` part instead. `id`, `object` and `status` are set
by the server; leave them None when creating items (except `id`, which may be chosen
by the client). MCP items (`mcp_call`, `mcp_list_tools`, approval request/response)
pass through as `RawObject`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import attrs

from .values import RawObject

__all__ = [
    "ContentPart",
    "FunctionCallItem",
    "FunctionCallOutputItem",
    "InputAudio",
    "InputImage",
    "InputText",
    "Item",
    "ItemStatus",
    "MessageItem",
    "OutputAudio",
    "OutputText",
]

ItemStatus = Literal["completed", "incomplete", "in_progress"]


@attrs.frozen
class InputText:
    """Text from the user or the system: `{"type": "input_text", "text": ...}`."""

    type: ClassVar[str] = "input_text"
    text: str


@attrs.frozen(kw_only=True)
class InputAudio:
    """User audio (base64, in the session's input format) and/or its transcript."""

    type: ClassVar[str] = "input_audio"
    audio: str | None = None
    transcript: str | None = None


@attrs.frozen(kw_only=True)
class InputImage:
    """An image for the model, as a URL or a `data:` URL."""

    type: ClassVar[str] = "input_image"
    image_url: str | None = None
    detail: Literal["auto", "low", "high"] | None = None


@attrs.frozen
class OutputText:
    """Assistant text: `{"type": "output_text", "text": ...}`."""

    type: ClassVar[str] = "output_text"
    text: str


@attrs.frozen(kw_only=True)
class OutputAudio:
    """Assistant audio; the server leaves `audio` out of item events and keeps the transcript."""

    type: ClassVar[str] = "output_audio"
    audio: str | None = None
    transcript: str | None = None


ContentPart = InputText | InputAudio | InputImage | OutputText | OutputAudio

_PARTS_BY_ROLE: dict[str, tuple[type, ...]] = {
    "system": (InputText,),
    "user": (InputText, InputAudio, InputImage),
    "assistant": (OutputText, OutputAudio),
}


@attrs.frozen(kw_only=True)
class MessageItem:
    """A message in the conversation (see the module docstring for parts per role)."""

    type: ClassVar[str] = "message"
    role: Literal["system", "user", "assistant"]
    content: tuple[ContentPart, ...] = attrs.field(default=())
    id: str | None = None
    object: Literal["realtime.item"] | None = None
    status: ItemStatus | None = None

    @content.validator
    def _check_parts(self, _attribute: Any, parts: tuple[ContentPart, ...]) -> None:
        allowed = _PARTS_BY_ROLE.get(self.role, ())
        for index, part in enumerate(parts):
            if not isinstance(part, allowed):
                names = ", ".join(repr(cls.__dict__["type"]) for cls in allowed)
                raise ValueError(
                    f"content[{index}]: a {self.role} message cannot hold a "
                    f"{type(part).__name__} part; use {names}"
                )

    @classmethod
    def user_text(cls, text: str, *, id: str | None = None) -> MessageItem:
        """A user message holding one `InputText`."""
        return cls(role="user", content=(InputText(text),), id=id)

    @classmethod
    def system_text(cls, text: str, *, id: str | None = None) -> MessageItem:
        """A system message holding one `InputText`."""
        return cls(role="system", content=(InputText(text),), id=id)

    @classmethod
    def assistant_text(cls, text: str, *, id: str | None = None) -> MessageItem:
        """An assistant message holding one `OutputText` (history you replay to the model)."""
        return cls(role="assistant", content=(OutputText(text),), id=id)

    @property
    def text(self) -> str:
        """The text of all parts joined (transcripts for audio parts)."""
        pieces: list[str] = []
        for part in self.content:
            if isinstance(part, (InputText, OutputText)):
                pieces.append(part.text)
            elif isinstance(part, (InputAudio, OutputAudio)) and part.transcript:
                pieces.append(part.transcript)
        return "".join(pieces)


@attrs.frozen(kw_only=True)
class FunctionCallItem:
    """The model's call of a function tool; `arguments` is a JSON string."""

    type: ClassVar[str] = "function_call"
    name: str
    arguments: str
    call_id: str | None = None
    id: str | None = None
    object: Literal["realtime.item"] | None = None
    status: ItemStatus | None = None


@attrs.frozen(kw_only=True)
class FunctionCallOutputItem:
    """The result of a function call, sent back by the client (`output` is usually JSON)."""

    type: ClassVar[str] = "function_call_output"
    call_id: str
    output: str
    id: str | None = None
    object: Literal["realtime.item"] | None = None
    status: ItemStatus | None = None


Item = MessageItem | FunctionCallItem | FunctionCallOutputItem | RawObject
"""Any conversation item; MCP items decode as `RawObject`."""
