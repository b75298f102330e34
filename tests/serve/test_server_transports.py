"""The server with the real transports (voxtrio.serve.transports) and real sessions on fake
engines, over localhost sockets: malformed JSON, a crashing factory, and the sessions beside
them keep running."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from voxtrio.engines.fake import FakeTTS
from voxtrio.engines.fake_llm import FakeLLM
from voxtrio.protocols import browser_audio as ba
from voxtrio.serve.limits import ServerLimits
from voxtrio.serve.server import RunningServer, ServeOptions, serve
from voxtrio.session.agent import Agent
from voxtrio.session.session import AgentSession
from voxtrio.testing.user import ScriptedUser

FRAME = b"\x00\x00" * 320  # 20 ms of silence at 16 kHz


def factory(info: Any) -> tuple[AgentSession, Agent]:
    if info.query.get("crash"):
        raise RuntimeError("this factory fails on purpose")
    user = ScriptedUser(sample_rate=16_000)
    session = AgentSession(vad=user.vad(), stt=user.stt(), llm=FakeLLM([]), tts=FakeTTS())
    return session, Agent()


@asynccontextmanager
async def running() -> AsyncIterator[RunningServer]:
    options = ServeOptions(port=0, limits=ServerLimits(shutdown_grace=2.0))
    with trio.fail_after(15):
        async with trio.open_nursery() as nursery:
            server: RunningServer = await nursery.start(
                partial(serve, factory, options, handle_signals=False)
            )
            try:
                yield server
            finally:
                server.request_shutdown(immediately=True)


async def close_of(url: str, first: str) -> tuple[int, str]:
    with trio.fail_after(5):
        async with open_websocket_url(url) as ws:
            await ws.send_message(first)
            try:
                while True:
                    await ws.get_message()
            except ConnectionClosed as exc:
                assert exc.reason is not None
                return exc.reason.code, exc.reason.reason or ""
    raise AssertionError("unreachable")


async def healthz(port: int) -> bytes:
    with trio.fail_after(5):
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        async with stream:
            await stream.send_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            raw = b""
            while chunk := await stream.receive_some(4096):
                raw += chunk
    return raw.split(b"\r\n", 1)[0]


async def test_bad_peers_are_closed_while_a_real_session_keeps_running() -> None:
    async with running() as server:
        url = server.url.replace("http://", "ws://") + "/ws/browser"
        hello = json.dumps({"type": "hello", "sample_rate": 16_000, "format": "pcm16"})
        async with open_websocket_url(url) as good:
            with trio.fail_after(5):
                await good.send_message(hello)
                assert isinstance(ba.decode_server(await good.get_message()), ba.Ready)
                for _ in range(10):
                    await good.send_message(FRAME)

            code, _ = await close_of(url, "{not json")
            assert code == 1007
            code, _ = await close_of(url + "?crash=1", hello)
            assert code == 1011
            assert await healthz(server.port) == b"HTTP/1.1 200 "

            with trio.fail_after(5):
                for _ in range(10):
                    await good.send_message(FRAME)
                await good.send_message(json.dumps({"type": "bye"}))
                while True:  # the session ends normally and the server says goodbye
                    try:
                        await good.get_message()
                    except ConnectionClosed as exc:
                        assert exc.reason is not None and exc.reason.code == 1000
                        break
        with trio.fail_after(10):
            while server.app.live_sessions:  # noqa: ASYNC110 - a bounded poll of a counter
                await trio.sleep(0.01)
        assert server.app.metrics.frames_in.value == 20
        assert server.app.metrics.sessions_total.value == 3
