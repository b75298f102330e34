"""Responses: what `response.create` asks for and what `response.created/done` report.

    ResponseCreateParams(instructions="Answer in one sentence.", output_modalities=("audio",))
    usage = done.response.usage            # Usage(total_tokens=..., input_token_details=...)

Contract: `Response` mirrors the server's `realtime.response` object; every field may be
absent (`response.created` carries little; `response.done` carries status, output items
without audio bytes, and usage). Cached tokens are a subset of input tokens.
"""

from __future__ import annotations

from typing import Literal

import attrs

from .items import Item
from .session_config import AudioFormat, Prompt, Reasoning, Tool, ToolChoice, VoiceId

__all__ = [
    "CachedTokenDetails",
    "ErrorDetails",
    "InputTokenDetails",
    "OutputTokenDetails",
    "Response",
    "ResponseAudio",
    "ResponseAudioInfo",
    "ResponseAudioOutput",
    "ResponseAudioOutputInfo",
    "ResponseCreateParams",
    "ResponseStatus",
    "ResponseStatusDetails",
    "ResponseStatusError",
    "Usage",
]

ResponseStatus = Literal["completed", "cancelled", "failed", "incomplete", "in_progress"]


@attrs.frozen(kw_only=True)
class ResponseAudioOutput:
    """Output format and voice of one response."""

    format: AudioFormat | None = None
    voice: str | VoiceId | None = None


@attrs.frozen(kw_only=True)
class ResponseAudio:
    """`response.audio`: holds `output` only."""

    output: ResponseAudioOutput | None = None


@attrs.frozen(kw_only=True)
class ResponseAudioOutputInfo:
    """Output format and voice the server reports for a response (voice by name only)."""

    format: AudioFormat | None = None
    voice: str | None = None


@attrs.frozen(kw_only=True)
class ResponseAudioInfo:
    """`response.audio` as the server reports it."""

    output: ResponseAudioOutputInfo | None = None


@attrs.frozen(kw_only=True)
class ResponseCreateParams:
    """Per-response overrides for `response.create` (all optional).

    `conversation="none"` makes an out-of-band response that is not added to the default
    conversation; `input` then gives the items it sees. `metadata` tags the response so
    its events can be told apart.
    """

    output_modalities: tuple[Literal["text", "audio"], ...] | None = None
    instructions: str | None = None
    tools: tuple[Tool, ...] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    audio: ResponseAudio | None = None
    max_output_tokens: int | Literal["inf"] | None = None
    metadata: dict[str, str] | None = None
    conversation: str | None = None
    input: tuple[Item, ...] | None = None
    prompt: Prompt | None = None
    reasoning: Reasoning | None = None


@attrs.frozen(kw_only=True)
class ErrorDetails:
    """The error of a failed input transcription; every field optional."""

    type: str | None = None
    code: str | None = None
    message: str | None = None
    param: str | None = None


@attrs.frozen(kw_only=True)
class ResponseStatusError:
    """Why a response failed (inside `ResponseStatusDetails`)."""

    type: str | None = None
    code: str | None = None
    message: str | None = None


@attrs.frozen(kw_only=True)
class ResponseStatusDetails:
    """Why a response ended: e.g. `type="cancelled", reason="turn_detected"`."""

    type: Literal["completed", "cancelled", "incomplete", "failed"] | None = None
    reason: (
        Literal["turn_detected", "client_cancelled", "max_output_tokens", "content_filter"] | None
    ) = None
    error: ResponseStatusError | None = None


@attrs.frozen(kw_only=True)
class CachedTokenDetails:
    """Cached input tokens by modality."""

    text_tokens: int | None = None
    audio_tokens: int | None = None
    image_tokens: int | None = None


@attrs.frozen(kw_only=True)
class InputTokenDetails:
    """Input tokens by modality, and how many came from the cache."""

    text_tokens: int | None = None
    audio_tokens: int | None = None
    image_tokens: int | None = None
    cached_tokens: int | None = None
    cached_tokens_details: CachedTokenDetails | None = None


@attrs.frozen(kw_only=True)
class OutputTokenDetails:
    """Output tokens by modality."""

    text_tokens: int | None = None
    audio_tokens: int | None = None


@attrs.frozen(kw_only=True)
class Usage:
    """Token usage of one response (in `response.done`)."""

    total_tokens: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    input_token_details: InputTokenDetails | None = None
    output_token_details: OutputTokenDetails | None = None


@attrs.frozen(kw_only=True)
class Response:
    """The server's `realtime.response` object."""

    id: str | None = None
    object: Literal["realtime.response"] | None = None
    status: ResponseStatus | None = None
    status_details: ResponseStatusDetails | None = None
    output: tuple[Item, ...] | None = None
    conversation_id: str | None = None
    output_modalities: tuple[Literal["text", "audio"], ...] | None = None
    audio: ResponseAudioInfo | None = None
    max_output_tokens: int | Literal["inf"] | None = None
    metadata: dict[str, str] | None = None
    usage: Usage | None = None
