"""Server limits with real clients on localhost: each refusal has its documented close code,
and the other sessions keep running (voxtrio.serve.limits lists the codes)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import pytest
import trio
from trio_websocket import ConnectionClosed, ConnectionRejected, open_websocket_url

from voxtrio.serve.limits import ServerLimits
from voxtrio.serve.server import RunningServer, ServeOptions, serve

TOKEN = "s3cret-Token-42"


class FakeSession:
    """What the test factory returns: the echo handler only needs the object."""

    def on(self, event: str, callback: Any) -> None:
        pass


def factory(info: Any) -> FakeSession:
    if info.query.get("crash") == "factory":
        raise RuntimeError("the factory failed")
    return FakeSession()


async def echo(ws: Any, make_session: Any, info: Any, **_limits: Any) -> None:
    """A trivial transport: builds the session, echoes, 1007 on bad JSON, crashes on cue."""
    await make_session(info)
    while True:
        message = await ws.receive()
        if message == "crash":
            raise RuntimeError("the session crashed")
        if isinstance(message, str) and message.startswith("{"):
            try:
                json.loads(message)
            except ValueError:
                await ws.close(1007, "malformed JSON")
                return
        await ws.send(message)


@asynccontextmanager
async def running(**limits: Any) -> AsyncIterator[RunningServer]:
    options = ServeOptions(host="127.0.0.1", port=0, limits=ServerLimits(**limits))
    handlers = {"browser": echo, "twilio": echo}
    with trio.fail_after(15):
        async with trio.open_nursery() as nursery:
            server: RunningServer = await nursery.start(
                partial(serve, factory, options, handlers=handlers, handle_signals=False)
            )
            try:
                yield server
            finally:
                server.request_shutdown(immediately=True)


def ws_url(server: RunningServer, path: str = "/ws/browser") -> str:
    return server.url.replace("http://", "ws://") + path


async def close_code(
    url: str, *, send: str | bytes | None = None, **kwargs: Any
) -> tuple[int, str]:
    """Connect, optionally send, and return the server's (close code, reason)."""
    with trio.fail_after(5):
        async with open_websocket_url(url, **kwargs) as ws:
            try:
                if send is not None:
                    await ws.send_message(send)
                while True:
                    await ws.get_message()
            except ConnectionClosed as exc:
                assert exc.reason is not None
                return exc.reason.code, exc.reason.reason or ""
    raise AssertionError("unreachable")


async def assert_echoes(ws: Any, message: str | bytes = "ping") -> None:
    with trio.fail_after(5):
        await ws.send_message(message)
        assert await ws.get_message() == message


async def test_token_missing_or_wrong_is_4401_and_never_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running(token=TOKEN) as server:
        url = ws_url(server)
        assert (await close_code(url))[0] == 4401
        assert (await close_code(url + "?token=wrong"))[0] == 4401
        wrong_header = [(b"authorization", b"Bearer nope")]
        assert (await close_code(url, extra_headers=wrong_header))[0] == 4401
        # the right token, in either place, gets a working session
        header = [(b"authorization", f"Bearer {TOKEN}".encode())]
        async with open_websocket_url(url, extra_headers=header) as ws:
            await assert_echoes(ws)
        async with open_websocket_url(url + f"?token={TOKEN}") as ws:
            await assert_echoes(ws)
    # the server's logs (not the test client's) report refusals without the secrets
    server_log = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith(("voxtrio", "hypercorn"))
    )
    assert "(4401)" in server_log
    assert TOKEN not in server_log and "nope" not in server_log


async def test_origin_allow_list_guards_the_browser_route_only() -> None:
    async with running(allowed_origins=["https://app.example"]) as server:
        evil = [(b"origin", b"https://evil.example")]
        code, reason = await close_code(ws_url(server), extra_headers=evil)
        assert code == 4403 and "origin" in reason
        good = [(b"origin", b"https://app.example")]
        async with open_websocket_url(ws_url(server), extra_headers=good) as ws:
            await assert_echoes(ws)
        # Twilio connects server-to-server: no Origin policy there
        async with open_websocket_url(ws_url(server, "/ws/twilio"), extra_headers=evil) as ws:
            await assert_echoes(ws)


async def test_oversize_message_is_1009_and_other_sessions_go_on() -> None:
    async with running(max_message_size=1024) as server:
        async with open_websocket_url(ws_url(server)) as bystander:
            await assert_echoes(bystander, b"\x00" * 1024)  # at the limit: fine
            code, _ = await close_code(ws_url(server), send=b"\x00" * 1025)
            assert code == 1009
            await assert_echoes(bystander, b"\x01" * 640)


async def test_over_capacity_is_1013_try_again_later() -> None:
    async with running(max_sessions=2) as server:
        async with open_websocket_url(ws_url(server)) as first:
            await assert_echoes(first)
            async with open_websocket_url(ws_url(server, "/ws/twilio")) as second:
                await assert_echoes(second)
                code, reason = await close_code(ws_url(server))
                assert code == 1013 and "try again later" in reason
                await assert_echoes(first)
            # a place is free again
            with trio.fail_after(5):
                while server.app.live_sessions > 1:  # noqa: ASYNC110 - a bounded poll of a counter
                    await trio.sleep(0.01)
            async with open_websocket_url(ws_url(server)) as third:
                await assert_echoes(third)


async def test_idle_socket_is_closed_with_4408() -> None:
    async with running(idle_timeout=0.3) as server:
        async with open_websocket_url(ws_url(server)) as busy:

            async def keep_talking() -> None:
                while True:
                    await assert_echoes(busy)
                    await trio.sleep(0.1)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(keep_talking)
                started = trio.current_time()
                code, reason = await close_code(ws_url(server))
                assert code == 4408 and "idle" in reason
                assert 0.25 < trio.current_time() - started < 3
                await trio.sleep(0.4)  # longer than the timeout: the talker stays open
                nursery.cancel_scope.cancel()
            await assert_echoes(busy)


async def test_malformed_json_reported_by_the_transport_is_1007() -> None:
    async with running() as server:
        async with open_websocket_url(ws_url(server)) as bystander:
            code, reason = await close_code(ws_url(server), send="{not json")
            assert (code, reason) == (1007, "malformed JSON")
            await assert_echoes(bystander, '{"ok": true}')


async def test_crashing_sessions_close_1011_and_the_server_stays_healthy() -> None:
    async with running() as server:
        async with open_websocket_url(ws_url(server)) as bystander:
            await assert_echoes(bystander)
            assert (await close_code(ws_url(server), send="crash"))[0] == 1011
            assert (await close_code(ws_url(server) + "?crash=factory"))[0] == 1011
            await assert_echoes(bystander)
            assert server.app.metrics.sessions_failed.value == 2
        async with open_websocket_url(ws_url(server, "/ws/twilio")) as after:
            await assert_echoes(after)


async def test_unknown_socket_path_is_refused_with_http_403() -> None:
    async with running() as server:
        with trio.fail_after(5), pytest.raises(ConnectionRejected) as refused:
            async with open_websocket_url(ws_url(server, "/ws/elsewhere")):
                pass
        assert refused.value.status_code == 403


async def test_token_can_guard_the_browser_route_only() -> None:
    async with running(token=TOKEN, token_routes=["browser"]) as server:
        assert (await close_code(ws_url(server)))[0] == 4401
        async with open_websocket_url(ws_url(server, "/ws/twilio")) as twilio:
            await assert_echoes(twilio)
