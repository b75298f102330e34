"""AgentSession(model=RealtimeModel) against the scripted realtime server.

Real localhost sockets, so real time: every wait is bounded (`trio.fail_after`, the
recorder's `within`). Scripts are the canonical fixtures of tests/protocols with
`ExpectClient` steps where a real server waits for the client; every client message is
schema-checked by the server.
"""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import trio

from voxtrio.audio.sinks import MemorySink
from voxtrio.audio.sources import MemorySource
from voxtrio.engines.errors import APIConnectOptions
from voxtrio.engines.metrics import RealtimeModelMetrics
from voxtrio.engines.openai.realtime import RealtimeModel
from voxtrio.engines.tools import function_tool
from voxtrio.session.agent import Agent
from voxtrio.session.realtime_activity import RealtimeSayUnsupported
from voxtrio.session.session import AgentSession
from voxtrio.testing.realtime_server import (
    Delay,
    Drop,
    ExpectClient,
    ScriptStep,
    Send,
    open_realtime_server,
    response_created,
)
from voxtrio.testing.recorder import EventRecorder

FIXTURES = Path(__file__).parents[1] / "protocols" / "fixtures"
LIMIT = 15


def fixture(name: str) -> list[dict[str, Any]]:
    lines = (FIXTURES / f"realtime_{name}.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def handshake(events: list[dict[str, Any]]) -> list[ScriptStep]:
    created = events[0]
    updated = next(
        (e for e in events if e["type"] == "session.updated"),
        {"type": "session.updated", "event_id": "event_upd", "session": created["session"]},
    )
    return [Send(created), ExpectClient("session.update"), Send(updated)]


def audio_reply_as(response_id: str) -> list[dict[str, Any]]:
    """The spoken reply of the full voice turn, as response `response_id`."""
    text = json.dumps(fixture("full_voice_turn")[12:]).replace("resp_R001", response_id)
    return list(json.loads(text))


def realtime_session(server: Any, *, model_options: Any = None, **options: Any) -> AgentSession:
    model = RealtimeModel(
        api_key="test-key", base_url=f"ws://127.0.0.1:{server.port}/v1", **(model_options or {})
    )
    return AgentSession(model=model, user_away_timeout=None, **options)


def mic(seconds: float = 0.4) -> MemorySource:
    t = np.arange(int(16_000 * seconds)) / 16_000
    return MemorySource((6000 * np.sin(2 * np.pi * 200 * t)).astype(np.int16), 16_000)


async def test_a_full_audio_turn_through_the_session() -> None:
    events = fixture("full_voice_turn")
    script = [*handshake(events), ExpectClient("input_audio_buffer.append"), *map(Send, events[2:])]
    sink = MemorySink(24_000)
    with trio.fail_after(LIMIT):
        async with open_realtime_server(script) as server:
            session = realtime_session(server)
            rec = EventRecorder(session)
            async with session.start(audio_in=mic(), audio_out=sink, agent=Agent("Be brief.")):
                await rec.expect("user_state_changed", new_state="speaking")
                await rec.expect("user_state_changed", new_state="listening")
                final = await rec.expect("user_input_transcribed", is_final=True)
                user = await rec.expect("conversation_item_added", item__role="user")
                speaking = await rec.expect("agent_state_changed", new_state="speaking")
                assistant = await rec.expect("conversation_item_added", item__role="assistant")
                await rec.expect("agent_state_changed", new_state="listening")
            update = server.connections[0].events_of("session.update")[0]
    server.assert_no_problems()
    assert update.session.instructions == "Be brief."  # the agent's instructions
    interim = rec.find("user_input_transcribed", is_final=False)
    assert [e.payload.transcript for e in interim] == ["What's the weather", "What's the weather in Paris?"]
    assert final.payload.transcript == "What's the weather in Paris?"
    assert user.payload.item.text_content == "What's the weather in Paris?"
    assert user.payload.turn_id == final.payload.turn_id is not None
    # speaking starts when the first frame reaches the speaker, not when audio arrives
    assert speaking.at == pytest.approx(sink.heard[0][0], abs=0.05)
    assert speaking.payload.speech_id == "speech_R001"
    item = assistant.payload.item
    assert item.text_content == "Sure! It's sunny in Paris today." and not item.interrupted
    assert item.speech_id == "speech_R001" and item.turn_id == user.payload.turn_id
    assert sink.num_samples == 6 * 1200  # all of the reply's audio was played
    assert "e2e_latency" in item.metrics
    metrics = [
        e.payload.metrics for e in rec.find("metrics_collected")
        if isinstance(e.payload.metrics, RealtimeModelMetrics)
    ]
    assert len(metrics) == 1
    m = metrics[0]
    assert (m.input_tokens, m.output_tokens, m.total_tokens) == (170, 94, 264)
    assert m.input_token_details.cached_tokens == 64
    assert (m.output_token_details.text_tokens, m.output_token_details.audio_tokens) == (19, 75)
    assert m.speech_id == "speech_R001" and m.turn_id == user.payload.turn_id
    assert session.usage.llm_output_audio_tokens == 75
    states = [e.payload.new_state for e in rec.find("agent_state_changed")]
    assert states == ["listening", "thinking", "speaking", "listening"]
    assert [m.role for m in session.history.items] == ["user", "assistant"]


async def test_user_state_times_are_back_dated_to_the_server_vad_positions() -> None:
    def vad(kind: str, key: str, ms: int) -> Send:
        return Send({"type": f"input_audio_buffer.{kind}", "event_id": f"event_{kind}",
                     key: ms, "item_id": "item_U1"})

    script: list[ScriptStep] = [
        *handshake(fixture("full_voice_turn")),
        ExpectClient("input_audio_buffer.append"),
        Delay(0.6),  # ~0.7 s of mic audio reached the server by now
        vad("speech_started", "audio_start_ms", 100),
        vad("speech_stopped", "audio_end_ms", 500),
    ]
    with trio.fail_after(LIMIT):
        async with open_realtime_server(script) as server:
            session = realtime_session(server)
            rec = EventRecorder(session)
            async with session.start(audio_in=mic(1.0), audio_out=MemorySink(24_000)):
                speaking = await rec.expect("user_state_changed", new_state="speaking")
                listening = await rec.expect("user_state_changed", new_state="listening")
    server.assert_no_problems()
    assert listening.at - speaking.at < 0.1  # both arrived together...
    # ...but they say when the user spoke: 400 ms apart, well before they arrived
    assert listening.payload.created_at - speaking.payload.created_at == pytest.approx(0.4, abs=0.03)
    assert speaking.payload.turn_id == listening.payload.turn_id is not None


@function_tool
async def get_weather(city: str, unit: str = "celsius") -> str:
    """Look up the weather.

    Args:
        city: the city
        unit: celsius or fahrenheit
    """
    return json.dumps({"city": city, "temp_c": 21, "sky": "sunny", "unit": unit})


async def test_a_tool_call_round_trip() -> None:
    events = fixture("tool_call_turn")
    first_done = next(i for i, e in enumerate(events) if e["type"] == "response.done")
    second_created = next(
        i for i, e in enumerate(events) if e["type"] == "response.created" and i > first_done
    )
    script: list[ScriptStep] = [
        *handshake(events),
        ExpectClient("response.create"),
        response_created("resp_R101"),
        *map(Send, events[5 : first_done + 1]),
        ExpectClient("conversation.item.create"),
        *map(Send, events[first_done + 1 : second_created]),
        ExpectClient("response.create"),
        response_created("resp_R102"),
        *map(Send, events[second_created + 1 :]),
    ]
    with trio.fail_after(LIMIT):
        async with open_realtime_server(script) as server:
            session = realtime_session(server)
            rec = EventRecorder(session)
            agent = Agent("You know the weather.", tools=[get_weather])
            async with session.start(audio_in=mic(0.1), audio_out=MemorySink(24_000), agent=agent):
                handle = session.generate_reply(instructions="Tell the weather in Paris.")
                executed = await rec.expect("function_tools_executed")
                follow_up = await rec.expect("speech_created", source="tool_response")
                reply = await rec.expect("conversation_item_added", item__role="assistant")
            connection = server.connections[0]
    server.assert_no_problems()
    assert handle.done() and handle.speech_id == "speech_R101"
    update = connection.events_of("session.update")[0]
    assert [t.name for t in update.session.tools] == ["get_weather"]
    creates = connection.events_of("response.create")
    assert creates[0].response.instructions == "Tell the weather in Paris."
    call, output = executed.payload.zipped()[0]
    assert call.name == "get_weather" and call.call_id == "call_W3a9"
    assert json.loads(output.output)["temp_c"] == 21 and not output.is_error
    sent = [e.item for e in connection.events_of("conversation.item.create")]
    assert [(o.call_id, json.loads(o.output)["city"]) for o in sent] == [("call_W3a9", "Paris")]
    assert follow_up.payload.speech_id == "speech_R102"
    assert reply.payload.item.text_content == "It's 21 degrees and sunny."
    kinds = [item.type for item in session.history.items]
    assert kinds == ["function_call", "function_call_output", "message"]
    states = [e.payload.new_state for e in rec.find("agent_state_changed")]
    assert states == ["listening", "thinking", "speaking", "listening"]  # no flicker


async def test_an_interruption_truncates_at_the_played_position() -> None:
    events = fixture("interrupted_turn")
    speech_started = next(
        i for i, e in enumerate(events) if e["type"] == "input_audio_buffer.speech_started" and i > 2
    )
    done = next(i for i, e in enumerate(events) if e["type"] == "response.done")
    script: list[ScriptStep] = [
        *handshake(events),
        *map(Send, events[1:speech_started]),  # the user's turn, then 300 ms of reply audio
        Delay(0.2),  # the user hears ~200 ms of it ("Let"), then speaks again
        Send(events[speech_started]),
        ExpectClient("response.cancel"),
        ExpectClient("conversation.item.truncate"),
        *map(Send, events[speech_started + 1 : done + 1]),
    ]
    sink = MemorySink(24_000)
    with trio.fail_after(LIMIT):
        async with open_realtime_server(script) as server:
            session = realtime_session(server)
            rec = EventRecorder(session)
            async with session.start(audio_in=mic(0.1), audio_out=sink, agent=Agent()):
                assistant = await rec.expect("conversation_item_added", item__role="assistant")
                (truncate,) = await server.wait_client_event("conversation.item.truncate")
                await rec.expect("agent_state_changed", new_state="listening")
    server.assert_no_problems()
    played_ms = sink.num_samples * 1000 // 24_000
    assert 20 <= played_ms < 300  # cut mid-reply
    assert (truncate.item_id, truncate.content_index) == ("item_A201", 0)
    assert truncate.audio_end_ms == played_ms  # exactly what reached the speaker
    item = assistant.payload.item
    assert item.interrupted and item.speech_id == "speech_R201"
    assert "Let me tell you about the".startswith(item.text_content)
    assert len(item.text_content) < len("Let me tell you about the")
    assert session.history.items[-1] is item


async def test_session_interrupt_cuts_a_generated_reply_where_it_was() -> None:
    events = fixture("interrupted_turn")
    reply = [e for e in events if e.get("response_id") == "resp_R201"][:12]  # 300 ms of audio
    script: list[ScriptStep] = [
        *handshake(events),
        ExpectClient("response.create"),
        response_created("resp_R201"),
        *map(Send, reply),
        ExpectClient("response.cancel"),
        ExpectClient("conversation.item.truncate"),
    ]
    sink = MemorySink(24_000)
    with trio.fail_after(LIMIT):
        async with open_realtime_server(script) as server:
            session = realtime_session(server)
            rec = EventRecorder(session)
            async with session.start(audio_in=mic(0.1), audio_out=sink):
                handle = session.generate_reply(instructions="Tell a story.")
                await rec.expect("agent_state_changed", new_state="speaking")
                await trio.sleep(0.1)
                session.interrupt()
                await handle.wait_for_playout()
                (truncate,) = await server.wait_client_event("conversation.item.truncate")
    server.assert_no_problems()
    assert handle.interrupted and handle.speech_id == "speech_R201"
    assert truncate.audio_end_ms == sink.num_samples * 1000 // 24_000 < 300
    assert handle.played_duration == pytest.approx(sink.num_samples / 24_000)


async def test_a_text_answer_is_asked_again_for_audio() -> None:
    events = fixture("text_response_turn")
    script: list[ScriptStep] = [
        *handshake(events),
        *map(Send, events[1:]),  # the model answers in text only
        ExpectClient("conversation.item.delete"),
        ExpectClient("response.create"),
        response_created("resp_R402"),
        *map(Send, audio_reply_as("resp_R402")),  # then with audio
    ]
    with trio.fail_after(LIMIT):
        async with open_realtime_server(script) as server:
            session = realtime_session(server)
            rec = EventRecorder(session)
            async with session.start(audio_in=mic(0.1), audio_out=MemorySink(24_000), agent=Agent()):
                assistant = await rec.expect("conversation_item_added", item__role="assistant")
            connection = server.connections[0]
    server.assert_no_problems()
    assert [d.item_id for d in connection.events_of("conversation.item.delete")] == ["item_A401"]
    assert len(connection.events_of("response.create")) == 1
    assert assistant.payload.item.text_content == "Sure! It's sunny in Paris today."
    assert not rec.find("error")  # recovered: nothing to report
    assert [m.role for m in session.history.items] == ["assistant"]  # the text answer is gone


async def test_text_answers_beyond_the_retry_budget_are_an_unrecoverable_error() -> None:
    events = fixture("text_response_turn")
    script: list[ScriptStep] = [*handshake(events), *map(Send, events[1:])]
    with trio.fail_after(LIMIT):
        async with open_realtime_server(script) as server:
            session = realtime_session(server, max_text_response_retries=0)
            rec = EventRecorder(session)
            async with session.start(audio_in=mic(0.1), audio_out=MemorySink(24_000), agent=Agent()):
                error = await rec.expect("error", source="realtime")
    assert not error.payload.recoverable
    assert "answered in text" in str(error.payload.error)
    assert "max_text_response_retries=0" in str(error.payload.error)


async def test_a_dropped_socket_is_a_recoverable_error_and_the_conversation_goes_on() -> None:
    events = fixture("full_voice_turn")
    first: list[ScriptStep] = [*handshake(events), *map(Send, events[2:20]), Drop()]  # mid-reply
    second: list[ScriptStep] = [
        *handshake(events),
        ExpectClient("response.create"),
        response_created("resp_R009"),
        *map(Send, audio_reply_as("resp_R009")),
    ]
    with trio.fail_after(LIMIT):
        async with open_realtime_server(first, second) as server:
            session = realtime_session(server)
            rec = EventRecorder(session)
            async with session.start(audio_in=mic(0.1), audio_out=MemorySink(24_000)):
                error = await rec.expect("error", source="realtime")
                await server.wait_connection(1)
                cut = await rec.expect("conversation_item_added", item__role="assistant")
                await rec.expect("agent_state_changed", new_state="listening")
                await server.wait_client_event("conversation.item.create", count=2, connection=1)
                handle = session.generate_reply()
                again = await rec.expect("conversation_item_added", item__role="assistant")
            replayed = [e.item for e in server.connections[1].events_of("conversation.item.create")]
    server.assert_no_problems()
    assert error.payload.recoverable and "reconnecting" in str(error.payload.error)
    assert cut.payload.item.text_content == "Sure! It's"  # the audio that came, played out
    assert again.payload.item.speech_id == handle.speech_id == "speech_R009"
    assert again.payload.item.text_content == "Sure! It's sunny in Paris today."
    # the new connection got the conversation: the user's turn, then the words heard
    assert [item.role for item in replayed] == ["user", "assistant"]
    assert replayed[1].text == "Sure! It's"
    assert [e.payload.reason for e in rec.find("close")] == ["user_initiated"]  # by us, at the end
    assert [e.payload.recoverable for e in rec.find("error")] == [True]


async def test_a_model_that_cannot_reconnect_closes_the_session_with_an_error() -> None:
    events = fixture("full_voice_turn")
    with trio.fail_after(LIMIT):
        async with open_realtime_server([*handshake(events), Drop()]) as server:
            session = realtime_session(
                server, model_options={"conn_options": APIConnectOptions(max_retry=0)}
            )
            rec = EventRecorder(session)
            async with session.start(audio_in=mic(0.1), audio_out=MemorySink(24_000)):
                error = await rec.expect("error", source="realtime")
                close = await rec.expect("close")
    assert not error.payload.recoverable
    assert close.payload.reason == "error"


async def test_a_refused_connection_closes_the_session_with_an_error() -> None:
    with trio.fail_after(LIMIT):
        async with open_realtime_server() as server:  # no scripts: HTTP 503
            session = realtime_session(server)
            rec = EventRecorder(session)
            async with session.start(audio_in=mic(0.1), audio_out=MemorySink(24_000)):
                close = await rec.expect("close")
    (error,) = rec.find("error")
    assert not error.payload.recoverable and "refused" in str(error.payload.error)
    assert close.payload.reason == "error"


async def test_say_is_refused_and_a_session_needs_engines_or_a_model() -> None:
    with pytest.raises(ValueError, match="model=RealtimeModel"):
        AgentSession()
    with trio.fail_after(LIMIT):
        async with open_realtime_server([*handshake(fixture("full_voice_turn"))]) as server:
            session = realtime_session(server)
            async with session.start(audio_in=mic(0.1), audio_out=MemorySink(24_000)):
                with pytest.raises(RealtimeSayUnsupported, match="generate_reply"):
                    session.say("hello")


def test_the_example_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setattr(sys, "argv", ["openai_realtime.py"])
    example = Path(__file__).parents[2] / "examples" / "openai_realtime.py"
    with pytest.raises(SystemExit) as info:
        runpy.run_path(str(example), run_name="__main__")
    assert info.value.code == 2
    assert "OPENAI_API_KEY" in capsys.readouterr().err


async def test_the_user_goes_away_and_comes_back_in_realtime_mode() -> None:
    # user_away_timeout works as in the cascade: nobody speaks for 0.6 s -> "away";
    # the server's VAD hearing speech brings the user back.
    events = fixture("full_voice_turn")
    script = [*handshake(events), ExpectClient("input_audio_buffer.append"), Delay(1.2), Send(events[2])]
    with trio.fail_after(LIMIT):
        async with open_realtime_server(script) as server:
            model = RealtimeModel(api_key="test-key", base_url=f"ws://127.0.0.1:{server.port}/v1")
            session = AgentSession(model=model, user_away_timeout=0.6)
            rec = EventRecorder(session)
            async with session.start(audio_in=mic(3.0), audio_out=MemorySink(24_000), agent=Agent()):
                listening = await rec.expect("agent_state_changed", new_state="listening")
                away = await rec.expect("user_state_changed", new_state="away", within=3)
                back = await rec.expect("user_state_changed", new_state="speaking", within=3)
    assert away.at - listening.at == pytest.approx(0.6, abs=0.15)
    assert back.payload.old_state == "away"
