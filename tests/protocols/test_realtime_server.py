"""The scripted realtime server: plays scripts, validates client events, drops on cue.

Test rules: localhost only, port 0, real sockets (so real time): every wait is bounded
with trio.fail_after, and scripts use short delays.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trio
import trio_websocket

import voxtrio.protocols.openai_realtime as rt
from voxtrio.testing.realtime_server import (
    Close,
    Delay,
    Drop,
    ExpectClient,
    Send,
    SendError,
    open_realtime_server,
    script_from_jsonl,
)

FIXTURES = Path(__file__).parent / "fixtures"
LIMIT = 10  # seconds; generous, only hit when something hangs
BIG = 16 * 1024 * 1024


def created(event_id: str = "e0") -> rt.SessionCreated:
    return rt.SessionCreated(event_id=event_id, session=rt.SessionConfig(model="gpt-realtime"))


async def receive(ws: trio_websocket.WebSocketConnection) -> rt.ServerEvent:
    message = await ws.get_message()
    assert isinstance(message, str)
    return rt.decode(message)


async def test_plays_a_fixture_script_and_records_the_request() -> None:
    script = script_from_jsonl(FIXTURES / "realtime_full_voice_turn.jsonl")
    with trio.fail_after(LIMIT):
        async with open_realtime_server(script) as server:
            async with trio_websocket.open_websocket_url(
                server.url + "?model=gpt-realtime",
                subprotocols=["realtime"],
                extra_headers=[(b"Authorization", b"Bearer test-key")],
                max_message_size=BIG,
            ) as ws:
                events = [await receive(ws) for _ in script]
            connection = await server.wait_closed(0)
    assert [e.type for e in events] == [step.event["type"] for step in script]  # type: ignore[union-attr]
    assert isinstance(events[-1], rt.ResponseDone)
    assert connection.path == "/v1/realtime?model=gpt-realtime"
    assert connection.headers["authorization"] == "Bearer test-key"
    assert connection.subprotocol == "realtime"
    server.assert_no_problems()


async def test_expect_client_waits_for_the_clients_event() -> None:
    script = [
        Send(created()),
        ExpectClient("session.update"),
        Send(rt.SessionUpdated(event_id="e1", session=rt.SessionConfig(instructions="Be brief."))),
    ]
    with trio.fail_after(LIMIT):
        async with open_realtime_server(script) as server:
            async with trio_websocket.open_websocket_url(server.url) as ws:
                assert isinstance(await receive(ws), rt.SessionCreated)
                with trio.move_on_after(0.2):
                    await ws.get_message()
                    pytest.fail("server answered before the client asked")
                update = rt.SessionUpdate(session=rt.SessionConfig(instructions="Be brief."))
                await ws.send_message(rt.encode(update))
                updated = await receive(ws)
            assert isinstance(updated, rt.SessionUpdated)
            assert server.connections[0].client_events == [update]
    server.assert_no_problems()


async def test_non_conforming_client_event_is_recorded_and_answered_with_an_error() -> None:
    with trio.fail_after(LIMIT):
        async with open_realtime_server([Send(created())]) as server:
            async with trio_websocket.open_websocket_url(server.url) as ws:
                await receive(ws)
                bad = {
                    "type": "session.update",
                    "event_id": "evt_7",
                    "session": {"type": "realtime", "audio": {"input": {"turn_detecton": None}}},
                }
                await ws.send_message(json.dumps(bad))
                error = await receive(ws)
    assert isinstance(error, rt.ErrorEvent)
    assert error.error.type == "invalid_request_error" and error.error.event_id == "evt_7"
    assert "turn_detecton" in error.error.message
    assert any("turn_detecton" in p for p in server.problems)
    with pytest.raises(AssertionError, match="turn_detecton"):
        server.assert_no_problems()


async def test_invalid_json_and_unknown_client_types_are_problems() -> None:
    with trio.fail_after(LIMIT):
        async with open_realtime_server([Send(created())]) as server:
            async with trio_websocket.open_websocket_url(server.url) as ws:
                await receive(ws)
                await ws.send_message("{not json")
                await receive(ws)
                await ws.send_message('{"type":"transcription_session.update","session":{}}')
                await receive(ws)
                await ws.send_message(b"\x00\x01")
                await server._wait_for(lambda: len(server.problems) >= 3)
    assert len(server.connections[0].client_events) == 0
    text = "\n".join(server.problems)
    assert "invalid JSON" in text and "transcription_session.update" in text and "binary" in text


async def test_drop_ends_the_connection_without_a_close_frame() -> None:
    script = [Send(created()), Delay(0.05), Drop()]
    with trio.fail_after(LIMIT):
        async with open_realtime_server(script) as server:
            async with trio_websocket.open_websocket_url(server.url) as ws:
                await receive(ws)
                with pytest.raises(trio_websocket.ConnectionClosed) as info:
                    await ws.get_message()
            await server.wait_closed(0)
    assert info.value.reason.code == 1006  # abnormal closure: no close frame


async def test_close_step_closes_with_its_code() -> None:
    with trio.fail_after(LIMIT):
        async with open_realtime_server([Send(created()), Close(4000, "bye")]) as server:
            async with trio_websocket.open_websocket_url(server.url) as ws:
                await receive(ws)
                with pytest.raises(trio_websocket.ConnectionClosed) as info:
                    await ws.get_message()
    assert (info.value.reason.code, info.value.reason.reason) == (4000, "bye")


async def test_each_connection_runs_the_next_script_then_503() -> None:
    first = [Send(created("first")), Drop()]
    second = [Send(created("second"))]
    with trio.fail_after(LIMIT):
        async with open_realtime_server(first, second) as server:
            async with trio_websocket.open_websocket_url(server.url) as ws:
                assert (await receive(ws)).event_id == "first"
            async with trio_websocket.open_websocket_url(server.url) as ws:
                assert (await receive(ws)).event_id == "second"
            with pytest.raises(trio_websocket.ConnectionRejected) as info:
                async with trio_websocket.open_websocket_url(server.url):
                    pass
    assert info.value.status_code == 503
    assert server.rejected == 1


async def test_unmet_expectation_closes_with_1011_and_is_a_problem() -> None:
    script = [Send(created()), ExpectClient("response.create", timeout=0.1)]
    with trio.fail_after(LIMIT):
        async with open_realtime_server(script) as server:
            async with trio_websocket.open_websocket_url(server.url) as ws:
                await receive(ws)
                with pytest.raises(trio_websocket.ConnectionClosed) as info:
                    await ws.get_message()
    assert info.value.reason.code == 1011
    assert server.problems == [
        "connection 0: script expected a 'response.create' client event within 0.1 s"
    ]


async def test_send_error_and_raw_text() -> None:
    script = [
        SendError("buffer too small", code="input_audio_buffer_commit_empty", client_event_id="c1"),
        Send("{this is not json"),
    ]
    with trio.fail_after(LIMIT):
        async with open_realtime_server(script) as server:
            async with trio_websocket.open_websocket_url(server.url) as ws:
                error = await receive(ws)
                raw = await ws.get_message()
    assert isinstance(error, rt.ErrorEvent)
    assert (error.error.code, error.error.event_id) == ("input_audio_buffer_commit_empty", "c1")
    assert raw == "{this is not json"
    with pytest.raises(rt.ProtocolError):
        rt.decode(raw)
    server.assert_no_problems()


async def test_script_events_are_checked_too() -> None:
    bad = {"type": "input_audio_buffer.speech_started", "event_id": "e", "item_id": "i"}
    with trio.fail_after(LIMIT):
        async with open_realtime_server([Send(bad)]) as server:
            async with trio_websocket.open_websocket_url(server.url) as ws:
                await ws.get_message()
    assert any("audio_start_ms" in p for p in server.problems)


async def test_large_audio_appends_are_accepted() -> None:
    audio = rt.frame_to_base64(
        rt.frame_from_base64("AAAA" * (2 * 1024 * 1024 // 3))  # ~2 MiB of silence
    )
    append = rt.InputAudioBufferAppend(audio=audio)
    assert len(rt.encode(append)) > 2 * 1024 * 1024
    with trio.fail_after(LIMIT):
        async with open_realtime_server(
            [Send(created()), ExpectClient("input_audio_buffer.append")]
        ) as server:
            async with trio_websocket.open_websocket_url(server.url, max_message_size=BIG) as ws:
                await receive(ws)
                await ws.send_message(rt.encode(append))
                await server.wait_client_event("input_audio_buffer.append")
    assert server.connections[0].client_events == [append]
    server.assert_no_problems()


async def test_client_leaving_early_is_reported_at_once() -> None:
    script = [Send(created()), ExpectClient("response.create", timeout=30)]
    with trio.fail_after(LIMIT):  # far below the expectation's 30 s
        async with open_realtime_server(script) as server:
            async with trio_websocket.open_websocket_url(server.url) as ws:
                await receive(ws)
            await server.wait_closed(0)
    assert server.problems == [
        "connection 0: script expected a 'response.create' client event; the connection "
        "closed first"
    ]
