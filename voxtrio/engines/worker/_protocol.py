"""The worker pipe protocol: length-prefixed frames carrying a JSON header and raw bytes.

    frame = encode_frame(Message("audio", call=3, payload=pcm16))
    decoder = FrameDecoder(max_frame_size=8 << 20)
    messages = decoder.feed(chunk)          # zero or more complete `Message`s

Wire format (both directions): a 4-byte big-endian length N, then N bytes: a 4-byte
big-endian header length H, H bytes of UTF-8 JSON `{"op", "call", "data"}`, then the
binary payload (audio), so PCM never goes through JSON. Pure and synchronous: the
parent (trio) and the child (blocking os.read) share it.

Reserved ops: `init`/`ready` (handshake), `ping`/`pong` (health), `cancel` (stop the
call's work), `error` (the child's handler raised; data has `type` and `message`),
`end` (a call's last reply, by convention).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import attrs

__all__ = [
    "DEFAULT_MAX_FRAME_SIZE",
    "FrameDecoder",
    "FrameTooLarge",
    "Message",
    "WorkerHandler",
    "encode_frame",
]

#: 8 MiB holds four minutes of 16 kHz PCM16 in one `recognize` request.
DEFAULT_MAX_FRAME_SIZE = 8 * 1024 * 1024

_LEN = struct.Struct(">I")


class FrameTooLarge(ValueError):
    """A frame exceeds the agreed maximum size (the peer is broken or the data too big)."""


def _frozen_dict(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return dict(value) if value else {}


@attrs.frozen(slots=True)
class Message:
    """One protocol message: an operation name, the call it belongs to, JSON data, bytes.

        Message("synthesize", call=7, data={"text": "hello"})

    `call` ties replies to their request; 0 means "not part of a call".
    """

    op: str
    call: int = 0
    data: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_dict)
    payload: bytes = b""

    def reply(
        self, op: str, data: Mapping[str, Any] | None = None, payload: bytes = b""
    ) -> Message:
        """A message for the same call (what a child handler yields)."""
        return Message(op, call=self.call, data=data or {}, payload=payload)


class WorkerHandler(Protocol):
    """What a worker factory returns (in the child): `handle` yields the replies to a message.

    Optional hooks: `cancel(call)` (the parent abandoned that call) and `close()`
    (the parent closed the pipe).
    """

    def handle(self, message: Message) -> Iterable[Message] | None: ...


def encode_frame(message: Message, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> bytes:
    """Serialise `message` into one frame; FrameTooLarge if it exceeds `max_frame_size`."""
    header = json.dumps(
        {"op": message.op, "call": message.call, "data": message.data}, separators=(",", ":")
    ).encode()
    size = _LEN.size + len(header) + len(message.payload)
    if size > max_frame_size:
        raise FrameTooLarge(
            f"worker frame of {size} bytes exceeds max_frame_size={max_frame_size}; "
            "send the data in smaller pieces or raise max_frame_size"
        )
    return b"".join((_LEN.pack(size), _LEN.pack(len(header)), header, message.payload))


class FrameDecoder:
    """Incremental decoder: feed it bytes as they arrive, get complete messages back.

    Bounded: a frame announcing more than `max_frame_size` bytes raises FrameTooLarge
    before any of it is buffered.
    """

    def __init__(self, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        self.max_frame_size = max_frame_size
        self._buffer = bytearray()

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return len(self._buffer)

    def feed(self, data: bytes | bytearray | memoryview) -> list[Message]:
        self._buffer += data
        messages: list[Message] = []
        while True:
            message = self._next()
            if message is None:
                return messages
            messages.append(message)

    def _next(self) -> Message | None:
        buffer = self._buffer
        if len(buffer) < _LEN.size:
            return None
        (size,) = _LEN.unpack_from(buffer, 0)
        if size > self.max_frame_size or size < _LEN.size:
            raise FrameTooLarge(
                f"peer announced a worker frame of {size} bytes "
                f"(max_frame_size={self.max_frame_size}); the stream is corrupt"
            )
        end = _LEN.size + size
        if len(buffer) < end:
            return None
        (header_size,) = _LEN.unpack_from(buffer, _LEN.size)
        start = 2 * _LEN.size
        header = json.loads(bytes(buffer[start : start + header_size]))
        payload = bytes(buffer[start + header_size : end])
        del buffer[:end]
        return Message(header["op"], call=header["call"], data=header["data"], payload=payload)
