"""`voxtrio serve` over HTTP: the static page, /healthz, /metrics, graceful shutdown, the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from voxtrio.cli import build_parser
from voxtrio.serve.limits import ServerLimits
from voxtrio.serve.server import FactoryLoadError, RunningServer, ServeOptions, load_factory, serve
from voxtrio.serve.transports.common import TransportStatistics


class FakeSession:
    def __init__(self) -> None:
        self.callbacks: dict[str, Any] = {}

    def on(self, event: str, callback: Any) -> None:
        self.callbacks[event] = callback


def factory(info: Any) -> FakeSession:
    return FakeSession()


async def echo(ws: Any, make_session: Any, info: Any, *, on_finished: Any, **_limits: Any) -> None:
    session = await make_session(info)
    while True:
        message = await ws.receive()
        if message == "bye":  # report the connection's counters as the transports do
            on_finished(
                TransportStatistics(
                    frames_in=0,
                    dropped_in=2,
                    frames_out=0,
                    dropped_out=1,
                    segments=0,
                    cleared=0,
                    acks=0,
                )
            )
            await ws.close(1000, "bye")
            return
        if message == "turn":  # pretend a reply was played 0.6 s after the user stopped
            item = type("Item", (), {"role": "assistant", "metrics": {"e2e_latency": 0.6}})()
            session.callbacks["conversation_item_added"](type("Ev", (), {"item": item})())
        await ws.send(message)


@asynccontextmanager
async def running(**limits: Any) -> AsyncIterator[RunningServer]:
    options = ServeOptions(host="127.0.0.1", port=0, limits=ServerLimits(**limits))
    with trio.fail_after(15):
        async with trio.open_nursery() as nursery:
            server: RunningServer = await nursery.start(
                partial(
                    serve,
                    factory,
                    options,
                    handlers={"browser": echo, "twilio": echo},
                    handle_signals=False,
                )
            )
            try:
                yield server
            finally:
                server.request_shutdown(immediately=True)


async def http_get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    """A minimal HTTP/1.1 GET (Connection: close) on localhost."""
    with trio.fail_after(5):
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        async with stream:
            request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            await stream.send_all(request.encode())
            raw = b""
            while chunk := await stream.receive_some(65536):
                raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    return int(status_line.split()[1]), headers, body


async def test_static_page_healthz_and_unknown_paths() -> None:
    async with running() as server:
        status, headers, body = await http_get(server.port, "/")
        assert status == 200 and headers["content-type"].startswith("text/html")
        assert b"voxtrio" in body
        assert (await http_get(server.port, "/static/index.html"))[2] == body
        assert (await http_get(server.port, "/healthz"))[:3:2] == (200, b"ok\n")
        assert (await http_get(server.port, "/static/../limits.py"))[0] == 404
        assert (await http_get(server.port, "/static/%2e%2e/limits.py"))[0] == 404
        assert (await http_get(server.port, "/nope"))[0] == 404


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


async def test_metrics_count_sessions_frames_and_turn_latency() -> None:
    async with running() as server:
        url = server.url.replace("http://", "ws://") + "/ws/browser"
        async with open_websocket_url(url) as ws:
            for _ in range(3):
                await ws.send_message(b"\x00" * 640)
                assert await ws.get_message() == b"\x00" * 640
            await ws.send_message("turn")
            await ws.get_message()
            await trio.sleep(0.05)  # let the loop-lag monitor take a few samples
            status, headers, body = await http_get(server.port, "/metrics")
            await ws.send_message("bye")
        assert status == 200 and headers["content-type"].startswith("text/plain; version=0.0.4")
        text = body.decode()
        assert metric(text, "voxtrio_sessions_active") == 1
        assert metric(text, "voxtrio_frames_in_total") == 3
        assert metric(text, "voxtrio_frames_out_total") == 3
        assert metric(text, "voxtrio_frames_dropped_total") == 0
        assert 0 <= metric(text, "voxtrio_loop_lag_seconds") < 1
        assert "# TYPE voxtrio_turn_e2e_latency_seconds histogram" in text
        assert 'voxtrio_turn_e2e_latency_seconds_bucket{le="0.5"} 0' in text
        assert 'voxtrio_turn_e2e_latency_seconds_bucket{le="0.75"} 1' in text
        assert 'voxtrio_turn_e2e_latency_seconds_bucket{le="+Inf"} 1' in text
        assert metric(text, "voxtrio_turn_e2e_latency_seconds_count") == 1
        with trio.fail_after(5):
            while server.app.live_sessions:  # noqa: ASYNC110 - a bounded poll of a counter
                await trio.sleep(0.01)
        text = (await http_get(server.port, "/metrics"))[2].decode()
        assert metric(text, "voxtrio_sessions_active") == 0
        assert metric(text, "voxtrio_frames_dropped_total") == 3


async def test_graceful_shutdown_lets_live_calls_finish_then_closes_them() -> None:
    options = ServeOptions(port=0, limits=ServerLimits(shutdown_grace=0.5, idle_timeout=None))
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            server: RunningServer = await nursery.start(
                partial(serve, factory, options, handlers={"browser": echo}, handle_signals=False)
            )
            url = server.url.replace("http://", "ws://") + "/ws/browser"
            async with open_websocket_url(url) as ws:
                server.request_shutdown()
                await trio.sleep(0.2)
                assert server.app.draining
                with pytest.raises(OSError):  # no longer accepting
                    await http_get(server.port, "/healthz")
                await ws.send_message("still here")  # the live call goes on during the grace
                assert await ws.get_message() == "still here"
                with pytest.raises(ConnectionClosed) as closed:
                    await ws.get_message()
                assert closed.value.reason is not None
                assert closed.value.reason.code == 1001
        # serve() returned by itself once the last call was closed


def test_cli_parses_serve_options() -> None:
    args = build_parser().parse_args(
        [
            "serve",
            "app:make",
            "--port",
            "0",
            "--token",
            "T",
            "--allow-origin",
            "https://a.example",
            "--allow-origin",
            "https://b.example",
            "--max-sessions",
            "3",
            "--max-message-size",
            "2048",
            "--idle-timeout",
            "5",
        ]
    )
    assert args.factory == "app:make" and args.port == 0 and args.token == "T"
    assert args.allow_origin == ["https://a.example", "https://b.example"]
    assert (args.max_sessions, args.max_message_size, args.idle_timeout) == (3, 2048, 5.0)
    assert args.token_routes == "browser,twilio"


def test_cli_refuses_unknown_token_routes_and_bad_factories(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from voxtrio.cli import main

    assert main(["serve", "json:dumps", "--token-routes", "browser,phone"]) == 2
    assert "--token-routes takes browser and/or twilio: got phone" in capsys.readouterr().err
    assert main(["serve", "voxtrio_no_such_module:make"]) == 2
    assert "cannot import" in capsys.readouterr().err


def test_load_factory_explains_what_is_wrong(tmp_path: Path) -> None:
    (tmp_path / "my_app.py").write_text("def make(info):\n    return info\nNOT_CALLABLE = 3\n")
    assert load_factory(f"{tmp_path / 'my_app.py'}:make")("x") == "x"
    with pytest.raises(FactoryLoadError, match="MODULE:FACTORY"):
        load_factory("no_colon")
    with pytest.raises(FactoryLoadError, match="cannot import"):
        load_factory("voxtrio_no_such_module:make")
    with pytest.raises(FactoryLoadError, match="no attribute"):
        load_factory(f"{tmp_path / 'my_app.py'}:missing")
    with pytest.raises(FactoryLoadError, match="not callable"):
        load_factory(f"{tmp_path / 'my_app.py'}:NOT_CALLABLE")


async def test_cli_serves_until_sigterm(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text(
        textwrap.dedent("""
        def make(info):
            raise RuntimeError("no sessions in this test")
    """)
    )
    proc = await trio.lowlevel.open_process(
        [sys.executable, "-m", "voxtrio", "serve", f"{app}:make", "--port", "0", "--token", "hush"],
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stderr is not None
        output = b""
        with trio.fail_after(10):
            while b"listening on http://" not in output:
                chunk = await proc.stderr.receive_some(4096)
                assert chunk, output.decode()
                output += chunk
        port = int(output.split(b"listening on http://127.0.0.1:")[1].split()[0])
        assert (await http_get(port, "/healthz"))[0] == 200
        proc.send_signal(signal.SIGTERM)
        with trio.fail_after(10):
            while chunk := await proc.stderr.receive_some(4096):
                output += chunk
            assert await proc.wait() == 0
        assert b"stopped" in output and b"hush" not in output
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def test_cli_reports_a_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    from voxtrio.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "json:dumps", "--port", str(port)]) == 1
    assert f"cannot serve on 127.0.0.1:{port}" in capsys.readouterr().err
