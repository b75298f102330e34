"""The session API a user calls: say, generate_reply, interrupt, events, close, away."""

import pytest
import trio

from voxtrio.audio.sinks import MemorySink
from voxtrio.engines.errors import APIStatusError
from voxtrio.engines.fake import FakeTTS
from voxtrio.engines.fake_llm import FakeLLM, FakeLLMResponse
from voxtrio.session import AgentSession, TurnHandlingOptions
from voxtrio.session.agent import Agent
from voxtrio.testing.recorder import EventRecorder
from voxtrio.testing.user import ScriptedUser


def quiet_session(user: ScriptedUser | None = None, llm: FakeLLM | None = None, **kwargs) -> tuple[AgentSession, ScriptedUser]:
    user = user or ScriptedUser(tail=30.0)
    session = AgentSession(
        vad=user.vad(), stt=user.stt(), llm=llm or FakeLLM(default_response=FakeLLMResponse(input="", content="Hello there.")),
        tts=FakeTTS(ttfb=0.1, audio_duration=1.0), **kwargs,
    )
    return session, user


def test_unknown_event_names_are_refused_with_the_valid_ones():
    session, _ = quiet_session()
    with pytest.raises(ValueError, match="user_input_transcribed"):
        session.on("user_speech_committed", lambda ev: None)


def test_a_cascade_needs_its_engines():
    with pytest.raises(ValueError, match="missing: llm, tts"):
        AgentSession(stt=ScriptedUser().stt())


async def test_say_plays_text_and_the_handle_reports_it(autojump_clock):
    session, user = quiet_session()
    rec = EventRecorder(session)
    sink = MemorySink(24_000)
    async with session.start(audio_in=user.source(), audio_out=sink, agent=Agent()):
        handle = session.say("Welcome to the restaurant.")
        await handle.wait_for_playout()
        created = await rec.expect("speech_created", speech_id=handle.speech_id)
        item = await rec.expect("conversation_item_added", item__role="assistant")
    assert created.payload.source == "say" and not created.payload.user_initiated
    assert item.payload.item.text_content == "Welcome to the restaurant."
    assert item.payload.speech_id == handle.speech_id
    assert not handle.interrupted and handle.played_duration == pytest.approx(1.0)
    assert sink.duration == pytest.approx(1.0)


async def test_generate_reply_uses_extra_instructions(autojump_clock):
    llm = FakeLLM(default_response=FakeLLMResponse(input="", content="Good evening!"))
    session, user = quiet_session(llm=llm)
    async with session.start(audio_in=user.source(), audio_out=MemorySink(24_000), agent=Agent("Be kind.")):
        handle = session.generate_reply(instructions="Greet the caller.")
        await handle.wait_for_playout()
    system = llm.requests[0].messages()[0]
    assert system.role == "system" and "Be kind." in system.text_content and "Greet the caller." in system.text_content
    assert handle.played_text == "Good evening!"


async def test_interrupt_stops_the_reply_and_keeps_what_was_heard(autojump_clock):
    session, user = quiet_session()
    session.tts = FakeTTS(ttfb=0.1, audio_duration=4.0)
    async with session.start(audio_in=user.source(), audio_out=MemorySink(24_000), agent=Agent()):
        handle = session.say("One two three four five six seven eight.")
        await session.agent_state.wait_value("speaking")
        await trio.sleep(1.0)
        session.interrupt()
        await handle.wait_for_playout()
        uninterruptible = session.say("Please hold on.", allow_interruptions=False)
        await session.agent_state.wait_value("speaking")
        session.interrupt()  # ignored: not interruptible
        await uninterruptible.wait_for_playout()
    assert handle.interrupted and handle.played_duration == pytest.approx(1.0, abs=0.03)
    assert handle.played_text == "One two"
    assert not uninterruptible.interrupted and uninterruptible.played_text == "Please hold on."
    assert [m.interrupted for m in session.history.messages()] == [True, False]


async def test_user_goes_away_after_the_timeout(autojump_clock):
    session, user = quiet_session(user_away_timeout=5.0)
    rec = EventRecorder(session)
    async with session.start(audio_in=user.source(), audio_out=MemorySink(24_000), agent=Agent()):
        away = await rec.expect("user_state_changed", new_state="away", within=10)
    assert away.at == pytest.approx(5.0, abs=0.05)


async def test_events_stream_and_close_is_emitted_once(autojump_clock):
    session, user = quiet_session()
    closes = []
    session.on("close", closes.append)
    seen = []
    async with session.start(audio_in=user.source(), audio_out=MemorySink(24_000), agent=Agent()):
        async with session.events("speech_created", "agent_state_changed") as stream:
            session.say("Hi.")
            async for event in stream:
                seen.append((event.name, getattr(event.args[0], "new_state", None)))
                if event.name == "agent_state_changed" and event.args[0].new_state == "listening":
                    break
        await session.aclose()
        await session.aclose()
    assert seen[0] == ("speech_created", None)
    assert ("agent_state_changed", "speaking") in seen
    assert len(closes) == 1 and closes[0].reason == "user_initiated"


async def test_close_is_bounded_even_if_a_shutdown_callback_hangs(autojump_clock):
    session, user = quiet_session(close_timeout=2.0)

    async def hangs():
        await trio.sleep_forever()

    session.add_shutdown_callback(hangs)
    async with session.start(audio_in=user.source(), audio_out=MemorySink(24_000), agent=Agent()):
        started = trio.current_time()
    assert trio.current_time() - started == pytest.approx(2.0, abs=0.1)


async def test_repeated_unrecoverable_llm_errors_close_the_session(autojump_clock):
    user = ScriptedUser()
    for n in range(4):
        user.says(f"try number {n}", at=0.5 + 3 * n, duration=1.0)
    llm = FakeLLM(
        default_response=FakeLLMResponse(input="", error=APIStatusError("bad key", status_code=401), fail_times=99)
    )
    session, _ = quiet_session(user=user, llm=llm)
    rec = EventRecorder(session)
    async with session.start(audio_in=user.source(), audio_out=MemorySink(24_000), agent=Agent()):
        await session._closed.wait()  # closes by itself
    errors = rec.find("error")
    assert len(errors) == 4 and not any(e.payload.recoverable for e in errors)
    (close,) = rec.find("close")
    assert close.payload.reason == "error" and isinstance(close.payload.error, APIStatusError)


async def test_min_interruption_words_needs_words_not_just_sound(autojump_clock):
    user = ScriptedUser().says("book a table", at=0.5, duration=2.0).noise(at=4.0, duration=1.0)
    llm = FakeLLM([FakeLLMResponse(input="book a table", content="Sure, for how many people and when?")])
    session, _ = quiet_session(
        user=user, llm=llm,
        turn_handling=TurnHandlingOptions(min_interruption_words=2, resume_false_interruption=False),
    )
    session.tts = FakeTTS(ttfb=0.1, audio_duration=3.0)
    rec = EventRecorder(session)
    async with session.start(audio_in=user.source(), audio_out=MemorySink(24_000), agent=Agent()):
        item = await rec.expect("conversation_item_added", item__role="assistant", within=10)
    assert not item.payload.item.interrupted
