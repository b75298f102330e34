"""A scripted chat-completions server on localhost, for testing LLM clients and agents.

    script = [
        ScriptedReply(status=429),                                  # first request: rate limited
        ScriptedReply(chunks=text_chunks("Hello there!"), usage=(12, 3)),
    ]
    async with serve_chat_completions(script) as server:
        llm = OpenAICompatibleLLM(server.base_url, model="test")
        ...
    server.requests        # the JSON bodies received, in order

It speaks just enough HTTP/1.1 (with h11, which httpx already depends on) to answer
`POST /v1/chat/completions` with `stream: true` as an OpenAI-compatible server does:
server-sent events, one `chat.completion.chunk` per delta, a final usage chunk and
`data: [DONE]`. Each request takes the next `ScriptedReply`; a reply can stream text and
tool-call fragments, pause between chunks, fail with an HTTP status, send an error
event mid-stream, or drop the connection mid-stream. It listens on 127.0.0.1 port 0.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import attrs
import h11
import trio

__all__ = ["ChatServer", "ScriptedReply", "serve_chat_completions", "text_chunks", "tool_call_chunks"]


@attrs.frozen(slots=True)
class ScriptedReply:
    """How to answer one request."""

    chunks: tuple[dict[str, Any], ...] = ()
    """`delta` objects, streamed in order (see `text_chunks`, `tool_call_chunks`)."""
    usage: tuple[int, int] | None = (10, 5)
    """(prompt_tokens, completion_tokens) for the final usage chunk; None: no usage."""
    status: int = 200
    """A status >= 400 answers with that error and a JSON error body instead."""
    delay: float = 0.0
    """Seconds before the first chunk, then between chunks (trio's clock)."""
    error_after: int | None = None
    """Send an error event after this many chunks."""
    drop_after: int | None = None
    """Close the connection abruptly after this many chunks."""


def text_chunks(text: str, size: int = 4) -> tuple[dict[str, Any], ...]:
    """`text` as content deltas of `size` characters."""
    return tuple({"content": text[i : i + size]} for i in range(0, len(text), size))


def tool_call_chunks(name: str, arguments: str, call_id: str = "call_1", index: int = 0) -> tuple[dict[str, Any], ...]:
    """One tool call as the fragments a real server streams (name first, then arguments)."""
    first = {"tool_calls": [{"index": index, "id": call_id, "type": "function",
                             "function": {"name": name, "arguments": ""}}]}
    rest = [
        {"tool_calls": [{"index": index, "function": {"arguments": arguments[i : i + 8]}}]}
        for i in range(0, len(arguments), 8)
    ]
    return (first, *rest)


@attrs.define
class ChatServer:
    port: int
    requests: list[dict[str, Any]] = attrs.Factory(list)
    authorizations: list[str | None] = attrs.Factory(list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


@asynccontextmanager
async def serve_chat_completions(script: Sequence[ScriptedReply]) -> AsyncIterator[ChatServer]:
    """Serve `script` (one reply per request, the last one repeated) until the block ends."""
    handler = _Handler(list(script) or [ScriptedReply()])
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(trio.serve_tcp, handler.handle, 0, host="127.0.0.1"))
        port = listeners[0].socket.getsockname()[1]
        server = ChatServer(port)
        handler.server = server
        try:
            yield server
        finally:
            nursery.cancel_scope.cancel()


class _Handler:
    def __init__(self, replies: list[ScriptedReply]) -> None:
        self.replies = replies
        self.count = 0
        self.server: ChatServer | None = None

    async def handle(self, stream: trio.SocketStream) -> None:
        try:
            await self._handle(stream)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # the client went away (as clients do after an error): nothing to answer

    async def _handle(self, stream: trio.SocketStream) -> None:
        conn = h11.Connection(h11.SERVER)
        try:
            request, body = await _read_request(conn, stream)
        except (h11.RemoteProtocolError, trio.BrokenResourceError):
            return
        if request is None:
            return
        reply = self.replies[min(self.count, len(self.replies) - 1)]
        self.count += 1
        if self.server is not None:
            try:
                self.server.requests.append(json.loads(body or b"{}"))
            except json.JSONDecodeError:
                self.server.requests.append({"_invalid": body.decode("utf-8", "replace")})
            headers = dict((k.decode().lower(), v.decode()) for k, v in request.headers)
            self.server.authorizations.append(headers.get("authorization"))
        if reply.status >= 400:
            payload = json.dumps({"error": {"message": f"scripted status {reply.status}", "type": "test"}}).encode()
            await _send(stream, conn, h11.Response(status_code=reply.status, headers=[
                ("content-type", "application/json"), ("content-length", str(len(payload)))]))
            await _send(stream, conn, h11.Data(data=payload))
            await _send(stream, conn, h11.EndOfMessage())
            await stream.aclose()
            return
        await _send(stream, conn, h11.Response(status_code=200, headers=[
            ("content-type", "text/event-stream"), ("transfer-encoding", "chunked")]))
        for index, delta in enumerate(reply.chunks):
            if reply.drop_after is not None and index >= reply.drop_after:
                await stream.aclose()  # abrupt: no terminating chunk
                return
            if reply.error_after is not None and index >= reply.error_after:
                await _event(stream, conn, {"error": {"message": "scripted failure mid-stream"}})
                break
            if reply.delay:
                await trio.sleep(reply.delay)
            await _event(stream, conn, _chunk(delta, finish=None))
        else:
            finish = "tool_calls" if any("tool_calls" in d for d in reply.chunks) else "stop"
            await _event(stream, conn, _chunk({}, finish=finish))
            if reply.usage is not None:
                prompt, completion = reply.usage
                await _event(stream, conn, {
                    "id": "chatcmpl-test", "object": "chat.completion.chunk", "choices": [],
                    "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                              "total_tokens": prompt + completion,
                              "prompt_tokens_details": {"cached_tokens": 0}},
                })
        await _send(stream, conn, h11.Data(data=b"data: [DONE]\n\n"))
        await _send(stream, conn, h11.EndOfMessage())
        await stream.aclose()


def _chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "model": "scripted",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


async def _event(stream: trio.SocketStream, conn: h11.Connection, payload: dict[str, Any]) -> None:
    await _send(stream, conn, h11.Data(data=f"data: {json.dumps(payload)}\n\n".encode()))


async def _send(stream: trio.SocketStream, conn: h11.Connection, event: Any) -> None:
    data = conn.send(event)
    if data:
        await stream.send_all(data)


async def _read_request(conn: h11.Connection, stream: trio.SocketStream) -> tuple[Any, bytes]:
    request = None
    body = b""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            data = await stream.receive_some(65536)
            conn.receive_data(data)
            if not data and request is None:
                return None, b""
            continue
        if isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.Data):
            body += bytes(event.data)
        elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
            return request, body
