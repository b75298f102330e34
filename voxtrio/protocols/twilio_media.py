"""Twilio Media Streams: the JSON text frames of a `<Connect><Stream>` WebSocket.

    from voxtrio.protocols import twilio_media as tw

    event = tw.decode(text_from_twilio)              # Connected | Start | Media | ... | UnknownEvent
    match event:
        case tw.Start(stream_sid=sid, media_format=fmt): tw.check_media_format(fmt)
        case tw.Media(): frame = tw.media_frame(event)          # 8 kHz mono AudioFrame
        case tw.Mark(name=name): ...                            # Twilio played up to `name`
    await ws.send_message(tw.encode(tw.media_message(sid, frame_8k)))
    await ws.send_message(tw.encode(tw.Clear(stream_sid=sid)))  # barge-in

Contract: `decode` parses what Twilio sends (connected / start / media / dtmf / mark /
stop) and raises only `ProtocolError` for bad input: invalid JSON or UTF-8, a message
over `max_size` bytes, a value that is not an object, a missing or non-string `event`,
a missing required field or a value of the wrong type (the error names the event and
the field path, e.g. `media: media.payload`). An event of a type this codec does not
know decodes to `UnknownEvent` holding the raw object; keys it does not know are
ignored. `decode_outbound` parses what a server sends to Twilio (media / mark / clear),
for scripted Twilio clients in tests; it is strict, since Twilio answers an unknown
event with error 31951. `encode` writes either direction as compact JSON.

Counters and timestamps (`sequenceNumber`, `chunk`, `timestamp`) are decimal strings
on the wire and plain `int`s here; decoding also accepts JSON integers (some
Twilio-compatible servers send them) and encoding always writes strings. Audio
payloads are base64 μ-law on the wire and the raw μ-law `bytes` here; the helpers at
the end convert them to and from 8 kHz mono `AudioFrame`s.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar, TypeAlias, cast

import attrs

from voxtrio.audio.frame import AudioFormatError, AudioFrame
from voxtrio.audio.g711 import ulaw_decode, ulaw_encode

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "INBOUND_EVENT_TYPES",
    "OUTBOUND_EVENT_TYPES",
    "SAMPLE_RATE",
    "Clear",
    "Connected",
    "Dtmf",
    "InboundEvent",
    "Mark",
    "Media",
    "MediaFormat",
    "OutboundMark",
    "OutboundMedia",
    "OutboundMessage",
    "ProtocolError",
    "Start",
    "Stop",
    "UnknownEvent",
    "check_media_format",
    "decode",
    "decode_outbound",
    "encode",
    "frame_from_base64",
    "frame_from_ulaw",
    "frame_to_base64",
    "frame_to_ulaw",
    "media_frame",
    "media_message",
]

SAMPLE_RATE = 8_000
"""Media Streams audio is μ-law at 8 kHz, mono, both ways."""

DEFAULT_MAX_MESSAGE_SIZE = 65_536
"""Largest message `decode` accepts, in UTF-8 bytes; a 20 ms media frame is ~300."""


class ProtocolError(ValueError):
    """A frame that is not valid JSON or does not match the Media Streams schema.

        except ProtocolError as exc: log.warning("%s at %s", exc.event_type, exc.path)

    `event_type` is the message's `event` when it could be read (else None); `path` is
    the dotted location of the bad value, e.g. `media.payload` ("" for the whole message).
    """

    def __init__(self, message: str, *, event_type: str | None = None, path: str = "") -> None:
        where = event_type or "message"
        if path:
            where = f"{where}: {path}"
        super().__init__(f"{where}: {message}")
        self.event_type = event_type
        self.path = path
        self.reason = message


# -- Twilio -> server -------------------------------------------------------------------


@attrs.frozen(slots=True)
class Connected:
    """First frame of every stream: `{"event":"connected","protocol":"Call","version":"1.0.0"}`."""

    event: ClassVar[str] = "connected"
    protocol: str = "Call"
    version: str = "1.0.0"


@attrs.frozen(slots=True)
class MediaFormat:
    """`start.mediaFormat`; Twilio always announces μ-law, 8000 Hz, one channel."""

    encoding: str = "audio/x-mulaw"
    sample_rate: int = SAMPLE_RATE
    channels: int = 1


@attrs.frozen(slots=True)
class Start:
    """Sent once after `connected`: the stream's identity, tracks and parameters.

    `custom_parameters` holds the TwiML `<Parameter name value>` children. `stream_sid`
    is the top-level `streamSid` (falling back to `start.streamSid`); every message the
    server sends must carry it.
    """

    event: ClassVar[str] = "start"
    stream_sid: str
    account_sid: str
    call_sid: str
    tracks: tuple[str, ...] = ("inbound",)
    custom_parameters: Mapping[str, str] = attrs.field(factory=dict)
    media_format: MediaFormat = attrs.field(factory=MediaFormat)
    sequence_number: int | None = None


@attrs.frozen(slots=True)
class Media:
    """One chunk of caller audio, normally 20 ms = 160 bytes of μ-law.

    `chunk` counts per track from 1; `timestamp` is milliseconds since the stream
    started (`media_frame` uses it as the frame's pts). `payload` is raw μ-law.
    """

    event: ClassVar[str] = "media"
    stream_sid: str
    payload: bytes
    track: str = "inbound"
    chunk: int | None = None
    timestamp: int | None = None
    sequence_number: int | None = None


@attrs.frozen(slots=True)
class Dtmf:
    """A key press on a bidirectional stream: `digit` is "0"-"9", "*" or "#"."""

    event: ClassVar[str] = "dtmf"
    stream_sid: str
    digit: str
    track: str = "inbound_track"
    sequence_number: int | None = None


@attrs.frozen(slots=True)
class Mark:
    """Echo of an `OutboundMark`: audio queued before it finished playing or was cleared."""

    event: ClassVar[str] = "mark"
    stream_sid: str
    name: str
    sequence_number: int | None = None


@attrs.frozen(slots=True)
class Stop:
    """Last frame of the stream (the call ended or the stream was stopped)."""

    event: ClassVar[str] = "stop"
    stream_sid: str
    account_sid: str | None = None
    call_sid: str | None = None
    sequence_number: int | None = None


@attrs.frozen(slots=True)
class UnknownEvent:
    """A well-formed message whose `event` this codec does not know; `raw` is the object."""

    event: str
    raw: Mapping[str, Any] = attrs.field(repr=False)


InboundEvent: TypeAlias = Connected | Start | Media | Dtmf | Mark | Stop | UnknownEvent

# -- server -> Twilio -------------------------------------------------------------------


@attrs.frozen(slots=True)
class OutboundMedia:
    """Audio to play to the caller: raw μ-law at 8 kHz, any length (no WAV header)."""

    event: ClassVar[str] = "media"
    stream_sid: str
    payload: bytes


@attrs.frozen(slots=True)
class OutboundMark:
    """Ask Twilio to echo a `Mark` named `name` once the audio sent before it has played."""

    event: ClassVar[str] = "mark"
    stream_sid: str
    name: str


@attrs.frozen(slots=True)
class Clear:
    """Drop all audio Twilio has buffered for the caller; pending marks are echoed back."""

    event: ClassVar[str] = "clear"
    stream_sid: str


OutboundMessage: TypeAlias = OutboundMedia | OutboundMark | Clear

INBOUND_EVENT_TYPES: Mapping[str, type[InboundEvent]] = {
    cls.event: cls for cls in (Connected, Start, Media, Dtmf, Mark, Stop)
}
OUTBOUND_EVENT_TYPES: Mapping[str, type[OutboundMessage]] = {
    cls.event: cls for cls in (OutboundMedia, OutboundMark, Clear)
}

# -- codec ------------------------------------------------------------------------------


def encode(message: InboundEvent | OutboundMessage) -> str:
    """Compact JSON text for a WebSocket text frame, in Twilio's shape (counters as strings)."""
    return json.dumps(_to_dict(message), separators=(",", ":"), ensure_ascii=False)


def decode(
    text: str | bytes | bytearray, *, max_size: int | None = DEFAULT_MAX_MESSAGE_SIZE
) -> InboundEvent:
    """Parse one frame Twilio sent (see the module docstring for the error contract)."""
    data = _parse_object(text, max_size)
    kind = _event_of(data)
    if kind not in INBOUND_EVENT_TYPES:
        return UnknownEvent(event=kind, raw=data)
    return _Reader(data, kind).inbound()


def decode_outbound(
    text: str | bytes | bytearray, *, max_size: int | None = DEFAULT_MAX_MESSAGE_SIZE
) -> OutboundMessage:
    """Parse one frame a server sent to Twilio; unknown events raise `ProtocolError`."""
    data = _parse_object(text, max_size)
    kind = _event_of(data)
    if kind not in OUTBOUND_EVENT_TYPES:
        raise ProtocolError(
            f"unknown event {kind!r}; a server may send {sorted(OUTBOUND_EVENT_TYPES)}",
            event_type=kind,
            path="event",
        )
    return _Reader(data, kind).outbound()


def check_media_format(fmt: MediaFormat) -> None:
    """Raise `ProtocolError` unless `fmt` is μ-law, 8000 Hz, mono (what this codec speaks)."""
    if (fmt.encoding, fmt.sample_rate, fmt.channels) != ("audio/x-mulaw", SAMPLE_RATE, 1):
        raise ProtocolError(
            f"unsupported media format {fmt.encoding!r} at {fmt.sample_rate} Hz with "
            f"{fmt.channels} channel(s); only 'audio/x-mulaw' at 8000 Hz mono is supported",
            event_type="start",
            path="start.mediaFormat",
        )


# -- audio payloads ---------------------------------------------------------------------


def frame_from_ulaw(payload: bytes | bytearray | memoryview, *, pts: float = 0.0) -> AudioFrame:
    """Decode raw μ-law bytes into an 8 kHz mono frame (one sample per byte)."""
    return AudioFrame.from_bytes(ulaw_decode(payload), SAMPLE_RATE, num_channels=1, pts=pts)


def frame_to_ulaw(frame: AudioFrame) -> bytes:
    """Encode an 8 kHz mono frame as raw μ-law; other rates raise `AudioFormatError`."""
    if frame.num_channels != 1 or frame.sample_rate != SAMPLE_RATE:
        raise AudioFormatError(
            f"Twilio Media Streams carry mono audio at {SAMPLE_RATE} Hz: got "
            f"{frame.num_channels} channel(s) at {frame.sample_rate} Hz; resample and "
            "downmix first (voxtrio.audio.resample)"
        )
    return ulaw_encode(frame.to_bytes())


def frame_from_base64(payload: str, *, pts: float = 0.0) -> AudioFrame:
    """Decode a wire payload (base64 μ-law) into an 8 kHz mono frame."""
    return frame_from_ulaw(_b64decode(payload, event_type=None, path=""), pts=pts)


def frame_to_base64(frame: AudioFrame) -> str:
    """Encode an 8 kHz mono frame as a wire payload (base64 μ-law)."""
    return base64.b64encode(frame_to_ulaw(frame)).decode("ascii")


def media_frame(event: Media, *, pts: float | None = None) -> AudioFrame:
    """The audio of a `Media` event; pts defaults to its `timestamp` in seconds (or 0)."""
    if pts is None:
        pts = (event.timestamp or 0) / 1000.0
    return frame_from_ulaw(event.payload, pts=pts)


def media_message(stream_sid: str, frame: AudioFrame) -> OutboundMedia:
    """An `OutboundMedia` that plays `frame` (8 kHz mono) on stream `stream_sid`."""
    return OutboundMedia(stream_sid=stream_sid, payload=frame_to_ulaw(frame))


# -- helpers ----------------------------------------------------------------------------

_DIGITS = re.compile(r"[0-9]{1,19}")


def _to_dict(message: InboundEvent | OutboundMessage) -> dict[str, Any]:
    if isinstance(message, UnknownEvent):
        return dict(message.raw)
    out: dict[str, Any] = {"event": message.event}
    seq = getattr(message, "sequence_number", None)
    if seq is not None:
        out["sequenceNumber"] = str(seq)
    if isinstance(message, Connected):
        out.update(protocol=message.protocol, version=message.version)
        return out
    out["streamSid"] = message.stream_sid
    if isinstance(message, Start):
        fmt = message.media_format
        out["start"] = {
            "streamSid": message.stream_sid,
            "accountSid": message.account_sid,
            "callSid": message.call_sid,
            "tracks": list(message.tracks),
            "customParameters": dict(message.custom_parameters),
            "mediaFormat": {
                "encoding": fmt.encoding,
                "sampleRate": fmt.sample_rate,
                "channels": fmt.channels,
            },
        }
    elif isinstance(message, Media):
        media: dict[str, Any] = {"track": message.track}
        if message.chunk is not None:
            media["chunk"] = str(message.chunk)
        if message.timestamp is not None:
            media["timestamp"] = str(message.timestamp)
        media["payload"] = base64.b64encode(message.payload).decode("ascii")
        out["media"] = media
    elif isinstance(message, Dtmf):
        out["dtmf"] = {"track": message.track, "digit": message.digit}
    elif isinstance(message, (Mark, OutboundMark)):
        out["mark"] = {"name": message.name}
    elif isinstance(message, Stop):
        stop = {"accountSid": message.account_sid, "callSid": message.call_sid}
        out["stop"] = {key: value for key, value in stop.items() if value is not None}
    elif isinstance(message, OutboundMedia):
        out["media"] = {"payload": base64.b64encode(message.payload).decode("ascii")}
    return out  # Clear: event and streamSid only


class _Reader:
    """Typed access to one decoded object, raising `ProtocolError` with the field path."""

    def __init__(self, data: Mapping[str, Any], kind: str) -> None:
        self.data = data
        self.kind = kind

    def inbound(self) -> InboundEvent:
        kind, seq = self.kind, self.counter(self.data, "sequenceNumber", required=False)
        if kind == "connected":
            return Connected(
                protocol=self.opt_string(self.data, "protocol") or "Call",
                version=self.opt_string(self.data, "version") or "1.0.0",
            )
        if kind == "start":
            start = self.object(self.data, "start")
            sid = self.opt_string(self.data, "streamSid")
            fmt = self.object(start, "mediaFormat", prefix="start")
            params = self.object(start, "customParameters", prefix="start", required=False)
            for key, value in params.items():
                self.check(value, str, f"start.customParameters.{key}", "string")
            return Start(
                stream_sid=sid or self.string(start, "streamSid", prefix="start"),
                account_sid=self.string(start, "accountSid", prefix="start"),
                call_sid=self.string(start, "callSid", prefix="start"),
                tracks=self.strings(start, "tracks", prefix="start") or ("inbound",),
                custom_parameters=dict(params),
                media_format=MediaFormat(
                    encoding=self.string(fmt, "encoding", prefix="start.mediaFormat"),
                    sample_rate=self.integer(fmt, "sampleRate", prefix="start.mediaFormat"),
                    channels=self.integer(fmt, "channels", prefix="start.mediaFormat"),
                ),
                sequence_number=seq,
            )
        sid = self.string(self.data, "streamSid")
        if kind == "media":
            media = self.object(self.data, "media")
            return Media(
                stream_sid=sid,
                payload=self.payload(media, "media"),
                track=self.opt_string(media, "track", "media") or "inbound",
                chunk=self.counter(media, "chunk", prefix="media", required=False),
                timestamp=self.counter(media, "timestamp", prefix="media", required=False),
                sequence_number=seq,
            )
        if kind == "dtmf":
            dtmf = self.object(self.data, "dtmf")
            track = self.opt_string(dtmf, "track", "dtmf")
            return Dtmf(
                stream_sid=sid,
                digit=self.string(dtmf, "digit", prefix="dtmf"),
                track=track or "inbound_track",
                sequence_number=seq,
            )
        if kind == "mark":
            mark = self.object(self.data, "mark")
            return Mark(sid, self.string(mark, "name", prefix="mark"), sequence_number=seq)
        stop = self.object(self.data, "stop", required=False)
        return Stop(
            stream_sid=sid,
            account_sid=self.opt_string(stop, "accountSid", "stop"),
            call_sid=self.opt_string(stop, "callSid", "stop"),
            sequence_number=seq,
        )

    def outbound(self) -> OutboundMessage:
        sid = self.string(self.data, "streamSid")
        if self.kind == "media":
            return OutboundMedia(sid, self.payload(self.object(self.data, "media"), "media"))
        if self.kind == "mark":
            return OutboundMark(sid, self.string(self.object(self.data, "mark"), "name", "mark"))
        return Clear(sid)

    # Field readers: `prefix` is the dotted path of the object `obj` sits at.

    def fail(self, path: str, message: str) -> ProtocolError:
        return ProtocolError(message, event_type=self.kind, path=path)

    def check(self, value: Any, kind: type, path: str, described: str) -> None:
        # JSON `true` is a Python int: never accept a boolean where a number is expected.
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise self.fail(path, f"expected {described}, got {_json_kind(value)}")

    def get(self, obj: Mapping[str, Any], key: str, prefix: str, required: bool) -> Any:
        if key not in obj or obj[key] is None:
            if required:
                raise self.fail(_join(prefix, key), "missing required field")
            return None
        return obj[key]

    def object(
        self, obj: Mapping[str, Any], key: str, prefix: str = "", *, required: bool = True
    ) -> Mapping[str, Any]:
        value = self.get(obj, key, prefix, required)
        if value is None:
            return {}
        self.check(value, dict, _join(prefix, key), "object")
        return cast("dict[str, Any]", value)

    def string(self, obj: Mapping[str, Any], key: str, prefix: str = "") -> str:
        value = self.get(obj, key, prefix, True)
        self.check(value, str, _join(prefix, key), "string")
        return cast(str, value)

    def opt_string(self, obj: Mapping[str, Any], key: str, prefix: str = "") -> str | None:
        value = self.get(obj, key, prefix, False)
        if value is not None:
            self.check(value, str, _join(prefix, key), "string")
        return cast("str | None", value)

    def strings(self, obj: Mapping[str, Any], key: str, prefix: str) -> tuple[str, ...]:
        value = self.get(obj, key, prefix, False)
        if value is None:
            return ()
        path = _join(prefix, key)
        self.check(value, list, path, "array of strings")
        for i, item in enumerate(value):
            self.check(item, str, f"{path}[{i}]", "string")
        return tuple(value)

    def integer(self, obj: Mapping[str, Any], key: str, prefix: str) -> int:
        value = self.get(obj, key, prefix, True)
        self.check(value, int, _join(prefix, key), "integer")
        return int(value)

    def counter(
        self, obj: Mapping[str, Any], key: str, prefix: str = "", *, required: bool = True
    ) -> int | None:
        value = self.get(obj, key, prefix, required)
        if value is None:
            return None
        path = _join(prefix, key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        if isinstance(value, str) and _DIGITS.fullmatch(value):
            return int(value)
        raise self.fail(path, f'expected a decimal string like "12", got {_show(value)}')

    def payload(self, obj: Mapping[str, Any], prefix: str) -> bytes:
        text = self.string(obj, "payload", prefix)
        return _b64decode(text, event_type=self.kind, path=f"{prefix}.payload")


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _b64decode(text: str, *, event_type: str | None, path: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProtocolError(
            f"audio is not valid base64: {exc}", event_type=event_type, path=path
        ) from None


def _parse_object(text: str | bytes | bytearray, max_size: int | None) -> dict[str, Any]:
    if isinstance(text, (bytes, bytearray)):
        if max_size is not None and len(text) > max_size:
            raise ProtocolError(f"message of {len(text)} bytes is over the {max_size}-byte limit")
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError(f"message is not valid UTF-8: {exc}") from None
    elif not isinstance(text, str):
        raise ProtocolError(f"expected JSON text, got {type(text).__name__}")
    elif max_size is not None and len(text) * 4 > max_size:
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


def _event_of(data: Mapping[str, Any]) -> str:
    kind = data.get("event")
    if kind is None:
        raise ProtocolError("missing required field", path="event")
    if not isinstance(kind, str):
        raise ProtocolError(f"expected string, got {_json_kind(kind)}", path="event")
    return kind


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
