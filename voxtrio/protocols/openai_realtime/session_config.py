"""The session configuration sent in `session.update` and echoed in `session.created/updated`.

    SessionConfig(
        instructions="You are terse.",
        output_modalities=("audio",),
        audio=AudioConfig(
            input=AudioInputConfig(format=PcmFormat(), turn_detection=ServerVad(silence_duration_ms=400)),
            output=AudioOutputConfig(format=PcmFormat(), voice="marin"),
        ),
        tools=(FunctionTool(name="get_weather", parameters={"type": "object", "properties": {}}),),
    )

Contract: GA shapes only (`audio.input` / `audio.output`, format objects, `output_modalities`).
Every field defaults to None, meaning "leave as is": `session.update` changes only what is
present. Turn detection, noise reduction, input transcription and tracing accept `NULL` to
switch them off. `id`, `object` and `expires_at` are set by the server in its replies;
never send them. A transcription-only session uses `TranscriptionSessionConfig`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import attrs

from .values import JsonObject, Null, RawObject

__all__ = [
    "AudioConfig",
    "AudioFormat",
    "AudioInputConfig",
    "AudioOutputConfig",
    "FunctionTool",
    "InputTranscription",
    "NoiseReduction",
    "PcmFormat",
    "PcmaFormat",
    "PcmuFormat",
    "Prompt",
    "Reasoning",
    "RetentionRatioTruncation",
    "SemanticVad",
    "ServerVad",
    "SessionConfig",
    "TokenLimits",
    "Tool",
    "ToolChoice",
    "ToolChoiceFunction",
    "ToolChoiceMcp",
    "TracingConfig",
    "TranscriptionAudioConfig",
    "TranscriptionSessionConfig",
    "TurnDetection",
    "VoiceId",
]

ReasoningEffort = Literal["minimal", "low", "medium", "high", "xhigh"]


@attrs.frozen
class PcmFormat:
    """16-bit little-endian mono PCM at 24 kHz (`{"type": "audio/pcm", "rate": 24000}`)."""

    type: ClassVar[str] = "audio/pcm"
    rate: Literal[24000] = 24000


@attrs.frozen
class PcmuFormat:
    """G.711 μ-law at 8 kHz (`{"type": "audio/pcmu"}`), what Twilio carries."""

    type: ClassVar[str] = "audio/pcmu"


@attrs.frozen
class PcmaFormat:
    """G.711 A-law at 8 kHz (`{"type": "audio/pcma"}`)."""

    type: ClassVar[str] = "audio/pcma"


AudioFormat = PcmFormat | PcmuFormat | PcmaFormat


@attrs.frozen(kw_only=True)
class InputTranscription:
    """Transcription of the user's audio, e.g. `InputTranscription(model="gpt-4o-mini-transcribe")`."""

    model: str | None = None
    language: str | None = None
    languages: tuple[str, ...] | None = None
    prompt: str | None = None
    keywords: tuple[str, ...] | None = None
    delay: ReasoningEffort | None = None


@attrs.frozen(kw_only=True)
class NoiseReduction:
    """Input noise reduction: `NoiseReduction(type="near_field")` (headsets) or "far_field"."""

    type: Literal["near_field", "far_field"] | None = None
    strength: float | None = None


@attrs.frozen(kw_only=True)
class ServerVad:
    """Server-side voice activity detection ends the user's turn after a silence.

    `create_response` starts a reply at speech stop; `interrupt_response` cancels a reply
    in flight when the user starts speaking; `idle_timeout_ms` fires
    `input_audio_buffer.timeout_triggered` after that much silence.
    """

    type: ClassVar[str] = "server_vad"
    threshold: float | None = None
    prefix_padding_ms: int | None = None
    silence_duration_ms: int | None = None
    idle_timeout_ms: int | None = None
    create_response: bool | None = None
    interrupt_response: bool | None = None


@attrs.frozen(kw_only=True)
class SemanticVad:
    """A model decides when the user has finished; `eagerness` trades latency for patience."""

    type: ClassVar[str] = "semantic_vad"
    eagerness: Literal["low", "medium", "high", "auto"] | None = None
    create_response: bool | None = None
    interrupt_response: bool | None = None


TurnDetection = ServerVad | SemanticVad


@attrs.frozen(kw_only=True)
class AudioInputConfig:
    """Input side of `SessionConfig.audio`. `turn_detection=NULL` means push-to-talk."""

    format: AudioFormat | None = None
    transcription: InputTranscription | Null | None = None
    noise_reduction: NoiseReduction | Null | None = None
    turn_detection: TurnDetection | Null | None = None


@attrs.frozen
class VoiceId:
    """A custom voice by id: `VoiceId("voice_1234")`."""

    id: str


@attrs.frozen(kw_only=True)
class AudioOutputConfig:
    """Output side of `SessionConfig.audio`. `voice` is a name ("marin", "cedar", ...) or a VoiceId."""

    format: AudioFormat | None = None
    voice: str | VoiceId | None = None
    speed: float | None = None


@attrs.frozen(kw_only=True)
class AudioConfig:
    """`SessionConfig.audio`: input and output formats, turn detection, voice."""

    input: AudioInputConfig | None = None
    output: AudioOutputConfig | None = None


@attrs.frozen(kw_only=True)
class FunctionTool:
    """A tool the model may call; `parameters` is a JSON schema object."""

    type: ClassVar[str] = "function"
    name: str
    description: str | None = None
    parameters: JsonObject | None = None


Tool = FunctionTool | RawObject
"""A session or response tool: a function, or an MCP tool passed through as a RawObject."""


@attrs.frozen(kw_only=True)
class ToolChoiceFunction:
    """Force a call of the named function."""

    type: ClassVar[str] = "function"
    name: str


@attrs.frozen(kw_only=True)
class ToolChoiceMcp:
    """Force a call of a tool on the MCP server `server_label` (any tool if `name` is None)."""

    type: ClassVar[str] = "mcp"
    server_label: str
    name: str | None = None


ToolChoice = Literal["none", "auto", "required"] | ToolChoiceFunction | ToolChoiceMcp


@attrs.frozen(kw_only=True)
class TracingConfig:
    """Tracing names for the OpenAI traces dashboard (or "auto", or NULL to disable)."""

    workflow_name: str | None = None
    group_id: str | None = None
    metadata: Any = None


@attrs.frozen(kw_only=True)
class TokenLimits:
    """Token budget used by retention-ratio truncation."""

    post_instructions: int | None = None


@attrs.frozen(kw_only=True)
class RetentionRatioTruncation:
    """Drop this share of the conversation when it exceeds the context window."""

    type: ClassVar[str] = "retention_ratio"
    retention_ratio: float
    token_limits: TokenLimits | None = None


@attrs.frozen(kw_only=True)
class Prompt:
    """A stored prompt template by id, with variable values (strings or input objects)."""

    id: str
    variables: dict[str, Any] | None = None
    version: str | None = None


@attrs.frozen(kw_only=True)
class Reasoning:
    """Reasoning effort for reasoning-capable realtime models."""

    effort: ReasoningEffort | None = None


@attrs.frozen(kw_only=True)
class SessionConfig:
    """A speech-to-speech (or text) session: `{"type": "realtime", ...}`. See the module docstring."""

    type: ClassVar[str] = "realtime"
    model: str | None = None
    instructions: str | None = None
    output_modalities: tuple[Literal["text", "audio"], ...] | None = None
    max_output_tokens: int | Literal["inf"] | None = None
    audio: AudioConfig | None = None
    tools: tuple[Tool, ...] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    tracing: Literal["auto"] | TracingConfig | Null | None = None
    truncation: Literal["auto", "disabled"] | RetentionRatioTruncation | None = None
    include: tuple[Literal["item.input_audio_transcription.logprobs"], ...] | None = None
    prompt: Prompt | None = None
    reasoning: Reasoning | None = None
    # Set by the server in session.created / session.updated only.
    id: str | None = None
    object: str | None = None
    expires_at: int | None = None

    def without_server_fields(self) -> SessionConfig:
        """This config minus `id`, `object`, `expires_at`: fit for `session.update`.

        Use it to replay a server-reported config, e.g. after a reconnect.
        """
        return attrs.evolve(self, id=None, object=None, expires_at=None)


@attrs.frozen(kw_only=True)
class TranscriptionAudioConfig:
    """`TranscriptionSessionConfig.audio`: input only."""

    input: AudioInputConfig | None = None


@attrs.frozen(kw_only=True)
class TranscriptionSessionConfig:
    """A transcription-only session: `{"type": "transcription", ...}`."""

    type: ClassVar[str] = "transcription"
    audio: TranscriptionAudioConfig | None = None
    include: tuple[Literal["item.input_audio_transcription.logprobs"], ...] | None = None
    id: str | None = None
    object: str | None = None
    expires_at: int | None = None

    def without_server_fields(self) -> TranscriptionSessionConfig:
        """This config minus `id`, `object`, `expires_at`: fit for `session.update`."""
        return attrs.evolve(self, id=None, object=None, expires_at=None)
