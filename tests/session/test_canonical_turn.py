"""The canonical turn: a scripted user speaks, the agent answers; order and timing of events.

Script (as in the reference): the user speaks 0.5-2.5 s, STT delay 0.2 s, VAD silence
0.5 s, endpointing 0.5 s, LLM ttft 0.1 s / duration 0.3 s, TTS ttfb 0.2 s / 2.0 s audio.
Runs on virtual time (autojump_clock); tolerance is one 20 ms frame.
"""

import pytest

from voxtrio.audio.sinks import MemorySink
from voxtrio.engines.fake import FakeTTS
from voxtrio.engines.fake_llm import FakeLLM, FakeLLMResponse
from voxtrio.engines.metrics import EOUMetrics, LLMMetrics, STTMetrics, TTSMetrics
from voxtrio.session.agent import Agent
from voxtrio.session.session import AgentSession
from voxtrio.testing.recorder import EventRecorder
from voxtrio.testing.user import ScriptedUser

FRAME = 0.02 * 1.01  # one 20 ms frame (inclusive)


def canonical_session(user: ScriptedUser) -> AgentSession:
    return AgentSession(
        vad=user.vad(min_silence_duration=0.5),
        stt=user.stt(),
        llm=FakeLLM([FakeLLMResponse(input="book a table", content="For how many people?", ttft=0.1, duration=0.3)]),
        tts=FakeTTS(ttfb=0.2, audio_duration=2.0),
    )


async def test_canonical_turn_events_timing_and_turn_id(autojump_clock):
    user = ScriptedUser().says("book a table", at=0.5, duration=2.0, stt_delay=0.2)
    session = canonical_session(user)
    recorder = EventRecorder(session)
    sink = MemorySink(24_000)
    async with session.start(audio_in=user.source(length=7.0), audio_out=sink, agent=Agent("be brief")):
        t0 = (await recorder.expect("agent_state_changed", new_state="listening")).at
        speaking = await recorder.expect("user_state_changed", new_state="speaking", within=2)
        final = await recorder.expect("user_input_transcribed", is_final=True, within=5)
        listening = await recorder.expect("user_state_changed", new_state="listening", within=5)
        user_item = await recorder.expect("conversation_item_added", item__role="user", within=5)
        thinking = await recorder.expect("agent_state_changed", new_state="thinking", within=5)
        talking = await recorder.expect("agent_state_changed", new_state="speaking", within=5)
        reply = await recorder.expect("conversation_item_added", item__role="assistant", within=5)
        back = await recorder.expect("agent_state_changed", new_state="listening", within=5)
        await session.wait_for_idle()

    def t(event):
        return event.at - t0

    # When the VAD was sure (emitted), and back-dated `created_at` to when speech started.
    assert t(speaking) == pytest.approx(0.5 + 0.05, abs=FRAME)
    assert t(final) == pytest.approx(2.7, abs=FRAME)
    assert t(listening) == pytest.approx(3.0, abs=FRAME)
    assert t(user_item) == pytest.approx(3.0, abs=FRAME)
    assert t(thinking) == pytest.approx(3.0, abs=FRAME)
    assert t(talking) == pytest.approx(3.5, abs=FRAME)
    assert t(reply) == pytest.approx(5.5, abs=FRAME)
    assert t(back) == pytest.approx(5.5, abs=FRAME)
    assert speaking.payload.created_at == pytest.approx(listening.payload.created_at - 2.0, abs=FRAME)

    assert user_item.payload.item.text_content == "book a table"
    assistant = reply.payload.item
    assert assistant.text_content == "For how many people?" and not assistant.interrupted
    assert assistant.metrics["e2e_latency"] == pytest.approx(1.0, abs=FRAME)
    assert assistant.metrics["llm_ttft"] == pytest.approx(0.1, abs=FRAME)
    assert assistant.metrics["tts_ttfb"] == pytest.approx(0.2, abs=FRAME)
    assert sink.duration == pytest.approx(2.0, abs=FRAME)

    metrics = {type(e.payload.metrics): e.payload.metrics for e in recorder.find("metrics_collected")}
    eou = metrics[EOUMetrics]
    assert eou.end_of_utterance_delay == pytest.approx(0.5, abs=FRAME)
    assert eou.transcription_delay == pytest.approx(0.2, abs=FRAME)
    assert metrics[LLMMetrics].ttft == pytest.approx(0.1, abs=FRAME)
    assert metrics[TTSMetrics].ttfb == pytest.approx(0.2, abs=FRAME)
    assert metrics[TTSMetrics].audio_duration == pytest.approx(2.0, abs=FRAME)

    # The reference order of the events at the end of the turn (t = 3.0 s) and after.
    def label(e):
        if e.name == "metrics_collected":
            return f"metrics:{type(e.payload.metrics).__name__}"
        if e.name.endswith("state_changed"):
            return f"{e.name}:{e.payload.new_state}"
        if e.name == "conversation_item_added":
            return f"item:{e.payload.item.role}"
        return e.name

    skip = ("metrics:VADMetrics", "agent_transcribed")  # periodic; checked elsewhere
    order = [label(e) for e in recorder.events if e.at >= listening.at and label(e) not in skip]
    assert order == [
        "user_state_changed:listening",
        "metrics:EOUMetrics",
        "item:user",
        "speech_created",
        "agent_state_changed:thinking",
        "metrics:LLMMetrics",
        "metrics:TTSMetrics",
        "agent_state_changed:speaking",
        "item:assistant",
        "agent_state_changed:listening",
        "close",
    ], order

    turn_id = user_item.payload.item.turn_id
    assert turn_id
    for m in (eou, metrics[LLMMetrics], metrics[TTSMetrics], metrics[STTMetrics]):
        assert m.turn_id == turn_id, m
    assert assistant.turn_id == turn_id
    assert final.payload.turn_id == turn_id
    for event in (speaking, listening, thinking, talking):
        assert event.payload.turn_id == turn_id, event
