"""log_metrics and UsageCollector, as the support conversation uses them."""

import logging

from voxtrio.engines.metrics import (
    InputTokenDetails,
    LLMMetrics,
    OutputTokenDetails,
    RealtimeModelMetrics,
    STTMetrics,
    TTSMetrics,
    VADMetrics,
)
from voxtrio.metrics import UsageCollector, log_metrics


def test_usage_collector_totals_every_kind():
    usage = UsageCollector()
    usage.collect(STTMetrics(audio_duration=2.5, streamed=True))
    usage.collect(STTMetrics(audio_duration=1.0))
    usage.collect(LLMMetrics(prompt_tokens=100, completion_tokens=20, prompt_cached_tokens=50))
    usage.collect(TTSMetrics(characters_count=42, audio_duration=3.0))
    usage.collect(
        RealtimeModelMetrics(
            input_tokens=10,
            output_tokens=5,
            input_token_details=InputTokenDetails(audio_tokens=8, text_tokens=2),
            output_token_details=OutputTokenDetails(audio_tokens=4, text_tokens=1),
        )
    )
    usage(VADMetrics(inference_count=30))
    summary = usage.get_summary()
    assert summary.stt_audio_duration == 3.5
    assert summary.llm_prompt_tokens == 110 and summary.llm_input_tokens == 110
    assert summary.llm_completion_tokens == 25
    assert summary.llm_prompt_cached_tokens == 50
    assert summary.llm_input_audio_tokens == 8 and summary.llm_output_audio_tokens == 4
    assert summary.tts_characters_count == 42 and summary.tts_audio_duration == 3.0
    usage.collect(STTMetrics(audio_duration=1.0))
    assert summary.stt_audio_duration == 3.5, "a summary is a snapshot"


def test_log_metrics_writes_one_structured_line(caplog):
    caplog.set_level(logging.INFO, logger="voxtrio.metrics")
    log_metrics(STTMetrics(audio_duration=2.0, turn_id="turn_1"))
    log_metrics(LLMMetrics(ttft=0.123, prompt_tokens=5, completion_tokens=7, speech_id="speech_1"))
    log_metrics(VADMetrics(inference_count=3))  # DEBUG: not shown at INFO
    assert [r.getMessage().split(":")[0] for r in caplog.records] == ["STT metrics", "LLM metrics"]
    stt, llm = caplog.records
    assert stt.audio_duration == 2.0 and stt.turn_id == "turn_1"  # type: ignore[attr-defined]
    assert llm.ttft == 0.12 and llm.model_name == "unknown"  # type: ignore[attr-defined]
    assert llm.speech_id == "speech_1"  # type: ignore[attr-defined]
