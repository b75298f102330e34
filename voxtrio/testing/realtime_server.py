"""A scripted, local OpenAI Realtime server for tests: trio-websocket on 127.0.0.1, port 0.

    script = [
        *session_handshake(),                    # session.created / .update / .updated
        ExpectClient("response.create"),
        response_created("resp_1"),              # echoes the request's metadata
        *script_from_jsonl("tests/protocols/fixtures/realtime_full_voice_turn.jsonl")[9:],
        Drop(),                                  # or Close(), Delay(0.2), SendError("boom")
    ]
    async with open_realtime_server(script) as server:
        client = connect_somehow(server.url)      # ws://127.0.0.1:PORT/v1/realtime
        ...
        server.assert_no_problems()

Contract: each accepted connection runs the next script, in order (connection 0 runs
the first script, a reconnect runs the second, ...); connections beyond the scripts are
rejected with HTTP 503. A script is a list of steps: `Send` a server event (a codec
event, a JSON dict, or raw text for malformed-input tests), `ExpectClient` (wait for the
client's next event of a type), `Delay`, `SendError`, `Close` (close handshake) and
`Drop` (the TCP connection vanishes without a close frame). When the script ends the
connection stays open until the client closes it.

Every client message is checked against the official schema with
`voxtrio.testing.conformance` and decoded with the codec; findings go to `problems`
(and, with `reply_errors=True`, an `error` event goes back, as a real server would).
Server events sent from codec objects or dicts are checked too, so a script cannot
silently drift from the schema. The subprotocol "realtime" is accepted when offered;
messages up to `max_message_size` (16 MiB) are accepted because audio appends and
`conversation.item.retrieved` exceed trio-websocket's 1 MiB default.

Timeouts: `ExpectClient` waits `timeout` seconds (default 5) of real time; on expiry the
problem is recorded and the connection is closed with code 1011. Tests must bound their
own waits with `trio.fail_after` (real sockets: no virtual time).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
import trio
import trio_websocket

from voxtrio.protocols.openai_realtime.codec import (
    client_event_from_dict,
    encode,
    parse_json_object,
    to_dict,
)
from voxtrio.protocols.openai_realtime.errors import ProtocolError
from voxtrio.protocols.openai_realtime.server_events import ErrorEvent, ServerError
from voxtrio.testing.conformance import client_event_problems, server_event_problems

__all__ = [
    "Close",
    "Delay",
    "Drop",
    "ExpectClient",
    "RealtimeConnection",
    "ScriptStep",
    "ScriptedRealtimeServer",
    "Send",
    "SendError",
    "open_realtime_server",
    "response_created",
    "script_from_jsonl",
    "session_handshake",
]

log = logging.getLogger("voxtrio.testing.realtime_server")

MAX_MESSAGE_SIZE = 16 * 1024 * 1024


@attrs.frozen
class Send:
    """Send a server event: a codec event, a JSON object, or raw text (sent unchecked).

    `event` may also be a callable taking the `RealtimeConnection` and returning one of
    those, to answer what the client sent (`connection.last_expected` is the client
    event the latest `ExpectClient` matched); see `session_handshake` and
    `response_created`.
    """

    event: Any


@attrs.frozen
class SendError:
    """Send an `error` event (defaults: a recoverable invalid_request_error)."""

    message: str
    code: str | None = None
    type: str = "invalid_request_error"
    param: str | None = None
    client_event_id: str | None = None


@attrs.frozen
class ExpectClient:
    """Wait until the client sends its next event of `type` (after earlier expectations)."""

    type: str
    timeout: float = 5.0


@attrs.frozen
class Delay:
    """Pause the script (real time)."""

    seconds: float


@attrs.frozen
class Close:
    """Close the connection with a close handshake."""

    code: int = 1000
    reason: str = ""


@attrs.frozen
class Drop:
    """Drop the TCP connection without a close frame, as a network failure would."""


ScriptStep = Send | SendError | ExpectClient | Delay | Close | Drop


def session_handshake(
    session: Mapping[str, Any] | None = None, *, timeout: float = 5.0
) -> list[ScriptStep]:
    """The opening a real server plays: `session.created`, then, once the client sent
    `session.update`, `session.updated` with the client's fields merged over `session`.

    `session` is the server's default session object (a realtime session with a
    gpt-realtime model, 24 kHz PCM and server VAD when None). Explicit nulls from the
    client (turn detection off, ...) replace the defaults, as on the real server.
    """
    defaults = dict(session) if session is not None else _default_session()

    def updated(conn: RealtimeConnection) -> dict[str, Any]:
        update = conn.last_expected
        merged = defaults
        if update is not None and hasattr(update, "session"):
            merged = _merge(defaults, to_dict(update.session))
        return {"type": "session.updated", "event_id": "event_session_updated", "session": merged}

    return [
        Send({"type": "session.created", "event_id": "event_session_created", "session": defaults}),
        ExpectClient("session.update", timeout=timeout),
        Send(updated),
    ]


def response_created(response_id: str, *, event_id: str | None = None) -> Send:
    """A `response.created` for the client's last expected `response.create`.

    It carries that request's `metadata` (clients use it to match a response to their
    request) and output modalities, status "in_progress".
    """

    def build(conn: RealtimeConnection) -> dict[str, Any]:
        request = getattr(conn.last_expected, "response", None)
        response: dict[str, Any] = {
            "object": "realtime.response",
            "id": response_id,
            "status": "in_progress",
            "output": [],
            "metadata": getattr(request, "metadata", None),
            "output_modalities": list(getattr(request, "output_modalities", None) or ["audio"]),
        }
        return {
            "type": "response.created",
            "event_id": event_id or f"event_{response_id}_created",
            "response": response,
        }

    return Send(build)


def script_from_jsonl(path: str | Path) -> list[ScriptStep]:
    """One `Send` per line of a JSON-lines file of server events."""
    lines = Path(path).read_text().splitlines()
    return [Send(json.loads(line)) for line in lines if line.strip()]


@attrs.define
class RealtimeConnection:
    """What one client connection did: request, client events, problems."""

    index: int
    path: str
    headers: dict[str, str]
    subprotocol: str | None
    client_events: list[Any] = attrs.Factory(list)
    raw_messages: list[str] = attrs.Factory(list)
    problems: list[str] = attrs.Factory(list)
    sent: list[str] = attrs.Factory(list)
    closed: bool = False
    client_gone: bool = False
    last_expected: Any = None
    _cursor: int = 0

    def events_of(self, kind: str) -> list[Any]:
        """The client events of one type, in arrival order."""
        return [event for event in self.client_events if event.type == kind]


class ScriptedRealtimeServer:
    """The server; see the module docstring. Start with `await nursery.start(server.run)`."""

    def __init__(
        self,
        *scripts: Sequence[ScriptStep],
        reply_errors: bool = True,
        check_server_events: bool = True,
        max_message_size: int = MAX_MESSAGE_SIZE,
    ) -> None:
        self._scripts = [list(script) for script in scripts]
        self._reply_errors = reply_errors
        self._check_server_events = check_server_events
        self._max_message_size = max_message_size
        self.connections: list[RealtimeConnection] = []
        self.rejected = 0
        self.port = 0
        self._changed = trio.Event()
        self._server_problems: list[str] = []

    @property
    def url(self) -> str:
        """Base WebSocket URL of the realtime endpoint (append `?model=...` as usual)."""
        return f"ws://127.0.0.1:{self.port}/v1/realtime"

    @property
    def problems(self) -> list[str]:
        """Every problem found so far, prefixed with its connection index."""
        out = list(self._server_problems)
        for connection in self.connections:
            out += [f"connection {connection.index}: {p}" for p in connection.problems]
        return out

    def assert_no_problems(self) -> None:
        """Raise AssertionError listing every non-conforming message or failed expectation."""
        problems = self.problems
        if problems:
            raise AssertionError("realtime server saw problems:\n  " + "\n  ".join(problems))

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve until cancelled; `task_status.started()` once `port` is known."""
        async with trio.open_nursery() as nursery:
            server = await nursery.start(
                lambda task_status: trio_websocket.serve_websocket(
                    self._handle,
                    "127.0.0.1",
                    0,
                    None,
                    handler_nursery=nursery,
                    max_message_size=self._max_message_size,
                    message_queue_size=64,
                    task_status=task_status,
                )
            )
            self.port = server.port
            task_status.started()

    async def wait_connection(self, index: int = 0) -> RealtimeConnection:
        """Wait until connection `index` is accepted."""
        await self._wait_for(lambda: len(self.connections) > index)
        return self.connections[index]

    async def wait_client_event(
        self, kind: str, *, count: int = 1, connection: int | None = None
    ) -> list[Any]:
        """Wait until `count` client events of `kind` arrived (on one connection, or any)."""

        def matching() -> list[Any]:
            conns = self.connections if connection is None else self.connections[connection:][:1]
            return [e for c in conns for e in c.events_of(kind)]

        await self._wait_for(lambda: len(matching()) >= count)
        return matching()

    async def wait_closed(self, index: int = 0) -> RealtimeConnection:
        """Wait until connection `index` has closed."""
        await self._wait_for(
            lambda: len(self.connections) > index and self.connections[index].closed
        )
        return self.connections[index]

    # -- internals -----------------------------------------------------------------------

    async def _wait_for(self, condition: Callable[[], bool]) -> None:
        while not condition():
            await self._changed.wait()

    def _notify(self) -> None:
        changed, self._changed = self._changed, trio.Event()
        changed.set()

    async def _handle(self, request: trio_websocket.WebSocketRequest) -> None:
        index = len(self.connections) + self.rejected
        if len(self.connections) >= len(self._scripts):
            self.rejected += 1
            log.info("rejecting connection %d: no script left", index)
            await request.reject(503, body=b"scripted realtime server: no script left")
            self._notify()
            return
        subprotocol = "realtime" if "realtime" in request.proposed_subprotocols else None
        ws = await request.accept(subprotocol=subprotocol)
        connection = RealtimeConnection(
            index=len(self.connections),
            path=request.path,
            headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in request.headers},
            subprotocol=subprotocol,
        )
        script = self._scripts[connection.index]
        self.connections.append(connection)
        self._notify()
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._read, ws, connection)
                await self._play(ws, connection, script)
                # Script done: stay open until the client closes (the reader returns).
        finally:
            connection.closed = True
            self._notify()

    async def _read(self, ws: trio_websocket.WebSocketConnection, conn: RealtimeConnection) -> None:
        try:
            while True:
                message = await ws.get_message()
                await self._receive(ws, conn, message)
        except trio_websocket.ConnectionClosed:
            pass
        finally:
            conn.client_gone = True
            self._notify()

    async def _receive(
        self, ws: trio_websocket.WebSocketConnection, conn: RealtimeConnection, message: str | bytes
    ) -> None:
        if isinstance(message, bytes):
            conn.problems.append("binary frame received; the Realtime API uses JSON text frames")
            self._notify()
            return
        conn.raw_messages.append(message)
        problems = client_event_problems(message)
        event: Any = None
        try:
            event = client_event_from_dict(parse_json_object(message))
        except ProtocolError as exc:
            problems.append(f"codec: {exc}")
        if problems:
            kind = _type_of(message)
            conn.problems += [f"{kind}: {p}" for p in problems]
            if self._reply_errors:
                await self._send_text(ws, conn, encode(_invalid_request(message, problems)))
        if event is not None:
            conn.client_events.append(event)
        self._notify()

    async def _play(
        self,
        ws: trio_websocket.WebSocketConnection,
        conn: RealtimeConnection,
        script: list[ScriptStep],
    ) -> None:
        try:
            for step in script:
                if isinstance(step, Send):
                    await self._send_text(ws, conn, self._serialize(conn, step.event))
                elif isinstance(step, SendError):
                    error = ErrorEvent(
                        event_id=f"event_err_{len(conn.sent)}",
                        error=ServerError(
                            type=step.type,
                            message=step.message,
                            code=step.code,
                            param=step.param,
                            event_id=step.client_event_id,
                        ),
                    )
                    await self._send_text(ws, conn, encode(error))
                elif isinstance(step, ExpectClient):
                    if not await self._expect(conn, step):
                        if not conn.client_gone:
                            await ws.aclose(1011, f"script expected {step.type}")
                        return
                elif isinstance(step, Delay):
                    await trio.sleep(step.seconds)
                elif isinstance(step, Close):
                    await ws.aclose(step.code, step.reason)
                    return
                elif isinstance(step, Drop):
                    await _drop(ws)
                    return
        except trio_websocket.ConnectionClosed:
            log.info("connection %d closed by the client during its script", conn.index)

    async def _expect(self, conn: RealtimeConnection, step: ExpectClient) -> bool:
        def find() -> int | None:
            for position in range(conn._cursor, len(conn.client_events)):
                if conn.client_events[position].type == step.type:
                    return position
            return None

        with trio.move_on_after(step.timeout):
            while (position := find()) is None:
                if conn.client_gone:
                    conn.problems.append(
                        f"script expected a {step.type!r} client event; the connection closed first"
                    )
                    self._notify()
                    return False
                await self._changed.wait()
            conn._cursor = position + 1
            conn.last_expected = conn.client_events[position]
            return True
        conn.problems.append(
            f"script expected a {step.type!r} client event within {step.timeout} s"
        )
        self._notify()
        return False

    def _serialize(self, conn: RealtimeConnection, event: Any) -> str:
        if callable(event):
            event = event(conn)
        if isinstance(event, str):
            return event  # raw text: deliberately unchecked (malformed-input tests)
        data = dict(event) if isinstance(event, Mapping) else to_dict(event)
        if self._check_server_events:
            for problem in server_event_problems(data):
                self._server_problems.append(
                    f"script sent non-conforming {data.get('type')}: {problem}"
                )
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    async def _send_text(
        self, ws: trio_websocket.WebSocketConnection, conn: RealtimeConnection, text: str
    ) -> None:
        conn.sent.append(text)
        await ws.send_message(text)


@asynccontextmanager
async def open_realtime_server(
    *scripts: Sequence[ScriptStep], **options: Any
) -> AsyncIterator[ScriptedRealtimeServer]:
    """Run a `ScriptedRealtimeServer` for the duration of the block."""
    server = ScriptedRealtimeServer(*scripts, **options)
    async with trio.open_nursery() as nursery:
        await nursery.start(server.run)
        try:
            yield server
        finally:
            nursery.cancel_scope.cancel()


def _default_session() -> dict[str, Any]:
    pcm = {"type": "audio/pcm", "rate": 24000}
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": "sess_scripted",
        "model": "gpt-realtime",
        "output_modalities": ["audio"],
        "instructions": "",
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "audio": {
            "input": {
                "format": pcm,
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": {
                    "type": "server_vad",
                    "threshold": 0.5,
                    "prefix_padding_ms": 300,
                    "silence_duration_ms": 500,
                    "create_response": True,
                    "interrupt_response": True,
                },
            },
            "output": {"format": pcm, "voice": "marin", "speed": 1.0},
        },
    }


def _merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            # A new turn-detection (or format, ...) type replaces the old object whole.
            if "type" in value and value.get("type") != merged[key].get("type"):
                merged[key] = dict(value)
            else:
                merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


async def _drop(ws: trio_websocket.WebSocketConnection) -> None:
    # trio-websocket has no public "abort": close the TCP stream under it so the client
    # sees a dead connection with no close frame (what a network failure looks like).
    stream = getattr(ws, "_stream", None)
    if stream is None:  # pragma: no cover - a future trio-websocket without _stream
        await ws.aclose(1011, "dropped")
        return
    await stream.aclose()


def _invalid_request(message: str, problems: list[str]) -> ErrorEvent:
    client_event_id: str | None = None
    try:
        data = json.loads(message)
        if isinstance(data, dict) and isinstance(data.get("event_id"), str):
            client_event_id = data["event_id"]
    except ValueError:
        pass
    return ErrorEvent(
        event_id="event_invalid_request",
        error=ServerError(
            type="invalid_request_error",
            code="invalid_request",
            message="; ".join(problems)[:2000],
            event_id=client_event_id,
        ),
    )


def _type_of(message: str) -> str:
    try:
        data = json.loads(message)
    except ValueError:
        return "<invalid JSON>"
    kind = data.get("type") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) else "<no type>"
