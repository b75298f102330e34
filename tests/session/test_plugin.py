"""The shipped pytest plugin's fixtures, used as a user would."""

from voxtrio.audio.sinks import MemorySink
from voxtrio.engines.fake_llm import FakeLLM, FakeLLMResponse


async def test_voice_session_fixture_runs_a_turn(voice_session, scripted_user, wall_origin, autojump_clock):
    scripted_user.says("hello there", at=0.3, duration=0.8)
    session, events = voice_session(scripted_user, llm=FakeLLM([FakeLLMResponse(input="hello there", content="Hi!")]))
    async with session.start(audio_in=scripted_user.source(), audio_out=MemorySink(24_000)):
        transcribed = await events.expect("user_input_transcribed", is_final=True, within=3)
        await events.expect("agent_state_changed", new_state="speaking", within=3)
        reply = await events.expect("conversation_item_added", item__role="assistant", within=5)
    assert transcribed.payload.transcript == "hello there"
    assert reply.payload.item.text_content == "Hi!"
    # created_at follows the pinned origin and trio's clock.
    assert wall_origin < transcribed.payload.created_at < wall_origin + 5
