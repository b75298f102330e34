"""Metrics records that engines emit through `engine.on("metrics_collected", ...)`.

    @stt.on("metrics_collected")
    def show(m: STTMetrics) -> None:
        log.info("%s: %.2f s of audio in %.3f s", m.label, m.audio_duration, m.duration)

Every record is a frozen attrs value with keyword-only fields. `timestamp` is wall time
in seconds since the epoch from the session clock (`voxtrio.core.clock.wall_time`, which
follows trio's clock, so virtual-time tests get the same numbers each run); durations
are measured on `trio.current_time()`. `turn_id` / `speech_id` join a record to its
conversation turn / agent reply; an engine leaves them None when it cannot know them
and the actor that wraps the engine fills them in with `with_ids(...)`.
`type` names the record kind like the frameworks users know ("stt_metrics", ...).
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeAlias, TypeVar

import attrs

from voxtrio.core.clock import wall_time

__all__ = [
    "AgentMetrics",
    "EOUMetrics",
    "InputTokenDetails",
    "LLMMetrics",
    "MetricsMetadata",
    "OutputTokenDetails",
    "RealtimeModelMetrics",
    "STTMetrics",
    "TTSMetrics",
    "VADMetrics",
    "with_ids",
]

M = TypeVar("M", bound="_Ids")


@attrs.frozen(slots=True, kw_only=True)
class MetricsMetadata:
    """Which model produced a record ("unknown" when the engine does not say)."""

    model_name: str = "unknown"
    model_provider: str = "unknown"


@attrs.frozen(slots=True, kw_only=True)
class _Ids:
    timestamp: float = attrs.field(factory=wall_time)
    turn_id: str | None = None
    speech_id: str | None = None
    metadata: MetricsMetadata | None = None


@attrs.frozen(slots=True, kw_only=True)
class STTMetrics(_Ids):
    """One recognition: `recognize()` call, or one usage report of a stream.

    `duration`: seconds the request took (batch), or trio time since the stream started
    (streamed). `audio_duration`: seconds of audio the engine consumed. `error`: the
    failure's text for a request that finally failed, else None.
    """

    type: ClassVar[str] = "stt_metrics"
    label: str = ""
    request_id: str = ""
    duration: float = 0.0
    audio_duration: float = 0.0
    streamed: bool = False
    error: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0


@attrs.frozen(slots=True, kw_only=True)
class VADMetrics(_Ids):
    """About one per second of audio: how busy the VAD was.

    `idle_time`: seconds since the previous record spent waiting for audio;
    `inference_duration_total`: seconds spent computing probabilities;
    `inference_count`: windows scored in that period.
    """

    type: ClassVar[str] = "vad_metrics"
    label: str = ""
    idle_time: float = 0.0
    inference_duration_total: float = 0.0
    inference_count: int = 0


@attrs.frozen(slots=True, kw_only=True)
class TTSMetrics(_Ids):
    """One synthesis (or, for a streamed synthesis, one segment).

    `ttfb`: seconds from the request (first text of the segment) to its first audio, -1
    when no audio came. `duration`: seconds until the synthesis ended.
    `audio_duration`: seconds of audio produced. `cancelled`: ended before all audio.
    """

    type: ClassVar[str] = "tts_metrics"
    label: str = ""
    request_id: str = ""
    segment_id: str = ""
    ttfb: float = -1.0
    duration: float = 0.0
    audio_duration: float = 0.0
    cancelled: bool = False
    characters_count: int = 0
    streamed: bool = False
    error: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0


@attrs.frozen(slots=True, kw_only=True)
class LLMMetrics(_Ids):
    """One chat completion. `ttft` is -1 when no token came."""

    type: ClassVar[str] = "llm_metrics"
    label: str = ""
    request_id: str = ""
    duration: float = 0.0
    ttft: float = -1.0
    cancelled: bool = False
    completion_tokens: int = 0
    prompt_tokens: int = 0
    prompt_cached_tokens: int = 0
    cache_creation_tokens: int = 0
    total_tokens: int = 0
    tokens_per_second: float = 0.0


@attrs.frozen(slots=True, kw_only=True)
class EOUMetrics(_Ids):
    """End of a user turn.

    `end_of_utterance_delay`: VAD end of speech → turn decision; `transcription_delay`:
    end of speech → final transcript; `on_user_turn_completed_delay`: time spent in the
    user's turn-completed hook.
    """

    type: ClassVar[str] = "eou_metrics"
    end_of_utterance_delay: float = 0.0
    transcription_delay: float = 0.0
    on_user_turn_completed_delay: float = 0.0


@attrs.frozen(slots=True, kw_only=True)
class InputTokenDetails:
    audio_tokens: int = 0
    text_tokens: int = 0
    image_tokens: int = 0
    cached_tokens: int = 0
    cached_audio_tokens: int = 0
    cached_text_tokens: int = 0
    cached_image_tokens: int = 0


@attrs.frozen(slots=True, kw_only=True)
class OutputTokenDetails:
    text_tokens: int = 0
    audio_tokens: int = 0
    image_tokens: int = 0


@attrs.frozen(slots=True, kw_only=True)
class RealtimeModelMetrics(_Ids):
    """One realtime-model response. `ttft` is the first audio token, -1 if none."""

    type: ClassVar[str] = "realtime_model_metrics"
    label: str = ""
    request_id: str = ""
    duration: float = 0.0
    session_duration: float = 0.0
    ttft: float = -1.0
    cancelled: bool = False
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    tokens_per_second: float = 0.0
    input_token_details: InputTokenDetails = attrs.field(factory=InputTokenDetails)
    output_token_details: OutputTokenDetails = attrs.field(factory=OutputTokenDetails)


AgentMetrics: TypeAlias = (
    STTMetrics | VADMetrics | TTSMetrics | LLMMetrics | EOUMetrics | RealtimeModelMetrics
)


def with_ids(metrics: M, *, turn_id: str | None = None, speech_id: str | None = None) -> M:
    """`metrics` with `turn_id` / `speech_id` filled in where they are still None."""
    changes: dict[str, Any] = {}
    if turn_id is not None and metrics.turn_id is None:
        changes["turn_id"] = turn_id
    if speech_id is not None and metrics.speech_id is None:
        changes["speech_id"] = speech_id
    return attrs.evolve(metrics, **changes) if changes else metrics
