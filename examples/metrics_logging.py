"""Log every metric of a session and print the usage totals at the end.

    python examples/metrics_logging.py

The code of the support conversation that users ask about, on voxtrio: `session.on(
"metrics_collected")`, `isinstance(ev.metrics, STTMetrics)`, `log_metrics`, and a
`UsageCollector` reported by a shutdown callback. Scripted and on virtual time.
"""

import logging

import trio
import trio.testing

from voxtrio import Agent, AgentSession, MetricsCollectedEvent
from voxtrio.audio.sinks import MemorySink
from voxtrio.engines.fake import FakeTTS
from voxtrio.engines.fake_llm import FakeLLM, FakeLLMResponse
from voxtrio.metrics import STTMetrics, UsageCollector, log_metrics
from voxtrio.testing.user import ScriptedUser


async def main() -> None:
    user = ScriptedUser().says("what time do you open", at=0.5, duration=1.5)
    llm = FakeLLM([FakeLLMResponse(input="what time do you open", content="We open at nine.")])
    session = AgentSession(vad=user.vad(), stt=user.stt(), llm=llm, tts=FakeTTS(ttfb=0.2))

    @session.on("metrics_collected")
    def on_metrics_collected(ev: MetricsCollectedEvent):
        if isinstance(ev.metrics, STTMetrics):
            print(f"STT Metrics - Audio Duration: {ev.metrics.audio_duration}s")
        log_metrics(ev.metrics)

    usage_collector = UsageCollector()
    session.on("metrics_collected", lambda ev: usage_collector.collect(ev.metrics))

    async def log_usage():
        print(f"Usage Summary: {usage_collector.get_summary()}")

    session.add_shutdown_callback(log_usage)
    async with session.start(audio_in=user.source(), audio_out=MemorySink(24_000), agent=Agent()):
        await session.wait_for_input_end()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
