"""RealtimeModel/RealtimeSession against the scripted realtime server.

Test rules: localhost only, port 0, real sockets (real time): every wait is bounded by
trio.fail_after. Scripts are the canonical fixtures with `ExpectClient` steps where the
real server would wait for the client; every client message is schema-checked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest
import trio

import voxtrio.protocols.openai_realtime as rt
from voxtrio.audio.frame import AudioFrame
from voxtrio.engines.errors import APIConnectionError, APIConnectOptions, APIStatusError
from voxtrio.engines.openai.realtime import (
    FunctionCallReceived,
    InputTranscriptionCompleted,
    OutputAudio,
    RealtimeErrorEvent,
    RealtimeModel,
    RealtimeSession,
    ResponseFinished,
    replay_items,
)
from voxtrio.testing.realtime_server import (
    Close,
    Drop,
    ExpectClient,
    ScriptStep,
    Send,
    open_realtime_server,
    response_created,
    session_handshake,
)

FIXTURES = Path(__file__).parent / "fixtures"
LIMIT = 15


def fixture(name: str) -> list[dict[str, Any]]:
    lines = (FIXTURES / f"realtime_{name}.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def handshake(events: list[dict[str, Any]]) -> list[ScriptStep]:
    """session.created, wait for the client's session.update, session.updated."""
    created = events[0]
    updated = (
        next(e for e in events if e["type"] == "session.updated")
        if any(e["type"] == "session.updated" for e in events)
        else {"type": "session.updated", "event_id": "event_upd", "session": created["session"]}
    )
    return [Send(created), ExpectClient("session.update"), Send(updated)]


def model_for(server: Any, **options: Any) -> RealtimeModel:
    return RealtimeModel(api_key="test-key", base_url=f"ws://127.0.0.1:{server.port}/v1", **options)


def speech(ms: int, rate: int = 16_000) -> list[AudioFrame]:
    t = np.arange(rate * ms // 1000) / rate
    samples = (6000 * np.sin(2 * np.pi * 200 * t)).astype(np.int16)
    step = rate // 50
    return [
        AudioFrame.from_array(samples[i : i + step], rate, pts=i / rate)
        for i in range(0, len(samples), step)
    ]


async def collect_until(session: RealtimeSession, stream: Any, name: str) -> list[Any]:
    out: list[Any] = []
    async for event in stream:
        out.append(event.args[0] if event.args else None)
        if event.name == name:
            return out
    raise AssertionError(f"stream ended before {name}")


async def test_full_audio_turn() -> None:
    events = fixture("full_voice_turn")
    script = [
        *handshake(events),
        ExpectClient("input_audio_buffer.append"),
        *[Send(e) for e in events[2:]],
    ]
    with trio.fail_after(LIMIT):
        async with open_realtime_server(script) as server:
            async with model_for(server).connect() as session:
                assert session.session_config is not None
                async with session.events.events(capacity=4096) as stream:
                    for frame in speech(300):  # 16 kHz in, resampled to 24 kHz
                        session.push_audio(frame)
                    seen = await collect_until(session, stream, "response_done")
            connection = server.connections[0]
    server.assert_no_problems()
    assert connection.path == "/v1/realtime?model=gpt-realtime"
    assert connection.headers["authorization"] == "Bearer test-key"
    update = connection.client_events[0]
    assert isinstance(update, rt.SessionUpdate)
    assert isinstance(update.session, rt.SessionConfig)
    assert update.session.audio is not None and update.session.audio.input is not None
    assert update.session.audio.input.turn_detection == rt.ServerVad()
    appends = connection.events_of("input_audio_buffer.append")
    assert appends and all(rt.frame_from_base64(a.audio).sample_rate == 24_000 for a in appends)
    sent_ms = sum(rt.frame_from_base64(a.audio).duration for a in appends) * 1000
    assert 100 <= sent_ms <= 300  # batches of >= 100 ms; the rest waits for more audio

    transcripts = [e for e in seen if isinstance(e, InputTranscriptionCompleted)]
    assert [t.transcript for t in transcripts] == ["What's the weather in Paris?"]
    audio = [e for e in seen if isinstance(e, OutputAudio)]
    assert sum(a.frame.samples_per_channel for a in audio) == 6 * 1200
    assert {a.speech_id for a in audio} == {"speech_R001"}
    assert [a.frame.pts for a in audio] == pytest.approx([i * 0.05 for i in range(6)])
    done = seen[-1]
    assert isinstance(done, ResponseFinished)
    assert done.status == "completed" and done.transcript == "Sure! It's sunny in Paris today."
    m = done.metrics
    assert (m.input_tokens, m.output_tokens, m.total_tokens) == (170, 94, 264)
    assert m.input_token_details.cached_tokens == 64
    assert m.input_token_details.audio_tokens == 58
    assert (m.output_token_details.text_tokens, m.output_token_details.audio_tokens) == (19, 75)
    assert m.ttft >= 0 and m.duration >= m.ttft and not m.cancelled
    assert m.speech_id == "speech_R001" and m.request_id == "resp_R001"


async def test_tool_call_round_trip() -> None:
    events = fixture("tool_call_turn")
    first_done = next(i for i, e in enumerate(events) if e["type"] == "response.done")
    second_created = next(
        i for i, e in enumerate(events) if e["type"] == "response.created" and i > first_done
    )
    script: list[ScriptStep] = [
        *handshake(events),
        ExpectClient("conversation.item.create"),
        *[Send(e) for e in events[2:4]],
        ExpectClient("response.create"),
        response_created("resp_R101"),
        *[Send(e) for e in events[5 : first_done + 1]],
        ExpectClient("conversation.item.create"),
        *[Send(e) for e in events[first_done + 1 : second_created]],
        ExpectClient("response.create"),
        response_created("resp_R102"),
        *[Send(e) for e in events[second_created + 1 :]],
    ]
    with trio.fail_after(LIMIT):
        async with open_realtime_server(script) as server:
            async with model_for(server).connect() as session:
                async with session.events.events(capacity=4096) as stream:
                    await session.add_item(rt.MessageItem.user_text("Weather in Paris?"))
                    started = await session.create_response()
                    assert started is not None and started.user_initiated
                    seen = await collect_until(session, stream, "response_done")
                    call = next(e for e in seen if isinstance(e, FunctionCallReceived))
                    assert json.loads(call.arguments) == {"city": "Paris", "unit": "celsius"}
                    await session.send_function_output(
                        call.call_id, '{"temp_c": 21, "sky": "sunny"}'
                    )
                    await session.create_response()
                    seen = await collect_until(session, stream, "response_done")
    server.assert_no_problems()
    assert seen[-1].transcript == "It's 21 degrees and sunny."
    outputs = [
        e.item
        for e in server.connections[0].events_of("conversation.item.create")
        if isinstance(e.item, rt.FunctionCallOutputItem)
    ]
    assert [o.call_id for o in outputs] == ["call_W3a9"]


async def test_interruption_truncates_at_the_played_position_and_clamps() -> None:
    events = fixture("interrupted_turn")
    done = next(i for i, e in enumerate(events) if e["type"] == "response.done")
    script: list[ScriptStep] = [
        *handshake(events),
        *[Send(e) for e in events[1 : done + 1]],
        ExpectClient("conversation.item.truncate"),
        *[Send(e) for e in events[done + 1 :]],
    ]
    with trio.fail_after(LIMIT):
        async with open_realtime_server(script) as server:
            async with model_for(server).connect() as session:
                async with session.events.events(capacity=4096) as stream:
                    seen = await collect_until(session, stream, "response_done")
                    assert seen[-1].status == "cancelled" and seen[-1].reason == "turn_detected"
                    assert seen[-1].metrics.cancelled
                    assert session.received_audio_ms("item_A201") == 300
                    assert await session.truncate("item_A201", 0, 220) == 220
                    assert await session.truncate("item_A201", 0, 5000) == 300  # clamped
                    await server.wait_client_event("conversation.item.truncate", count=2)
    server.assert_no_problems()
    truncates = server.connections[0].events_of("conversation.item.truncate")
    assert [(t.item_id, t.content_index, t.audio_end_ms) for t in truncates] == [
        ("item_A201", 0, 220),
        ("item_A201", 0, 300),
    ]


async def test_server_errors_are_recoverable_events() -> None:
    events = fixture("error_events")
    script = [*handshake(events), *[Send(e) for e in events[1:3]]]
    with trio.fail_after(LIMIT):
        async with open_realtime_server(script) as server:
            async with model_for(server).connect() as session:
                async with session.events.events("error", capacity=64) as stream:
                    first = (await stream.__anext__()).args[0]
    assert isinstance(first, RealtimeErrorEvent) and first.recoverable
    assert first.code == "input_audio_buffer_commit_empty"
    assert first.client_event_id == "evt_client_commit_1"


async def test_dropped_socket_is_an_unrecoverable_error_then_closed() -> None:
    events = fixture("full_voice_turn")
    script = [*handshake(events), *[Send(e) for e in events[2:14]], Drop()]
    with trio.fail_after(LIMIT):
        async with open_realtime_server(script) as server:
            async with model_for(server, reconnect=False).connect() as session:
                async with session.events.events("error", "closed", capacity=64) as stream:
                    names = []
                    async for event in stream:
                        names.append((event.name, event.args[0]))
                        if event.name == "closed":
                            break
                with pytest.raises(APIConnectionError, match="closed"):
                    await session.send(rt.ResponseCreate())
    error = names[0][1]
    assert names[0][0] == "error" and isinstance(error, RealtimeErrorEvent)
    assert not error.recoverable and error.code == "connection_lost"


async def test_refused_connection_and_missing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    with trio.fail_after(LIMIT):
        async with open_realtime_server() as server:  # no scripts: every connection -> 503
            with pytest.raises(APIStatusError) as info:
                async with model_for(server).connect():
                    pass
    assert info.value.status_code == 503
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(APIConnectionError, match="OPENAI_API_KEY"):
        async with RealtimeModel().connect():
            pass


def _added(item: dict[str, Any], previous: str | None, n: int) -> dict[str, Any]:
    return {
        "type": "conversation.item.added",
        "event_id": f"event_r{n}",
        "previous_item_id": previous,
        "item": {**item, "object": "realtime.item", "status": "completed"},
    }


async def test_history_replays_on_a_new_connection_with_update_chat_ctx() -> None:
    events = fixture("full_voice_turn")
    first = [
        *handshake(events),
        ExpectClient("input_audio_buffer.append"),
        *[Send(e) for e in events[2:]],
        Drop(),
    ]
    user = {
        "id": "item_U001",
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "What's the weather in Paris?"}],
    }
    reply = {
        "id": "item_A001",
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "Sure! It's sunny in Paris today."}],
    }
    second = [
        *handshake(events),
        ExpectClient("conversation.item.create"),
        Send(_added(user, None, 1)),
        ExpectClient("conversation.item.create"),
        Send(_added(reply, "item_U001", 2)),
    ]
    with trio.fail_after(LIMIT):
        async with open_realtime_server(first, second) as server:
            async with model_for(server, reconnect=False).connect() as session:
                async with session.events.events(capacity=4096) as stream:
                    for frame in speech(200, rate=24_000):
                        session.push_audio(frame)
                    seen = await collect_until(session, stream, "closed")
                before = session.history
            assert any(isinstance(e, ResponseFinished) for e in seen)
            assert [(i.role, i.text) for i in before] == [  # type: ignore[union-attr]
                ("user", "What's the weather in Paris?"),
                ("assistant", "Sure! It's sunny in Paris today."),
            ]
            replay = replay_items(before)
            async with model_for(server).connect() as session:
                await session.update_chat_ctx(replay, wait=5)
                after = session.history
    server.assert_no_problems()
    creates = server.connections[1].events_of("conversation.item.create")
    assert [c.item for c in creates] == replay
    assert [c.previous_item_id for c in creates] == ["root", "item_U001"]
    assert [(i.role, i.text) for i in after] == [(i.role, i.text) for i in before]  # type: ignore[union-attr]


async def test_truncate_keeps_the_heard_transcript_in_history() -> None:
    events = fixture("interrupted_turn")
    done = next(i for i, e in enumerate(events) if e["type"] == "response.done")
    script = [
        *handshake(events),
        *[Send(e) for e in events[1 : done + 1]],
        ExpectClient("conversation.item.truncate"),
        *[Send(e) for e in events[done + 1 :]],
    ]
    with trio.fail_after(LIMIT):
        async with open_realtime_server(script) as server:
            async with model_for(server).connect() as session:
                async with session.events.events(capacity=4096) as stream:
                    await collect_until(session, stream, "response_done")
                await session.truncate("item_A201", 0, 120, heard_transcript="Let me")
                await server.wait_client_event("conversation.item.truncate")
                texts = [(i.role, i.text) for i in session.history]  # type: ignore[union-attr]
    assert ("assistant", "Let me") in texts
    # User audio items without a transcript cannot be replayed; the cut reply can.
    assert replay_items(session.history) == [
        rt.MessageItem(role="assistant", content=(rt.OutputText("Let me"),), id="item_A201")
    ]


@pytest.mark.parametrize(
    "script",
    [
        [Close()],
        [
            Send({"type": "session.created", "event_id": "e", "session": {"type": "realtime"}}),
            ExpectClient("session.update"),
            Drop(),
        ],
    ],
    ids=["before-created", "before-updated"],
)
async def test_server_hanging_up_during_the_handshake(script: list[ScriptStep]) -> None:
    with trio.fail_after(LIMIT):
        async with open_realtime_server(script) as server:
            with pytest.raises(APIConnectionError, match="during the session handshake"):
                async with model_for(server, connect_timeout=5).connect():
                    pass


async def test_push_to_talk_commit_sends_all_audio() -> None:
    events = fixture("full_voice_turn")
    script = [
        *handshake(events),
        ExpectClient("input_audio_buffer.commit"),
        ExpectClient("response.create"),
        Drop(),
    ]
    with trio.fail_after(LIMIT):
        async with open_realtime_server(script) as server:
            model = model_for(server, turn_detection=rt.NULL, reconnect=False)
            async with model.connect() as session:
                for frame in speech(250, rate=16_000):
                    session.push_audio(frame)
                await session.commit_audio()
                with pytest.raises(APIConnectionError, match="lost"):
                    await session.create_response(wait_created=5)
    server.assert_no_problems()
    connection = server.connections[0]
    update = connection.client_events[0]
    assert update.session.audio.input.turn_detection is rt.NULL
    appends = connection.events_of("input_audio_buffer.append")
    sent = sum(rt.frame_from_base64(a.audio).samples_per_channel for a in appends)
    assert abs(sent - 6000) <= 24  # 250 ms at 24 kHz, resampler tail included
    kinds = [e.type for e in connection.client_events]
    assert kinds.index("input_audio_buffer.commit") > max(
        i for i, k in enumerate(kinds) if k == "input_audio_buffer.append"
    )


async def test_errors_in_the_callers_block_come_out_unwrapped() -> None:
    events = fixture("full_voice_turn")
    with trio.fail_after(LIMIT):
        async with open_realtime_server(handshake(events)) as server:
            with pytest.raises(KeyError, match="mine"):
                async with model_for(server).connect():
                    raise KeyError("mine")


async def test_session_handshake_helper_echoes_the_clients_config() -> None:
    script = [*session_handshake(), ExpectClient("response.create"), response_created("resp_9")]
    model = RealtimeModel(
        api_key="k",
        instructions="Speak like a pirate.",
        voice="cedar",
        turn_detection=rt.SemanticVad(eagerness="low"),
    )
    with trio.fail_after(LIMIT):
        async with open_realtime_server(script) as server:
            model = attrs.evolve(model, base_url=f"ws://127.0.0.1:{server.port}/v1")
            async with model.connect() as session:
                config = session.session_config
                started = await session.create_response(instructions="Say hi.")
    server.assert_no_problems()
    assert config is not None and config.instructions == "Speak like a pirate."
    assert config.audio is not None and config.audio.input is not None
    assert config.audio.input.turn_detection == rt.SemanticVad(eagerness="low")
    assert config.audio.output is not None and config.audio.output.voice == "cedar"
    assert started is not None and started.user_initiated and started.response_id == "resp_9"


FAST_RETRY = APIConnectOptions(max_retry=2, retry_interval=0.05)


async def test_drop_mid_response_reconnects_and_replays_the_conversation() -> None:
    events = fixture("full_voice_turn")
    first_delta = next(
        i for i, e in enumerate(events) if e["type"] == "response.output_audio.delta"
    )
    first = [*handshake(events), *[Send(e) for e in events[2 : first_delta + 2]], Drop()]
    user = {
        "id": "item_U001",
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "What's the weather in Paris?"}],
    }
    second = [
        *session_handshake(),
        ExpectClient("conversation.item.create"),
        Send(_added(user, None, 1)),
    ]
    with trio.fail_after(LIMIT):
        async with open_realtime_server(first, second) as server:
            model = model_for(server, conn_options=FAST_RETRY)
            async with model.connect() as session:
                async with session.events.events(capacity=4096) as stream:
                    seen = await collect_until(session, stream, "session_reconnected")
                    async for event in stream:  # until the replayed item is confirmed
                        if isinstance(event.args[0], rt.ConversationItemAdded):
                            break
                after = session.history
                await session.send(rt.InputAudioBufferClear())  # the new socket carries on
                await server.wait_client_event("input_audio_buffer.clear", connection=1)
    server.assert_no_problems()
    errors = [e for e in seen if isinstance(e, RealtimeErrorEvent)]
    assert [(e.code, e.recoverable) for e in errors] == [("connection_lost", True)]
    done = [e for e in seen if isinstance(e, ResponseFinished)]
    assert [(d.response_id, d.status, d.reason) for d in done] == [
        ("resp_R001", "failed", "connection_lost")
    ]
    assert done[0].metrics.cancelled and done[0].metrics.ttft >= 0
    assert seen[-1] == 1 and session.reconnects == 1
    # The session config the first server confirmed is what the second one gets.
    update = server.connections[1].client_events[0]
    assert isinstance(update, rt.SessionUpdate) and isinstance(update.session, rt.SessionConfig)
    assert update.session.instructions == "Answer in one sentence."
    assert update.session.audio.input.transcription == rt.InputTranscription(  # type: ignore[union-attr]
        model="gpt-4o-mini-transcribe", language="en"
    )
    creates = server.connections[1].events_of("conversation.item.create")
    assert [(c.item, c.previous_item_id) for c in creates] == [
        (rt.MessageItem.user_text("What's the weather in Paris?", id="item_U001"), "root")
    ]
    assert [(i.role, i.text) for i in after] == [("user", "What's the weather in Paris?")]  # type: ignore[union-attr]


async def test_reconnect_gives_up_after_max_retry() -> None:
    events = fixture("full_voice_turn")
    script = [*handshake(events), Drop()]
    with trio.fail_after(LIMIT):
        async with open_realtime_server(script) as server:  # reconnects get HTTP 503
            model = model_for(
                server, conn_options=APIConnectOptions(max_retry=1, retry_interval=0.05)
            )
            async with model.connect() as session:
                async with session.events.events("error", "closed", capacity=64) as stream:
                    seen = await collect_until(session, stream, "closed")
    errors = [e for e in seen if isinstance(e, RealtimeErrorEvent)]
    assert [e.recoverable for e in errors] == [True, False]
    assert "503" in errors[1].message and "gave up after 1 reconnect" in errors[1].message
    assert server.rejected == 1


async def test_a_server_that_hangs_up_at_once_uses_up_the_retry_budget() -> None:
    flapping = [*session_handshake(), Drop()]
    with trio.fail_after(LIMIT):
        async with open_realtime_server(flapping, flapping, flapping) as server:
            model = model_for(
                server, conn_options=APIConnectOptions(max_retry=1, retry_interval=0.05)
            )
            async with model.connect() as session:
                async with session.events.events("closed", "session_reconnected") as stream:
                    seen = await collect_until(session, stream, "closed")
    assert len(server.connections) == 2  # the first, one reconnect, then it gave up
    assert seen[0] == 1 and "gave up after 1 reconnect" in seen[-1]


async def test_create_response_while_one_is_in_flight() -> None:
    server_reply = {
        "type": "response.created",
        "event_id": "e_srv",
        "response": {"id": "resp_srv", "status": "in_progress", "output": []},
    }
    script = [
        *session_handshake(),
        Send(server_reply),
        ExpectClient("response.cancel"),
        ExpectClient("response.create"),
        response_created("resp_mine"),
    ]
    with trio.fail_after(LIMIT):
        async with open_realtime_server(script) as server:
            async with model_for(server).connect() as session:
                async with session.events.events("response_created") as stream:
                    started = (await stream.__anext__()).args[0]
                    assert (started.response_id, started.user_initiated) == ("resp_srv", False)
                    assert await session.create_response(on_duplicate="cancel_new") is None
                    mine = await session.create_response(on_duplicate="cancel_existing")
    server.assert_no_problems()
    assert mine is not None and (mine.response_id, mine.user_initiated) == ("resp_mine", True)
    kinds = [e.type for e in server.connections[0].client_events]
    assert kinds == ["session.update", "response.cancel", "response.create"]


async def test_text_response_arrives_as_transcript_without_audio() -> None:
    events = fixture("text_response_turn")
    script = [*handshake(events), *[Send(e) for e in events[1:]]]
    with trio.fail_after(LIMIT):
        async with open_realtime_server(script) as server:
            async with model_for(server).connect() as session:
                async with session.events.events(capacity=1024) as stream:
                    seen = await collect_until(session, stream, "response_done")
    server.assert_no_problems()
    assert not any(isinstance(e, OutputAudio) for e in seen)
    done = seen[-1]
    assert done.transcript == "I can only write this."
    assert done.metrics.ttft == -1.0  # no audio at all: what text-response recovery looks for
    assert session.history[-1] == rt.MessageItem(
        role="assistant",
        content=(rt.OutputText("I can only write this."),),
        id="item_A401",
        object="realtime.item",
        status="completed",
    )
