"""One structured log line per metric.

    @session.on("metrics_collected")
    def on_metrics(ev: MetricsCollectedEvent) -> None:
        log_metrics(ev.metrics)

Each line goes to the "voxtrio.metrics" logger (or the one given) at INFO, with the
figures both in the message and in the record's `extra` fields (for JSON log handlers),
always including `model_name`, `model_provider`, `turn_id` and `speech_id`.
"""

from __future__ import annotations

import logging
from typing import Any

from voxtrio.engines.metrics import (
    AgentMetrics,
    EOUMetrics,
    LLMMetrics,
    RealtimeModelMetrics,
    STTMetrics,
    TTSMetrics,
    VADMetrics,
)

__all__ = ["log_metrics"]

_default_logger = logging.getLogger("voxtrio.metrics")


def log_metrics(metrics: AgentMetrics, logger: logging.Logger | None = None) -> None:
    """Log `metrics` as one INFO line; VAD metrics are logged at DEBUG (one a second)."""
    logger = logger or _default_logger
    level = logging.INFO
    title, fields = _describe(metrics)
    if isinstance(metrics, VADMetrics):
        level = logging.DEBUG
    metadata = metrics.metadata
    extra: dict[str, Any] = {
        "model_name": metadata.model_name if metadata else "unknown",
        "model_provider": metadata.model_provider if metadata else "unknown",
        "turn_id": metrics.turn_id,
        "speech_id": metrics.speech_id,
        **fields,
    }
    text = ", ".join(f"{key}={value}" for key, value in fields.items())
    logger.log(level, "%s: %s", title, text, extra=extra)


def _describe(metrics: AgentMetrics) -> tuple[str, dict[str, Any]]:
    if isinstance(metrics, LLMMetrics):
        return "LLM metrics", {
            "ttft": round(metrics.ttft, 2),
            "prompt_tokens": metrics.prompt_tokens,
            "prompt_cached_tokens": metrics.prompt_cached_tokens,
            "completion_tokens": metrics.completion_tokens,
            "tokens_per_second": round(metrics.tokens_per_second, 2),
        }
    if isinstance(metrics, RealtimeModelMetrics):
        inp, out = metrics.input_token_details, metrics.output_token_details
        return "RealtimeModel metrics", {
            "ttft": round(metrics.ttft, 2),
            "input_tokens": metrics.input_tokens,
            "cached_input_tokens": inp.cached_tokens,
            "input_text_tokens": inp.text_tokens,
            "input_audio_tokens": inp.audio_tokens,
            "output_tokens": metrics.output_tokens,
            "output_text_tokens": out.text_tokens,
            "output_audio_tokens": out.audio_tokens,
            "total_tokens": metrics.total_tokens,
            "tokens_per_second": round(metrics.tokens_per_second, 2),
        }
    if isinstance(metrics, TTSMetrics):
        return "TTS metrics", {
            "ttfb": round(metrics.ttfb, 3),
            "audio_duration": round(metrics.audio_duration, 2),
            "characters_count": metrics.characters_count,
        }
    if isinstance(metrics, EOUMetrics):
        return "EOU metrics", {
            "end_of_utterance_delay": round(metrics.end_of_utterance_delay, 2),
            "transcription_delay": round(metrics.transcription_delay, 2),
        }
    if isinstance(metrics, STTMetrics):
        return "STT metrics", {
            "audio_duration": round(metrics.audio_duration, 2),
            "duration": round(metrics.duration, 3),
            "streamed": metrics.streamed,
        }
    if isinstance(metrics, VADMetrics):
        return "VAD metrics", {
            "inference_count": metrics.inference_count,
            "inference_duration_total": round(metrics.inference_duration_total, 4),
            "idle_time": round(metrics.idle_time, 3),
        }
    return type(metrics).__name__, {}
