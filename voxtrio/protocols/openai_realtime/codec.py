"""Encode client events to JSON text and decode server events from it.

    text = encode(ResponseCreate())               # '{"type":"response.create"}'
    event = decode(text_from_socket)              # a ServerEvent (UnknownServerEvent if new)
    event = decode_client_event(text)             # the server side: for fakes and tests

Contract: `decode` accepts `str` or UTF-8 `bytes`, and raises only `ProtocolError` for
bad input: invalid JSON (including NaN/Infinity, which JSON does not have), a value
that is not an object, a missing or non-string `type`, a missing required field, or a
value of the wrong type (the error names the event type and the field path). A
well-formed event of an unknown type decodes to `UnknownServerEvent`; keys the schema
does not know are ignored. `decode_client_event` is stricter: an unknown client event
type is a `ProtocolError`, because a server must answer it with an error.
`encode` writes compact JSON with fields left out when None and raises `ProtocolError`
for values JSON cannot hold (NaN, infinity). It works for server events too (fakes).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from ._wire import LENIENT_ENUMS, _FieldError, from_wire, to_wire
from .client_events import CLIENT_EVENT_TYPES, ClientEvent
from .errors import ProtocolError
from .server_events import SERVER_EVENT_TYPES, ServerEvent, UnknownServerEvent
from .values import JsonObject

__all__ = [
    "client_event_from_dict",
    "decode",
    "decode_client_event",
    "encode",
    "parse_json_object",
    "server_event_from_dict",
    "to_dict",
]


def encode(event: ClientEvent | ServerEvent) -> str:
    """Serialize an event to compact JSON text, ready for a WebSocket text frame."""
    try:
        return json.dumps(
            to_dict(event), separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except ValueError as exc:  # NaN / infinity in a float field
        raise ProtocolError(f"cannot encode: {exc}", event_type=event.type) from None


def to_dict(event: ClientEvent | ServerEvent) -> JsonObject:
    """The JSON object of an event (what `encode` serializes)."""
    return cast(JsonObject, to_wire(event))


def decode(text: str | bytes | bytearray, *, lenient_enums: bool = False) -> ServerEvent:
    """Parse one server event (see the module docstring for the error contract).

    With `lenient_enums=True` a string outside an enumeration the schema lists (a new
    `status_details.reason`, say) is accepted as is instead of raising, so a client
    keeps working when the server grows a value; the attribute may then hold a string
    its annotation does not list. Event and item types are still checked.
    """
    return server_event_from_dict(parse_json_object(text), lenient_enums=lenient_enums)


def decode_client_event(text: str | bytes | bytearray) -> ClientEvent:
    """Parse one client event; unknown client types raise `ProtocolError`."""
    return client_event_from_dict(parse_json_object(text))


def server_event_from_dict(data: Mapping[str, Any], *, lenient_enums: bool = False) -> ServerEvent:
    """Decode an already-parsed JSON object as a server event."""
    kind = _event_type(data)
    cls = SERVER_EVENT_TYPES.get(kind)
    if cls is None:
        return UnknownServerEvent(type=kind, raw=dict(data))
    token = LENIENT_ENUMS.set(lenient_enums)
    try:
        return cast(ServerEvent, _from_wire(cls, data, kind))
    finally:
        LENIENT_ENUMS.reset(token)


def client_event_from_dict(data: Mapping[str, Any]) -> ClientEvent:
    """Decode an already-parsed JSON object as a client event."""
    kind = _event_type(data)
    cls = CLIENT_EVENT_TYPES.get(kind)
    if cls is None:
        raise ProtocolError(
            f"unknown client event type {kind!r}; expected one of {sorted(CLIENT_EVENT_TYPES)}",
            event_type=kind,
            path="type",
        )
    return cast(ClientEvent, _from_wire(cls, data, kind))


def parse_json_object(text: str | bytes | bytearray) -> JsonObject:
    """Parse JSON text that must hold one object; raise `ProtocolError` otherwise."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError(f"message is not valid UTF-8: {exc}") from None
    if not isinstance(text, str):
        raise ProtocolError(f"expected JSON text, got {type(text).__name__}")
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ProtocolError("invalid JSON: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, NaN/Infinity, over-long integers
        raise ProtocolError(f"invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"expected a JSON object, got {_json_kind(data)}")
    return data


def _event_type(data: Mapping[str, Any]) -> str:
    if not isinstance(data, Mapping):
        raise ProtocolError(f"expected a JSON object, got {_json_kind(data)}")
    kind = data.get("type")
    if kind is None:
        raise ProtocolError("missing required field", path="type")
    if not isinstance(kind, str):
        raise ProtocolError(f"expected string, got {_json_kind(kind)}", path="type")
    return kind


def _from_wire(cls: type[Any], data: Mapping[str, Any], kind: str) -> Any:
    try:
        return from_wire(cls, dict(data))
    except _FieldError as exc:
        raise ProtocolError(exc.message, event_type=kind, path=exc.dotted()) from None
    except RecursionError:
        raise ProtocolError("nested too deeply", event_type=kind) from None


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
