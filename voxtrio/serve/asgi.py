"""The ASGI application behind `voxtrio serve`: static page, health, metrics, two sockets.

    app = VoxtrioApp(factory, limits=ServerLimits(token="s3cret"))
    await hypercorn.trio.serve(app, config)        # or `serve(...)` in voxtrio.serve.server

Routes:
    GET /, /static/<file>     the page in voxtrio/serve/static/ (no directory listing)
    GET /healthz              200 "ok" (503 "draining" during shutdown)
    GET /metrics              Prometheus text (see voxtrio.serve.metrics)
    WS  /ws/browser           run_browser_connection (voxtrio.serve.transports)
    WS  /ws/twilio            run_twilio_connection

Each WebSocket is accepted, checked against `ServerLimits` (see voxtrio.serve.limits for
the close codes), then handed to its transport through `AsgiWebSocket`, an adapter from the
ASGI receive/send dicts to the `WebSocketLike` protocol. The transport builds the session
from the user's factory. A transport or session that raises is logged and closed with
1011; nothing escapes into the server, so other sessions keep running. An idle watchdog
closes a socket that sent nothing for `idle_timeout` seconds (4408). `begin_drain()` makes
new sockets close with 1001 and `close_all()` ends the live ones (graceful shutdown).

Twilio: with a Twilio auth token (`twilio_signature=`, `ServerLimits.twilio_auth_token`,
or `$TWILIO_AUTH_TOKEN`) every /ws/twilio upgrade must carry a valid `X-Twilio-Signature`
(voxtrio.serve.twilio_signature), else it is closed with 4401 before any session starts;
the signature then stands in for the server token on that route. Without one, Twilio
sockets are not verified, and the first one logs a warning saying so.
"""

from __future__ import annotations

import inspect
import logging
import mimetypes
import os
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import attrs
import trio

from voxtrio.serve.limits import (
    CLOSE_FORBIDDEN_ORIGIN,
    CLOSE_GOING_AWAY,
    CLOSE_IDLE,
    CLOSE_INTERNAL_ERROR,
    CLOSE_TRY_AGAIN_LATER,
    CLOSE_UNAUTHORIZED,
    ServerLimits,
    origin_ok,
    redact_query,
    token_ok,
)
from voxtrio.serve.metrics import ServerMetrics

# the contract types live with the transports (helper serve-transports)
from voxtrio.serve.transports.common import ConnectionGone, ConnectionInfo
from voxtrio.serve.twilio_signature import TwilioSignatureCheck, check_from_settings

__all__ = ["AsgiWebSocket", "ConnectionHandler", "VoxtrioApp", "STATIC_DIR"]

log = logging.getLogger("voxtrio.serve")

STATIC_DIR = Path(__file__).parent / "static"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
# (ws, factory, info) -> runs the connection until it ends; keyword limits are optional
ConnectionHandler = Callable[..., Awaitable[None]]

ROUTES = {"/ws/browser": "browser", "/ws/twilio": "twilio"}
# the signature is replayable (no timestamp in it): the factory never needs it either
_HEADERS_NEVER_FORWARDED = {"authorization", "cookie", "x-twilio-signature"}


class AsgiWebSocket:
    """`WebSocketLike` over an accepted ASGI websocket (receive/send dicts).

    `receive()` returns str (text) or bytes (binary) and raises `ConnectionGone` once the
    peer disconnected; `send()` raises it after that or after `close()`; `close()` is
    idempotent. Binary messages are counted as audio frames in the server metrics.
    """

    def __init__(self, receive: Receive, send: Send, metrics: ServerMetrics) -> None:
        self._receive = receive
        self._send = send
        self._metrics = metrics
        self._gone = False
        self._closed = False
        self.close_code: int | None = None
        self.last_activity = trio.current_time()

    @property
    def closed(self) -> bool:
        return self._gone or self._closed

    async def receive(self) -> str | bytes:
        if self._gone:
            raise ConnectionGone("the peer has closed the connection")
        message = await self._receive()
        kind = message["type"]
        if kind == "websocket.disconnect":
            self._gone = True
            raise ConnectionGone(f"the peer closed the connection (code {message.get('code')})")
        if kind != "websocket.receive":
            raise ConnectionGone(f"unexpected ASGI message {kind!r}")
        self.last_activity = trio.current_time()
        data = message.get("bytes")
        if data is not None:
            self._metrics.frames_in.inc()
            return bytes(data)
        text: str = message.get("text") or ""
        return text

    async def send(self, message: str | bytes) -> None:
        if self.closed:
            raise ConnectionGone("the connection is closed")
        if isinstance(message, str):
            await self._send({"type": "websocket.send", "text": message})
        else:
            await self._send({"type": "websocket.send", "bytes": bytes(message)})
            self._metrics.frames_out.inc()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self.closed:
            return
        self._closed = True
        self.close_code = code
        # reasons are limited to 123 bytes by RFC 6455
        reason_bytes = reason.encode()[:123]
        await self._send(
            {
                "type": "websocket.close",
                "code": code,
                "reason": reason_bytes.decode(errors="ignore"),
            }
        )


def _default_handler(route: str) -> ConnectionHandler:
    from voxtrio.serve import transports  # lazy: pulls in the session stack

    handler: ConnectionHandler = (
        transports.run_browser_connection
        if route == "browser"
        else transports.run_twilio_connection
    )
    return handler


def _accepted_kwargs(handler: ConnectionHandler, wanted: Mapping[str, Any]) -> dict[str, Any]:
    try:
        params = inspect.signature(handler).parameters
    except (TypeError, ValueError):
        return {}
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return dict(wanted)
    return {k: v for k, v in wanted.items() if k in params}


@attrs.define(eq=False)
class _Live:
    ws: AsgiWebSocket
    scope: trio.CancelScope


class VoxtrioApp:
    """The ASGI 3 app. `factory` is the user's `SessionFactory` (see the transports).

    `handlers` replaces the transports per route ("browser", "twilio"), for tests and
    custom protocols. `metrics` and `loop_lag_p99` feed /metrics. `twilio_signature`
    verifies Twilio's sockets; by default it is built from `limits.twilio_auth_token` /
    `limits.twilio_public_url`, or `$TWILIO_AUTH_TOKEN` (None: not verified).
    """

    def __init__(
        self,
        factory: Callable[..., Any],
        *,
        limits: ServerLimits | None = None,
        metrics: ServerMetrics | None = None,
        handlers: Mapping[str, ConnectionHandler] | None = None,
        loop_lag_p99: Callable[[], float] | None = None,
        static_dir: Path = STATIC_DIR,
        twilio_signature: TwilioSignatureCheck | None = None,
    ) -> None:
        self.factory = factory
        self.limits = limits or ServerLimits()
        self.twilio_signature = twilio_signature or check_from_settings(
            self.limits.twilio_auth_token, self.limits.twilio_public_url, os.environ
        )
        self._warned_unverified_twilio = False
        self.metrics = metrics or ServerMetrics()
        self._handlers = dict(handlers or {})
        self._loop_lag_p99 = loop_lag_p99
        self._static_dir = static_dir.resolve()
        self._live: set[_Live] = set()
        self._idle = trio.Event()
        self._idle.set()
        self.draining = False

    # -- lifecycle ------------------------------------------------------------------

    @property
    def live_sessions(self) -> int:
        return len(self._live)

    def begin_drain(self) -> None:
        """Refuse new sockets (1001) and report 503 on /healthz; live ones go on."""
        self.draining = True

    async def wait_idle(self) -> None:
        """Return once no session is live."""
        await self._idle.wait()

    async def close_all(
        self, code: int = CLOSE_GOING_AWAY, reason: str = "server shutting down"
    ) -> None:
        """Close every live socket with `code` and cancel its session."""
        for live in list(self._live):
            with trio.move_on_after(1.0):
                try:
                    await live.ws.close(code, reason)
                except Exception:  # the socket may already be half gone
                    log.debug("closing a socket at shutdown failed", exc_info=True)
            live.scope.cancel()

    # -- ASGI -----------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, send: Send) -> None:
        path: str = scope["path"]
        method: str = scope["method"]
        if method not in ("GET", "HEAD"):
            await _respond(send, 405, b"method not allowed\n", extra=[(b"allow", b"GET, HEAD")])
            return
        if path == "/healthz":
            if self.draining:
                await _respond(send, 503, b"draining\n")
            else:
                await _respond(send, 200, b"ok\n")
        elif path == "/metrics":
            if self._loop_lag_p99 is not None:
                self.metrics.loop_lag.set(self._loop_lag_p99())
            body = self.metrics.render().encode()
            await _respond(
                send, 200, body, content_type=b"text/plain; version=0.0.4; charset=utf-8"
            )
        elif path == "/" or path.startswith("/static/"):
            await self._static(path, send)
        else:
            await _respond(send, 404, b"not found\n")

    async def _static(self, path: str, send: Send) -> None:
        relative = "index.html" if path == "/" else path[len("/static/") :]
        target = (self._static_dir / relative).resolve()
        # refuse anything that escapes the static directory (../, absolute paths)
        if not target.is_relative_to(self._static_dir) or not target.is_file():
            await _respond(send, 404, b"not found\n")
            return
        body = await trio.Path(target).read_bytes()
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type.endswith("javascript"):
            content_type += "; charset=utf-8"
        await _respond(send, 200, body, content_type=content_type.encode())

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        route = ROUTES.get(scope["path"])
        if route is None:
            # closing before accepting makes hypercorn answer HTTP 403
            await send({"type": "websocket.close", "code": 1008})
            return
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        client = scope.get("client") or ("?", 0)
        client_text = f"{client[0]}:{client[1]}"
        await send({"type": "websocket.accept"})
        ws = AsgiWebSocket(receive, send, self.metrics)

        refusal = self._refusal(route, headers, query, scope)
        if refusal is not None:
            code, reason = refusal
            self.metrics.connections_rejected.inc()
            log.info("refused %s socket from %s: %s (%d)", route, client_text, reason, code)
            await ws.close(code, reason)
            await _drain_until_disconnect(ws)
            return

        info = ConnectionInfo(
            route=route,
            path=scope["path"],
            query=redact_query(query),
            headers={k: v for k, v in headers.items() if k not in _HEADERS_NEVER_FORWARDED},
            client=client_text,
        )
        await self._run_connection(ws, route, info)

    def _refusal(
        self, route: str, headers: Mapping[str, str], query: Mapping[str, str], scope: Scope
    ) -> tuple[int, str] | None:
        if self.draining:
            return CLOSE_GOING_AWAY, "server shutting down"
        signed = route == "twilio" and self.twilio_signature is not None
        if route == "twilio" and not signed and not self._warned_unverified_twilio:
            self._warned_unverified_twilio = True
            log.warning(
                "Twilio sockets are not verified: anyone who knows the URL can open a call. "
                "Set TWILIO_AUTH_TOKEN (or ServerLimits.twilio_auth_token) to check "
                "X-Twilio-Signature"
            )
        if signed:
            refusal = self._twilio_refusal(scope)
            if refusal is not None:
                return refusal
        elif not token_ok(self.limits, route, headers, query):
            return CLOSE_UNAUTHORIZED, "unauthorized: missing or wrong token"
        if route == "browser" and not origin_ok(self.limits, headers):
            return CLOSE_FORBIDDEN_ORIGIN, "forbidden: origin not allowed"
        if len(self._live) >= self.limits.max_sessions:
            return (
                CLOSE_TRY_AGAIN_LATER,
                f"server at capacity ({self.limits.max_sessions} sessions): try again later",
            )
        return None

    def _twilio_refusal(self, scope: Scope) -> tuple[int, str] | None:
        assert self.twilio_signature is not None
        verdict = self.twilio_signature.verify(scope)
        if verdict.ok:
            return None
        # the URLs (never the signature or token) tell an operator behind a proxy what to set
        urls = ", ".join(url.partition("?")[0] for url in verdict.urls)
        log.info(
            "%s: checked against %s (and their port variants); if Twilio used another URL, "
            "set the Twilio public URL to the <Stream url> of your TwiML",
            verdict.reason,
            urls,
        )
        return CLOSE_UNAUTHORIZED, f"unauthorized: {verdict.reason}"

    async def _run_connection(self, ws: AsgiWebSocket, route: str, info: Any) -> None:
        live = _Live(ws=ws, scope=trio.CancelScope())
        self._live.add(live)
        self._idle = trio.Event() if len(self._live) == 1 else self._idle
        self.metrics.sessions_active.set(len(self._live))
        self.metrics.sessions_total.inc()
        log.info("%s session from %s started (%d live)", route, info.client, len(self._live))
        failure: list[Exception] = []

        async def run_handler(watchdog: trio.CancelScope) -> None:
            try:
                handler = self._handlers.get(route) or _default_handler(route)
                # the server's watchdog owns the idle timeout (4408), so the transport's is off
                kwargs = _accepted_kwargs(
                    handler,
                    {
                        "max_message_size": self.limits.max_message_size,
                        "idle_timeout": None,
                        "on_finished": self._on_transport_finished,
                    },
                )
                await handler(ws, self._observed_factory, info, **kwargs)
            except ConnectionGone:
                pass  # the peer went away: a normal end
            except Exception as exc:
                failure.append(exc)
            finally:
                watchdog.cancel()

        try:
            with live.scope:
                async with trio.open_nursery() as nursery:
                    if self.limits.idle_timeout is not None:
                        nursery.start_soon(self._idle_watchdog, ws, nursery.cancel_scope)
                    await run_handler(nursery.cancel_scope)
            if failure:
                # one crashing session must not take the server down: log, close 1011, go on
                self.metrics.sessions_failed.inc()
                log.error("%s session from %s crashed", route, info.client, exc_info=failure[0])
                with trio.move_on_after(1.0):
                    try:
                        await ws.close(CLOSE_INTERNAL_ERROR, "internal error")
                    except Exception:
                        log.debug("closing a crashed session's socket failed", exc_info=True)
        finally:
            self._live.discard(live)
            self.metrics.sessions_active.set(len(self._live))
            if not self._live:
                self._idle.set()
            log.info("%s session from %s ended (%d live)", route, info.client, len(self._live))
        if not ws.closed:
            with trio.move_on_after(1.0):
                await ws.close(1000, "")

    async def _idle_watchdog(self, ws: AsgiWebSocket, handler_scope: trio.CancelScope) -> None:
        timeout = self.limits.idle_timeout
        assert timeout is not None
        while True:
            deadline = ws.last_activity + timeout
            if trio.current_time() >= deadline:
                break
            await trio.sleep_until(deadline)
        log.info("closing an idle socket (no message for %.1f s)", timeout)
        with trio.move_on_after(1.0):
            await ws.close(CLOSE_IDLE, f"idle: no message for {timeout:g} s")
        handler_scope.cancel()

    def _on_transport_finished(self, statistics: Any) -> None:
        """A connection's counters at its end: frames dropped by its full queues."""
        dropped = getattr(statistics, "dropped_in", 0) + getattr(statistics, "dropped_out", 0)
        if dropped > 0:
            self.metrics.frames_dropped.inc(dropped)

    async def _observed_factory(self, info: Any) -> Any:
        """The user's factory, plus a listener that feeds the turn-latency histogram."""
        result = self.factory(info)
        if inspect.isawaitable(result):
            result = await result
        session = result[0] if isinstance(result, tuple) else result
        on = getattr(session, "on", None)
        if on is not None:
            on("conversation_item_added", self._on_item)
        return result

    def _on_item(self, event: Any) -> None:
        item = getattr(event, "item", None)
        if getattr(item, "role", None) != "assistant":
            return
        metrics = getattr(item, "metrics", None) or {}
        e2e = metrics.get("e2e_latency")
        if isinstance(e2e, (int, float)) and e2e >= 0:
            self.metrics.turn_e2e_latency.observe(float(e2e))


async def _drain_until_disconnect(ws: AsgiWebSocket) -> None:
    """After our close, wait (bounded) for the peer's close so the handshake completes."""
    with trio.move_on_after(2.0):
        try:
            while (await ws._receive())["type"] != "websocket.disconnect":
                pass
        except Exception:  # the ASGI server may refuse receive() after close
            log.debug("waiting for the peer's close failed", exc_info=True)


async def _respond(
    send: Send,
    status: int,
    body: bytes,
    *,
    content_type: bytes = b"text/plain; charset=utf-8",
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send(
        {"type": "http.response.start", "status": status, "headers": headers + (extra or [])}
    )
    await send({"type": "http.response.body", "body": body})
