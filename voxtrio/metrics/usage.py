"""Totals of what a session consumed, from its metrics.

    usage = UsageCollector()

    @session.on("metrics_collected")
    def collect(ev: MetricsCollectedEvent) -> None:
        usage.collect(ev.metrics)

    summary = usage.get_summary()     # UsageSummary(llm_prompt_tokens=..., stt_audio_duration=...)
"""

from __future__ import annotations

import copy

import attrs

from voxtrio.engines.metrics import (
    AgentMetrics,
    LLMMetrics,
    RealtimeModelMetrics,
    STTMetrics,
    TTSMetrics,
)

__all__ = ["UsageCollector", "UsageSummary"]


@attrs.define(slots=True, kw_only=True)
class UsageSummary:
    """Running totals; field names as in the frameworks users know."""

    llm_prompt_tokens: int = 0
    llm_prompt_cached_tokens: int = 0
    llm_completion_tokens: int = 0
    llm_input_audio_tokens: int = 0
    llm_input_cached_audio_tokens: int = 0
    llm_input_text_tokens: int = 0
    llm_input_cached_text_tokens: int = 0
    llm_output_audio_tokens: int = 0
    llm_output_text_tokens: int = 0
    tts_characters_count: int = 0
    tts_audio_duration: float = 0.0
    stt_audio_duration: float = 0.0

    @property
    def llm_input_tokens(self) -> int:
        return self.llm_prompt_tokens

    @property
    def llm_output_tokens(self) -> int:
        return self.llm_completion_tokens


class UsageCollector:
    """Adds up `STTMetrics`, `LLMMetrics`, `TTSMetrics` and `RealtimeModelMetrics`.

    Other metrics (VAD, end of utterance) carry no usage and are ignored. Calling the
    collector is the same as `collect()`, so it can be passed where a callback is expected.
    """

    def __init__(self) -> None:
        self._summary = UsageSummary()

    def __call__(self, metrics: AgentMetrics) -> None:
        self.collect(metrics)

    def collect(self, metrics: AgentMetrics) -> None:
        s = self._summary
        if isinstance(metrics, LLMMetrics):
            s.llm_prompt_tokens += metrics.prompt_tokens
            s.llm_prompt_cached_tokens += metrics.prompt_cached_tokens
            s.llm_completion_tokens += metrics.completion_tokens
        elif isinstance(metrics, RealtimeModelMetrics):
            inp, out = metrics.input_token_details, metrics.output_token_details
            s.llm_prompt_tokens += metrics.input_tokens
            s.llm_prompt_cached_tokens += inp.cached_tokens
            s.llm_completion_tokens += metrics.output_tokens
            s.llm_input_audio_tokens += inp.audio_tokens
            s.llm_input_cached_audio_tokens += inp.cached_audio_tokens
            s.llm_input_text_tokens += inp.text_tokens
            s.llm_input_cached_text_tokens += inp.cached_text_tokens
            s.llm_output_audio_tokens += out.audio_tokens
            s.llm_output_text_tokens += out.text_tokens
        elif isinstance(metrics, TTSMetrics):
            s.tts_characters_count += metrics.characters_count
            s.tts_audio_duration += metrics.audio_duration
        elif isinstance(metrics, STTMetrics):
            s.stt_audio_duration += metrics.audio_duration

    def get_summary(self) -> UsageSummary:
        """A copy of the totals so far (later collection does not change it)."""
        return copy.copy(self._summary)
