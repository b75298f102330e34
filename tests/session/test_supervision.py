"""A crashing actor is restarted, the conversation goes on and the history stays intact."""

from voxtrio.audio.sinks import MemorySink
from voxtrio.engines.fake import FakeTTS
from voxtrio.engines.fake_llm import FakeLLM, FakeLLMResponse
from voxtrio.session.agent import Agent
from voxtrio.session.session import AgentSession
from voxtrio.testing.faults import crash_actor
from voxtrio.testing.recorder import EventRecorder
from voxtrio.testing.user import ScriptedUser


def two_turns() -> tuple[ScriptedUser, AgentSession]:
    user = ScriptedUser().says("first question", at=0.5, duration=1.5).says("second question", at=8.0, duration=1.5)
    llm = FakeLLM(
        [
            FakeLLMResponse(input="first question", content="First answer.", ttft=0.2, duration=0.6),
            FakeLLMResponse(input="second question", content="Second answer."),
        ]
    )
    session = AgentSession(vad=user.vad(), stt=user.stt(), llm=llm, tts=FakeTTS(ttfb=0.2, audio_duration=1.0))
    return user, session


async def test_activity_crash_mid_turn_is_restarted(autojump_clock):
    user, session = two_turns()
    rec = EventRecorder(session)
    async with session.start(audio_in=user.source(), audio_out=MemorySink(24_000), agent=Agent()):
        first = await rec.expect("conversation_item_added", item__role="assistant", within=6)
        await rec.expect("user_state_changed", new_state="speaking", within=10)  # turn 2 starts
        await crash_actor(session, "activity")  # while the user speaks
        error = await rec.expect("error", within=1)
        second_user = await rec.expect("conversation_item_added", item__role="user", within=10)
        second = await rec.expect("conversation_item_added", item__role="assistant", within=5)
        await session.wait_for_input_end()
    assert error.payload.recoverable and error.payload.source == "activity"
    assert first.payload.item.text_content == "First answer."
    assert second_user.payload.item.text_content == "second question"
    assert second.payload.item.text_content == "Second answer."
    assert [m.text_content for m in session.history.messages()] == [
        "first question", "First answer.", "second question", "Second answer.",
    ]


async def test_recognition_crash_while_user_speaks_is_restarted(autojump_clock):
    user, session = two_turns()
    rec = EventRecorder(session)
    async with session.start(audio_in=user.source(), audio_out=MemorySink(24_000), agent=Agent()):
        await rec.expect("conversation_item_added", item__role="assistant", within=6)
        await rec.expect("user_state_changed", new_state="speaking", within=10)  # second turn
        await crash_actor(session, "recognition")
        error = await rec.expect("error", within=1)
        await session.wait_for_input_end()
    assert error.payload.source == "recognition" and error.payload.recoverable
    # The first turn is intact; the session keeps listening and closes cleanly.
    texts = [m.text_content for m in session.history.messages()]
    assert texts[:2] == ["first question", "First answer."]
    assert rec.find("close")[0].payload.reason == "user_initiated"
