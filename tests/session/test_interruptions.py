"""Interruptions on virtual time: barge-in, noise that must not interrupt, false interruptions."""

import pytest

from voxtrio.audio.sinks import MemorySink
from voxtrio.engines.fake import FakeTTS
from voxtrio.engines.fake_llm import FakeLLM, FakeLLMResponse
from voxtrio.session.agent import Agent
from voxtrio.session.session import AgentSession
from voxtrio.testing.recorder import EventRecorder
from voxtrio.testing.user import ScriptedUser

FRAME = 0.02 * 1.01

REPLY = "I can book a table for you tonight at seven in the garden room near the window."


def make_session(user: ScriptedUser, **kwargs) -> AgentSession:
    llm = FakeLLM(
        [
            FakeLLMResponse(input="book a table", content=REPLY, ttft=0.1, duration=0.3),
            FakeLLMResponse(input="stop please", content="Sure, stopping.", ttft=0.1, duration=0.2),
        ]
    )
    return AgentSession(
        vad=user.vad(min_silence_duration=0.5), stt=user.stt(), llm=llm,
        tts=FakeTTS(ttfb=0.2, audio_duration=3.0), **kwargs,
    )


def heard_between(sink: MemorySink, start: float, end: float) -> float:
    return sum(f.duration for t, f in sink.heard if start <= t < end)


async def test_barge_in_stops_playout_and_keeps_only_heard_words(autojump_clock):
    # Reply starts playing at 3.5 s; the user talks over it 0.7 s later.
    user = (
        ScriptedUser()
        .says("book a table", at=0.5, duration=2.0)
        .says("stop please", at=4.2, duration=1.0)
    )
    session = make_session(user)
    rec = EventRecorder(session)
    sink = MemorySink(24_000)
    async with session.start(audio_in=user.source(length=12.0), audio_out=sink, agent=Agent()):
        t0 = (await rec.expect("agent_state_changed", new_state="listening")).at
        speaking = await rec.expect("agent_state_changed", new_state="speaking", within=6)
        cut = await rec.expect("agent_state_changed", new_state="listening", within=6)
        item = await rec.expect("conversation_item_added", item__role="assistant", within=6)
        user2 = await rec.expect("conversation_item_added", item__role="user", within=6)
        reply2 = await rec.expect("conversation_item_added", item__role="assistant", within=8)
        await session.wait_for_idle()

    assert speaking.at - t0 == pytest.approx(3.5, abs=FRAME)
    # 0.5 s of user speech (min_interruption_duration) after it started at 4.2 s.
    stop_at = t0 + 4.2 + 0.5
    assert cut.at == pytest.approx(stop_at, abs=2 * FRAME)
    # Playout stops within one frame of the decision.
    assert heard_between(sink, cut.at + FRAME, user2.at) == 0.0
    played = heard_between(sink, speaking.at, cut.at + FRAME)
    assistant = item.payload.item
    assert assistant.interrupted
    heard = assistant.text_content
    assert REPLY.startswith(heard) and 0 < len(heard) < len(REPLY)
    # The words kept are those whose middle was played: about played/3.0 of the reply.
    assert len(heard.split()) == pytest.approx(len(REPLY.split()) * played / 3.0, abs=2)
    assert user2.payload.item.text_content == "stop please"
    second = reply2.payload.item
    assert second.text_content == "Sure, stopping." and not second.interrupted
    assert [m.role for m in session.history.messages()] == ["user", "assistant", "user", "assistant"]


async def test_short_noise_does_not_interrupt(autojump_clock):
    user = ScriptedUser().says("book a table", at=0.5, duration=2.0).noise(at=4.2, duration=0.3)
    session = make_session(user)
    rec = EventRecorder(session)
    async with session.start(audio_in=user.source(length=10.0), audio_out=MemorySink(24_000), agent=Agent()):
        item = await rec.expect("conversation_item_added", item__role="assistant", within=10)
        await session.wait_for_idle()
    assert not item.payload.item.interrupted
    assert item.payload.item.text_content == REPLY
    assert rec.find("agent_false_interruption") == []


async def test_cough_pauses_then_resumes(autojump_clock):
    user = ScriptedUser().says("book a table", at=0.5, duration=2.0).noise(at=4.2, duration=0.7)
    session = make_session(user)
    rec = EventRecorder(session)
    sink = MemorySink(24_000)
    async with session.start(audio_in=user.source(length=12.0), audio_out=sink, agent=Agent()):
        t0 = (await rec.expect("agent_state_changed", new_state="listening")).at
        await rec.expect("agent_state_changed", new_state="speaking", within=6)
        paused = await rec.expect("agent_state_changed", new_state="listening", within=3)
        false = await rec.expect("agent_false_interruption", within=5)
        resumed = await rec.expect("agent_state_changed", new_state="speaking", within=1)
        item = await rec.expect("conversation_item_added", item__role="assistant", within=6)
        await session.wait_for_idle()
    assert paused.at - t0 == pytest.approx(4.7, abs=2 * FRAME)
    assert false.payload.resumed is True
    # Resumed false_interruption_timeout (2.0 s) after the cough ended (4.9 s).
    assert resumed.at - t0 == pytest.approx(4.9 + 2.0, abs=2 * FRAME)
    assert heard_between(sink, paused.at + FRAME, resumed.at - FRAME) == 0.0
    assert not item.payload.item.interrupted
    assert item.payload.item.text_content == REPLY
    assert sink.duration == pytest.approx(3.0, abs=FRAME)


async def test_agent_transcript_is_released_in_step_with_playout(autojump_clock):
    user = (
        ScriptedUser()
        .says("book a table", at=0.5, duration=2.0)
        .says("stop please", at=4.5, duration=1.0)
    )
    session = make_session(user)
    rec = EventRecorder(session)
    sink = MemorySink(24_000)
    async with session.start(audio_in=user.source(length=12.0), audio_out=sink, agent=Agent()):
        speaking = await rec.expect("agent_state_changed", new_state="speaking", within=6)
        item = await rec.expect("conversation_item_added", item__role="assistant", within=6)
        await session.wait_for_idle()
    released = [e for e in rec.find("agent_transcribed") if e.payload.speech_id == item.payload.speech_id]
    assert len(released) >= 3
    # Each release holds the words heard by then: never ahead of the audio played.
    for event in released[:-1]:
        played = heard_between(sink, speaking.at, event.at + 1e-9)
        words = event.payload.transcript.split()
        assert 0 < len(words) <= round(len(REPLY.split()) * played / 3.0) + 1
        assert REPLY.startswith(event.payload.transcript)
    assert "".join(e.payload.delta for e in released[:-1]) == released[-2].payload.transcript
    final = released[-1].payload
    assert final.is_final and final.transcript == item.payload.item.text_content
    assert item.payload.item.interrupted and final.transcript != REPLY
