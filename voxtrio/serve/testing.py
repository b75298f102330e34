"""An in-memory WebSocket pair for transport tests (no sockets, works on virtual time).

    server_ws, client_ws = memory_websocket_pair()
    nursery.start_soon(run_browser_connection, server_ws, factory, info)
    await client_ws.send('{"type":"hello","sample_rate":16000}')
    reply = await client_ws.receive()

Each direction is a bounded trio memory channel (`capacity` messages; a full one makes
`send` wait, like a socket whose peer reads slowly). `close(code, reason)` on one end
ends both directions: the other end's `receive` raises `ConnectionGone` once it has read
what was already sent, and its `close_code` / `close_reason` say how it was closed.
"""

from __future__ import annotations

import trio

from voxtrio.serve.transports.common import ConnectionGone

__all__ = ["MemoryWebSocket", "memory_websocket_pair"]


class MemoryWebSocket:
    """One end of `memory_websocket_pair` (a `WebSocketLike`)."""

    def __init__(
        self,
        send_channel: trio.MemorySendChannel[str | bytes],
        receive_channel: trio.MemoryReceiveChannel[str | bytes],
    ) -> None:
        self._send = send_channel
        self._receive = receive_channel
        self.peer: MemoryWebSocket | None = None
        self.close_code: int | None = None  # set on both ends by whichever closed
        self.close_reason = ""
        self.closed_by_me = False

    async def receive(self) -> str | bytes:
        try:
            return await self._receive.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError, trio.BrokenResourceError):
            raise ConnectionGone("the peer closed the connection") from None

    async def send(self, message: str | bytes) -> None:
        if self.close_code is not None:
            raise ConnectionGone("the connection is closed")
        try:
            await self._send.send(message)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise ConnectionGone("the peer closed the connection") from None

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self.close_code is None:
            self.closed_by_me = True
            for end in (self, self.peer):
                if end is not None:
                    end.close_code = code
                    end.close_reason = reason
        await self._send.aclose()
        if self.peer is not None:
            await self.peer._send.aclose()

    def disconnect(self) -> None:
        """Vanish without a close handshake (a dropped network)."""
        self._send.close()
        self._receive.close()


def memory_websocket_pair(capacity: int = 64) -> tuple[MemoryWebSocket, MemoryWebSocket]:
    """(server end, client end) of an in-memory WebSocket."""
    a_tx, a_rx = trio.open_memory_channel[str | bytes](capacity)
    b_tx, b_rx = trio.open_memory_channel[str | bytes](capacity)
    server = MemoryWebSocket(a_tx, b_rx)
    client = MemoryWebSocket(b_tx, a_rx)
    server.peer = client
    client.peer = server
    return server, client
