"""The browser audio socket: PCM16 binary frames plus JSON text frames for control.

    from voxtrio.protocols import browser_audio as ba

    conn = ba.ServerConnection(sample_rates=(16_000, 24_000))
    match conn.receive(await ws.get_message()):      # str -> JSON message, bytes -> audio
        case ba.Hello(sample_rate=rate): await ws.send_message(ba.encode(conn.ready()))
        case AudioFrame() as frame: ...              # mono PCM16 at the hello's rate, pts set
        case ba.Played(speech_id=sid, position_ms=ms): ...
        case ba.Bye(): ...
    await ws.send_message(ba.encode(ba.Speech("s1")))               # then its audio:
    await ws.send_message(ba.encode(ba.AudioChunk.from_frame(frame, sample_rate=rate)))

Wire format (docs/protocols.md has the full table). Client -> server: text `hello`
(first message: `sample_rate`, `format` "pcm16", optional `token`), binary audio
(PCM16 little-endian mono at the hello's rate, 20 ms recommended), text `played`
(`speech_id`, `position_ms`: how much of that speech the page has played) and `bye`.
Server -> client: text `ready` (`sample_rate` the server sends at), `speech` (the
binary audio that follows belongs to `speech_id`), `speech_done`, `clear` (drop queued
audio of `speech_id`, or all queued audio without one), `state` (`agent`, `user`),
`transcript` (`role`, `text`, `final`, `turn_id`), `error` (`code`, `message`), and
binary audio.

Contract: `decode_client` / `decode_server` take what the WebSocket returned (`str` for
a text frame, bytes for a binary one) and raise only `ProtocolError`: a message over
`max_size` bytes, a binary frame with an odd byte count, invalid JSON, a value that is
not an object, a missing or non-string `type`, a missing or mistyped field, a `hello`
whose rate is not in `sample_rates` or whose format is not "pcm16". A well-formed text
message of an unknown type decodes to `UnknownMessage`; unknown keys are ignored.
`ServerConnection` adds the order rules (hello first and once, nothing after bye).
`hello.token` never appears in reprs or error messages.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Literal, TypeAlias, cast

import attrs

from voxtrio.audio.frame import AudioFormatError, AudioFrame

__all__ = [
    "CLIENT_MESSAGE_TYPES",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "DEFAULT_SAMPLE_RATES",
    "FORMAT",
    "SERVER_MESSAGE_TYPES",
    "AudioChunk",
    "Bye",
    "Clear",
    "ClientMessage",
    "ErrorMessage",
    "Hello",
    "Played",
    "ProtocolError",
    "Ready",
    "ServerConnection",
    "ServerMessage",
    "Speech",
    "SpeechDone",
    "State",
    "Transcript",
    "UnknownMessage",
    "decode_client",
    "decode_server",
    "encode",
]

FORMAT = "pcm16"
"""The only audio format: signed 16-bit little-endian PCM, mono."""

DEFAULT_SAMPLE_RATES = (16_000, 24_000)
"""Rates a server accepts in `hello` unless told otherwise (AudioContext rates)."""

DEFAULT_MAX_MESSAGE_SIZE = 65_536
"""Largest message accepted, in bytes: 1.3 s of audio at 24 kHz; a 20 ms frame is 960."""


class ProtocolError(ValueError):
    """A message that breaks the browser audio protocol.

        except ProtocolError as exc: await ws.aclose(code=1003, reason=str(exc)[:120])

    `event_type` is the message's `type` when it could be read ("audio" for binary
    frames, else None); `path` names the offending field ("" for the whole message).
    """

    def __init__(self, message: str, *, event_type: str | None = None, path: str = "") -> None:
        where = event_type or "message"
        if path:
            where = f"{where}: {path}"
        super().__init__(f"{where}: {message}")
        self.event_type = event_type
        self.path = path
        self.reason = message


# -- both directions --------------------------------------------------------------------


@attrs.frozen(slots=True)
class AudioChunk:
    """A binary frame: PCM16 little-endian mono at the rate agreed by hello / ready.

    chunk = AudioChunk.from_frame(frame, sample_rate=24_000)
    frame = chunk.to_frame(24_000, pts=0.5)
    """

    type: ClassVar[str] = "audio"
    pcm: bytes = attrs.field(repr=lambda pcm: f"<{len(pcm)} bytes>")

    @classmethod
    def from_frame(cls, frame: AudioFrame, *, sample_rate: int) -> AudioChunk:
        """Wrap a mono frame; a frame at another rate raises `AudioFormatError`."""
        if frame.num_channels != 1 or frame.sample_rate != sample_rate:
            raise AudioFormatError(
                f"this socket carries mono audio at {sample_rate} Hz: got "
                f"{frame.num_channels} channel(s) at {frame.sample_rate} Hz; resample and "
                "downmix first (voxtrio.audio.resample)"
            )
        return cls(frame.to_bytes())

    def to_frame(self, sample_rate: int, *, pts: float = 0.0) -> AudioFrame:
        """The samples as a mono frame (the rate is not on the wire: pass the agreed one)."""
        return AudioFrame.from_bytes(self.pcm, sample_rate, num_channels=1, pts=pts)

    @property
    def num_samples(self) -> int:
        return len(self.pcm) // 2


@attrs.frozen(slots=True)
class UnknownMessage:
    """A well-formed text message whose `type` this codec does not know."""

    type: str
    raw: Mapping[str, Any] = attrs.field(repr=False)


# -- client (page) -> server ------------------------------------------------------------


@attrs.frozen(slots=True)
class Hello:
    """First message of a connection: the rate of the audio the page will send.

    `token` is an optional credential (the server may also take one from the query
    string); it is kept out of reprs so it cannot reach logs.
    """

    type: ClassVar[str] = "hello"
    sample_rate: int
    format: str = FORMAT
    token: str | None = attrs.field(default=None, repr=False)


@attrs.frozen(slots=True)
class Played:
    """The page has played `position_ms` milliseconds of speech `speech_id`.

    Sent while a speech plays, when it ends, and after a `clear` (the position where
    playback stopped). Fractional milliseconds are rounded down when decoded.
    """

    type: ClassVar[str] = "played"
    speech_id: str
    position_ms: int


@attrs.frozen(slots=True)
class Bye:
    """The page is leaving; the server ends the session and closes the socket."""

    type: ClassVar[str] = "bye"


# -- server -> client (page) ------------------------------------------------------------


@attrs.frozen(slots=True)
class Ready:
    """Answer to hello: the server accepted it and sends audio at `sample_rate`."""

    type: ClassVar[str] = "ready"
    sample_rate: int
    format: str = FORMAT


@attrs.frozen(slots=True)
class Speech:
    """The binary audio that follows belongs to speech `speech_id` (until the next marker)."""

    type: ClassVar[str] = "speech"
    speech_id: str


@attrs.frozen(slots=True)
class SpeechDone:
    """All audio of `speech_id` has been sent; the page acknowledges its end with `played`."""

    type: ClassVar[str] = "speech_done"
    speech_id: str


@attrs.frozen(slots=True)
class Clear:
    """Interruption: drop queued audio of `speech_id` (all queued audio when None)."""

    type: ClassVar[str] = "clear"
    speech_id: str | None = None


@attrs.frozen(slots=True)
class State:
    """Current agent and user states, e.g. agent "thinking", user "listening".

    Values are the session's (`voxtrio.session.events.AgentState` / `UserState`); they
    are plain strings here so a newer server does not break an older page.
    """

    type: ClassVar[str] = "state"
    agent: str
    user: str


@attrs.frozen(slots=True)
class Transcript:
    """Text of a turn: interim (`final` False) updates replace each other per `turn_id`."""

    type: ClassVar[str] = "transcript"
    role: Literal["user", "assistant"]
    text: str
    final: bool
    turn_id: str | None = None


@attrs.frozen(slots=True)
class ErrorMessage:
    """Something went wrong; `code` is machine-readable, `message` is for people."""

    type: ClassVar[str] = "error"
    code: str
    message: str


ClientMessage: TypeAlias = Hello | AudioChunk | Played | Bye | UnknownMessage
ServerMessage: TypeAlias = (
    Ready | Speech | SpeechDone | AudioChunk | Clear | State | Transcript | ErrorMessage
) | UnknownMessage

CLIENT_MESSAGE_TYPES: Mapping[str, type[ClientMessage]] = {
    cls.type: cls for cls in (Hello, Played, Bye)
}
SERVER_MESSAGE_TYPES: Mapping[str, type[ServerMessage]] = {
    cls.type: cls for cls in (Ready, Speech, SpeechDone, Clear, State, Transcript, ErrorMessage)
}

# -- codec ------------------------------------------------------------------------------


def encode(message: ClientMessage | ServerMessage) -> str | bytes:
    """Bytes for a binary frame (`AudioChunk`), compact JSON text for everything else."""
    if isinstance(message, AudioChunk):
        return message.pcm
    if isinstance(message, UnknownMessage):
        data: dict[str, Any] = dict(message.raw)
    else:
        data = {"type": message.type}
        for field in attrs.fields(type(message)):
            value = getattr(message, field.name)
            if value is not None:
                data[field.name] = value
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def decode_client(
    message: str | bytes | bytearray | memoryview,
    *,
    sample_rates: Iterable[int] = DEFAULT_SAMPLE_RATES,
    max_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
) -> ClientMessage:
    """Parse one message from the page (see the module docstring for the error contract)."""
    if not isinstance(message, str):
        return _audio(message, max_size)
    data = _parse_object(message, max_size)
    kind = _type_of(data)
    read = _Reader(data, kind)
    if kind == "hello":
        rate = read.integer("sample_rate")
        accepted = tuple(sample_rates)
        if rate not in accepted:
            raise read.fail(
                "sample_rate",
                f"{rate} Hz is not accepted; send one of {', '.join(map(str, accepted))} "
                "(set the AudioContext's sampleRate)",
            )
        fmt = read.string("format", required=False) or FORMAT
        if fmt != FORMAT:
            raise read.fail("format", f"only {FORMAT!r} is supported, got {_show(fmt)}")
        return Hello(rate, fmt, read.string("token", required=False))
    if kind == "played":
        return Played(read.string("speech_id"), read.position("position_ms"))
    if kind == "bye":
        return Bye()
    return UnknownMessage(type=kind, raw=data)


def decode_server(
    message: str | bytes | bytearray | memoryview,
    *,
    max_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
) -> ServerMessage:
    """Parse one message from the server: for scripted clients and tests."""
    if not isinstance(message, str):
        return _audio(message, max_size)
    data = _parse_object(message, max_size)
    kind = _type_of(data)
    read = _Reader(data, kind)
    if kind == "ready":
        rate = read.integer("sample_rate")
        if rate <= 0:
            raise read.fail("sample_rate", f"expected a positive number of Hz, got {rate}")
        fmt = read.string("format", required=False) or FORMAT
        if fmt != FORMAT:
            raise read.fail("format", f"only {FORMAT!r} is supported, got {_show(fmt)}")
        return Ready(rate, fmt)
    if kind == "speech":
        return Speech(read.string("speech_id"))
    if kind == "speech_done":
        return SpeechDone(read.string("speech_id"))
    if kind == "clear":
        return Clear(read.string("speech_id", required=False))
    if kind == "state":
        return State(agent=read.string("agent"), user=read.string("user"))
    if kind == "transcript":
        role = read.string("role")
        if role not in ("user", "assistant"):
            raise read.fail("role", f"expected 'user' | 'assistant', got {_show(role)}")
        return Transcript(
            role=cast(Literal["user", "assistant"], role),
            text=read.string("text"),
            final=read.boolean("final"),
            turn_id=read.string("turn_id", required=False),
        )
    if kind == "error":
        return ErrorMessage(code=read.string("code"), message=read.string("message"))
    return UnknownMessage(type=kind, raw=data)


class ServerConnection:
    """Server-side state of one browser socket: decoding plus the order rules.

        conn = ServerConnection(sample_rates=(16_000,))
        event = conn.receive(message)      # Hello | AudioFrame | Played | Bye | UnknownMessage

    The first message must be `hello` (audio or `played` before it, or a second
    hello, is a `ProtocolError`); after `bye` every message is one. Binary frames
    come back as mono `AudioFrame`s at the hello's rate whose `pts` is the number of
    samples received so far over the rate: the socket is ordered and lossless, so
    the sample count is the page's capture clock. Sans-I/O: no clock, no socket.
    """

    def __init__(
        self,
        *,
        sample_rates: Iterable[int] = DEFAULT_SAMPLE_RATES,
        max_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
    ) -> None:
        self.sample_rates = tuple(sample_rates)
        self.max_size = max_size
        self.hello: Hello | None = None
        self.closed = False
        self._samples_in = 0

    @property
    def sample_rate(self) -> int | None:
        """The rate the page announced, None before hello."""
        return None if self.hello is None else self.hello.sample_rate

    @property
    def samples_received(self) -> int:
        """Audio samples received so far (the next frame's pts times the rate)."""
        return self._samples_in

    def receive(
        self, message: str | bytes | bytearray | memoryview
    ) -> Hello | AudioFrame | Played | Bye | UnknownMessage:
        """Decode one message and apply the order rules (see the class docstring)."""
        decoded = decode_client(message, sample_rates=self.sample_rates, max_size=self.max_size)
        if self.closed:
            raise ProtocolError(
                "the page said bye; no messages may follow", event_type=_kind(decoded)
            )
        if isinstance(decoded, Hello):
            if self.hello is not None:
                raise ProtocolError("hello may only be sent once", event_type="hello")
            self.hello = decoded
            return decoded
        if self.hello is None:
            raise ProtocolError(
                "send hello (with the sample rate) before anything else", event_type=_kind(decoded)
            )
        if isinstance(decoded, AudioChunk):
            rate = self.hello.sample_rate
            frame = decoded.to_frame(rate, pts=self._samples_in / rate)
            self._samples_in += decoded.num_samples
            return frame
        if isinstance(decoded, Bye):
            self.closed = True
        return decoded

    def ready(self, sample_rate: int | None = None) -> Ready:
        """The `ready` answer; the server sends at `sample_rate` (default: the page's rate)."""
        if sample_rate is None:
            if self.hello is None:
                raise RuntimeError("ready() needs a sample rate before the page's hello")
            sample_rate = self.hello.sample_rate
        return Ready(sample_rate)


# -- helpers ----------------------------------------------------------------------------


class _Reader:
    """Typed access to the fields of one message, raising `ProtocolError` with the path."""

    def __init__(self, data: Mapping[str, Any], kind: str) -> None:
        self.data = data
        self.kind = kind

    def fail(self, path: str, message: str) -> ProtocolError:
        return ProtocolError(message, event_type=self.kind, path=path)

    def get(
        self, key: str, required: bool, expected: type | tuple[type, ...], described: str
    ) -> Any:
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.fail(key, "missing required field")
            return None
        # JSON `true` is a Python int: never accept a boolean where a number is expected.
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
            raise self.fail(key, f"expected {described}, got {_json_kind(value)}")
        return value

    def string(self, key: str, *, required: bool = True) -> Any:
        return self.get(key, required, str, "string")

    def integer(self, key: str) -> int:
        return cast(int, self.get(key, True, int, "integer"))

    def boolean(self, key: str) -> bool:
        return cast(bool, self.get(key, True, bool, "boolean"))

    def position(self, key: str) -> int:
        value = self.get(key, True, (int, float), "number")
        if value < 0:
            raise self.fail(key, f"expected a position of 0 ms or more, got {value!r}")
        return int(value)


def _audio(data: bytes | bytearray | memoryview, max_size: int | None) -> AudioChunk:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ProtocolError(f"expected str or bytes, got {type(data).__name__}")
    size = memoryview(data).nbytes
    if max_size is not None and size > max_size:
        raise ProtocolError(
            f"binary frame of {size} bytes is over the {max_size}-byte limit; send 20 ms frames",
            event_type="audio",
        )
    if size % 2:
        raise ProtocolError(
            f"PCM16 audio must have an even byte count (2 bytes per sample), got {size} bytes",
            event_type="audio",
        )
    return AudioChunk(bytes(data))


def _parse_object(text: str, max_size: int | None) -> dict[str, Any]:
    # len() counts characters; only encode when the text might be over the byte limit.
    if max_size is not None and len(text) * 4 > max_size:
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > max_size:
            raise ProtocolError(f"message of {size} bytes is over the {max_size}-byte limit")
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ProtocolError("invalid JSON: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, NaN/Infinity, over-long integers
        raise ProtocolError(f"invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"expected a JSON object, got {_json_kind(data)}")
    return data


def _type_of(data: Mapping[str, Any]) -> str:
    kind = data.get("type")
    if kind is None:
        raise ProtocolError("missing required field", path="type")
    if not isinstance(kind, str):
        raise ProtocolError(f"expected string, got {_json_kind(kind)}", path="type")
    return kind


def _kind(message: ClientMessage) -> str:
    return message.type


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, (bool, int, float)):
        return f"{_json_kind(value)} {value!r}"
    return _json_kind(value)
