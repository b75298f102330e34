"""Generic conversion between codec attrs classes and JSON values (internal).

    data = to_wire(event)                       # attrs instance -> JSON-ready dict
    event = from_wire(SessionUpdate, data)      # JSON dict -> attrs instance, validated

The attrs annotations are the schema: `str`, `int`, `float`, `bool`, `Literal[...]`,
`tuple[X, ...]` (a JSON array), `dict[str, X]`, `Any` (any JSON), other codec classes,
`Null` (explicit JSON null) and unions of these. A codec class whose class attribute
`type` is a string is tagged: it writes that `type` key and unions pick it by the
incoming object's `type`. `RawObject` is the fallback member of a union for objects
whose `type` no other member claims.

Decoding checks every value against its annotation and raises `_FieldError(path, msg)`,
which the public entry points turn into `ProtocolError` naming the event type.
Booleans are never accepted as numbers (JSON `true` is not `1`); integers are accepted
where a float is expected. Keys the schema does not know are ignored, so servers may
add fields without breaking clients.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, Literal, Union, get_args, get_origin

import attrs

from .values import NULL, RawObject, _NullType

__all__ = ["LENIENT_ENUMS", "from_wire", "tag_of", "to_wire"]

_PathPart = str | int

LENIENT_ENUMS: ContextVar[bool] = ContextVar("voxtrio_realtime_lenient_enums", default=False)
"""When set, string enumerations accept values they do not list (see codec.decode)."""


class _FieldError(Exception):
    """A decoding failure at `path` (innermost part last)."""

    def __init__(self, path: list[_PathPart], message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message

    def dotted(self) -> str:
        out = ""
        for part in self.path:
            if isinstance(part, int):
                out += f"[{part}]"
            else:
                out += f".{part}" if out else part
        return out


def tag_of(cls: type) -> str | None:
    """The `type` string a tagged codec class writes, or None for untagged classes."""
    tag = cls.__dict__.get("type")
    return tag if isinstance(tag, str) else None


def to_wire(value: Any) -> Any:
    """Convert a codec value to JSON-ready Python data (dicts, lists, scalars, None)."""
    if value is NULL:
        return None
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    if isinstance(value, RawObject):
        return value.raw
    to_json = getattr(value, "to_json_dict", None)
    if to_json is not None:
        return to_json()
    if attrs.has(type(value)):
        out: dict[str, Any] = {}
        tag = tag_of(type(value))
        if tag is not None:
            out["type"] = tag
        for field in attrs.fields(type(value)):
            item = getattr(value, field.name)
            if item is not None:
                out[field.name] = to_wire(item)
        return out
    if isinstance(value, (tuple, list)):
        return [to_wire(item) for item in value]
    if isinstance(value, dict):
        return {key: to_wire(item) for key, item in value.items()}
    raise TypeError(f"cannot encode a {type(value).__name__} as Realtime JSON")


def from_wire(cls: type[Any], data: Any, path: list[_PathPart] | None = None) -> Any:
    """Decode JSON data into codec class `cls`; raise `_FieldError` on a mismatch."""
    return _decode_class(cls, data, path or [])


# -- decoding ---------------------------------------------------------------------------


@attrs.frozen
class _Field:
    name: str
    annotation: Any
    required: bool


_FIELDS: dict[type, tuple[_Field, ...]] = {}


def _fields(cls: type) -> tuple[_Field, ...]:
    cached = _FIELDS.get(cls)
    if cached is None:
        hints = typing.get_type_hints(cls)
        cached = tuple(
            _Field(field.name, hints[field.name], field.default is attrs.NOTHING)
            for field in attrs.fields(cls)
        )
        _FIELDS[cls] = cached
    return cached


def _decode_class(cls: type[Any], data: Any, path: list[_PathPart]) -> Any:
    if cls is RawObject:
        if not isinstance(data, dict):
            raise _FieldError(path, f"expected object, got {_kind(data)}")
        if not isinstance(data.get("type"), str):
            raise _FieldError([*path, "type"], "missing field (a string is required)")
        return RawObject(data)
    if not isinstance(data, dict):
        raise _FieldError(path, f"expected object, got {_kind(data)}")
    tag = tag_of(cls)
    if tag is not None and "type" in data and data["type"] != tag:
        raise _FieldError([*path, "type"], f"expected {tag!r}, got {data['type']!r}")
    kwargs: dict[str, Any] = {}
    for field in _fields(cls):
        if field.name not in data:
            if field.required:
                raise _FieldError([*path, field.name], "missing required field")
            continue
        kwargs[field.name] = _convert(field.annotation, data[field.name], [*path, field.name])
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:  # attrs validators of the class
        raise _FieldError(path, str(exc)) from None


def _convert(annotation: Any, value: Any, path: list[_PathPart]) -> Any:
    members = _members(annotation)
    if value is None:
        if _NullType in members:
            return NULL
        if type(None) in members or Any in members:
            return None
        raise _FieldError(path, f"expected {_describe(annotation)}, got null")
    return _converter(annotation)(value, path)


@functools.cache
def _members(annotation: Any) -> tuple[Any, ...]:
    """Flatten unions; map `Null` (a one-value Literal of the enum) to `_NullType`."""
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        out: list[Any] = []
        for arg in get_args(annotation):
            out.extend(_members(arg))
        return tuple(out)
    if origin is Literal and get_args(annotation) == (NULL,):
        return (_NullType,)
    return (annotation,)


@functools.cache
def _converter(annotation: Any) -> Callable[[Any, list[_PathPart]], Any]:
    members = [m for m in _members(annotation) if m is not type(None) and m is not _NullType]
    if len(members) == 1:
        return _single(members[0])
    return _union(annotation, tuple(members))


def _single(tp: Any) -> Callable[[Any, list[_PathPart]], Any]:
    description = _describe(tp)

    def fail(value: Any, path: list[_PathPart]) -> typing.NoReturn:
        raise _FieldError(path, f"expected {description}, got {_kind(value)}")

    if tp is Any:
        return lambda value, path: value
    if tp is str:

        def as_str(value: Any, path: list[_PathPart]) -> Any:
            return value if isinstance(value, str) else fail(value, path)

        return as_str
    if tp is bool:

        def as_bool(value: Any, path: list[_PathPart]) -> Any:
            return value if isinstance(value, bool) else fail(value, path)

        return as_bool
    if tp is int:

        def as_int(value: Any, path: list[_PathPart]) -> Any:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            fail(value, path)

        return as_int
    if tp is float:

        def as_float(value: Any, path: list[_PathPart]) -> Any:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
            fail(value, path)

        return as_float
    origin = get_origin(tp)
    if origin is Literal:
        allowed = get_args(tp)

        all_strings = all(isinstance(option, str) for option in allowed)

        def as_literal(value: Any, path: list[_PathPart]) -> Any:
            # bool is an int: `True` must not match the literal 1 (nor 1 match True).
            for option in allowed:
                if value == option and type(value) is type(option):
                    return option
            if all_strings and isinstance(value, str) and LENIENT_ENUMS.get():
                return value
            raise _FieldError(path, f"expected {description}, got {_show(value)}")

        return as_literal
    if origin is tuple:
        (item_tp, _ellipsis) = get_args(tp)

        def as_tuple(value: Any, path: list[_PathPart]) -> Any:
            if not isinstance(value, list):
                fail(value, path)
            return tuple(_convert(item_tp, item, [*path, i]) for i, item in enumerate(value))

        return as_tuple
    if origin is dict:
        (_key_tp, value_tp) = get_args(tp)

        def as_dict(value: Any, path: list[_PathPart]) -> Any:
            if not isinstance(value, dict):
                fail(value, path)
            return {key: _convert(value_tp, item, [*path, key]) for key, item in value.items()}

        return as_dict
    if isinstance(tp, type) and (attrs.has(tp) or tp is RawObject):
        return lambda value, path: _decode_class(tp, value, path)
    raise TypeError(f"codec schema uses an unsupported annotation: {tp!r}")


def _union(annotation: Any, members: tuple[Any, ...]) -> Callable[[Any, list[_PathPart]], Any]:
    """Pick the member by JSON kind, then (for objects) by the `type` key."""
    description = _describe(annotation)
    classes = [m for m in members if isinstance(m, type) and (attrs.has(m) or m is RawObject)]
    tagged = {tag: cls for cls in classes if (tag := tag_of(cls)) is not None}
    untagged = [cls for cls in classes if tag_of(cls) is None and cls is not RawObject]
    fallback = RawObject if RawObject in classes else None
    dict_members = [m for m in members if get_origin(m) is dict or m is Any]
    scalars = [m for m in members if m not in classes and m not in dict_members]

    def convert(value: Any, path: list[_PathPart]) -> Any:
        if isinstance(value, dict):
            if tagged:
                kind = value.get("type")
                if isinstance(kind, str) and kind in tagged:
                    return _decode_class(tagged[kind], value, path)
                if fallback is not None and isinstance(kind, str):
                    return RawObject(value)
                if not untagged and not dict_members:
                    if kind is None:
                        raise _FieldError([*path, "type"], "missing required field")
                    raise _FieldError(
                        [*path, "type"],
                        f"expected one of {sorted(tagged)}, got {_show(kind)}",
                    )
            if untagged:
                return _decode_class(untagged[0], value, path)
            if dict_members:
                return _single(dict_members[0])(value, path)
            raise _FieldError(path, f"expected {description}, got object")
        for member in scalars:
            if member is Any:
                return value
            try:
                return _single(member)(value, path)
            except _FieldError:
                continue
        raise _FieldError(path, f"expected {description}, got {_show(value)}")

    return convert


def _kind(value: Any) -> str:
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
        shown = value if len(value) <= 40 else value[:37] + "..."
        return repr(shown)
    if isinstance(value, (bool, int, float)):
        return f"{_kind(value)} {value!r}"
    return _kind(value)


@functools.cache
def _describe(annotation: Any) -> str:
    parts: list[str] = []
    for member in _members(annotation):
        if member is type(None) or member is _NullType:
            parts.append("null")
        elif member is str:
            parts.append("string")
        elif member is bool:
            parts.append("boolean")
        elif member is int:
            parts.append("integer")
        elif member is float:
            parts.append("number")
        elif member is Any:
            parts.append("any JSON value")
        elif get_origin(member) is Literal:
            parts.append(" | ".join(repr(option) for option in get_args(member)))
        elif get_origin(member) is tuple:
            parts.append("array")
        elif get_origin(member) is dict:
            parts.append("object")
        elif isinstance(member, type):
            tag = tag_of(member)
            parts.append(f"{tag!r} object" if tag else "object")
        else:
            parts.append(str(member))
    return " | ".join(dict.fromkeys(parts))
