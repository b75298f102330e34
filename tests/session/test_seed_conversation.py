"""The support conversation's code, as written there, with voxtrio's import paths."""

import logging

import pytest

from voxtrio import AgentSession, MetricsCollectedEvent
from voxtrio.audio.sinks import MemorySink
from voxtrio.engines.fake import FakeTTS
from voxtrio.engines.fake_llm import FakeLLM, FakeLLMResponse
from voxtrio.metrics import STTMetrics, UsageCollector, log_metrics
from voxtrio.session.agent import Agent
from voxtrio.testing.user import ScriptedUser


async def test_the_seed_conversation_code_works_as_written(autojump_clock, caplog, capsys):
    caplog.set_level(logging.INFO, logger="voxtrio.metrics")
    user = ScriptedUser().says("book a table", at=0.5, duration=2.0)
    session = AgentSession(
        vad=user.vad(),
        stt=user.stt(),
        llm=FakeLLM([FakeLLMResponse(input="book a table", content="For how many?")]),
        tts=FakeTTS(ttfb=0.2, audio_duration=1.5),
    )

    # --- from the conversation ---
    @session.on("metrics_collected")
    def on_stt_metrics_collected(ev: MetricsCollectedEvent):
        if isinstance(ev.metrics, STTMetrics):
            print(f"STT Metrics - Audio Duration: {ev.metrics.audio_duration}s")
            print(f"Total Duration: {ev.metrics.duration}s")

    @session.on("metrics_collected")
    def on_metrics_logged(ev: MetricsCollectedEvent):
        log_metrics(ev.metrics)

    usage_collector = UsageCollector()

    @session.on("metrics_collected")
    def on_metrics_usage(ev: MetricsCollectedEvent):
        usage_collector.collect(ev.metrics)

    summaries = []

    async def log_usage():
        summary = usage_collector.get_summary()
        print(f"Usage Summary: {summary}")
        summaries.append(summary)

    session.add_shutdown_callback(log_usage)
    # --- end ---

    async with session.start(audio_in=user.source(length=6.0), audio_out=MemorySink(24_000), agent=Agent()):
        await session.wait_for_input_end()

    out = capsys.readouterr().out
    assert "STT Metrics - Audio Duration: 2.0s" in out
    assert "Usage Summary: UsageSummary(" in out
    (summary,) = summaries
    assert summary.stt_audio_duration == 2.0
    assert summary.tts_audio_duration == pytest.approx(1.5)
    assert summary.llm_completion_tokens > 0
    assert summary == session.usage
    titles = {r.getMessage().split(":")[0] for r in caplog.records if r.name == "voxtrio.metrics"}
    assert {"STT metrics", "LLM metrics", "TTS metrics", "EOU metrics"} <= titles
