"""Check Realtime JSON against the official `openai` SDK schema, undeclared keys included.

    from voxtrio.testing.conformance import check_client_event, check_server_event
    check_client_event(encode(event))          # raises ConformanceError listing every problem
    problems = server_event_problems(payload)  # [] when the event conforms

Contract: an event conforms when (1) it validates, in pydantic strict mode, against the
SDK's `RealtimeClientEvent` / `RealtimeServerEvent` union discriminated by `type`, and
(2) no object anywhere in it carries a key its SDK model does not declare. (2) matters
because the SDK models accept unknown keys, so a misspelt `turn_detecton` would pass (1).
Server events may also carry `id`, `object` and `expires_at` on the session object: real
servers send them, but the SDK's session model does not declare them.

Edge cases: free-form JSON (a tool's `parameters`, `metadata`) is not walked. `openai`
(and with it pydantic) is imported on first use; without it every function raises
`ConformanceUnavailable` telling you what to install. Tested with openai 3.54.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

__all__ = [
    "ConformanceError",
    "ConformanceUnavailable",
    "check_client_event",
    "check_server_event",
    "client_event_problems",
    "openai_version",
    "server_event_problems",
]

# Keys real servers put on the session object that openai's models do not declare.
_SERVER_SESSION_EXTRAS = frozenset({"id", "object", "expires_at"})


class ConformanceError(AssertionError):
    """An event does not conform; `problems` lists each finding as "path: what is wrong"."""

    def __init__(self, direction: str, event_type: str | None, problems: list[str]) -> None:
        lines = "\n  ".join(problems)
        super().__init__(f"{direction} event {event_type!r} does not conform:\n  {lines}")
        self.event_type = event_type
        self.problems = problems


class ConformanceUnavailable(RuntimeError):
    """The `openai` package (the schema oracle) is not installed."""


def check_client_event(event: Mapping[str, Any] | str | bytes) -> None:
    """Raise `ConformanceError` unless `event` is a conforming client event."""
    problems = client_event_problems(event)
    if problems:
        raise ConformanceError("client", _type_of(event), problems)


def check_server_event(event: Mapping[str, Any] | str | bytes) -> None:
    """Raise `ConformanceError` unless `event` is a conforming server event."""
    problems = server_event_problems(event)
    if problems:
        raise ConformanceError("server", _type_of(event), problems)


def client_event_problems(event: Mapping[str, Any] | str | bytes) -> list[str]:
    """Every way `event` fails the client schema (empty list when it conforms)."""
    return _problems(event, _adapters()[0], allowed_extras={})


def server_event_problems(event: Mapping[str, Any] | str | bytes) -> list[str]:
    """Every way `event` fails the server schema (empty list when it conforms)."""
    return _problems(event, _adapters()[1], allowed_extras=_server_allowed_extras())


def openai_version() -> str:
    """Version of the `openai` package used as the schema."""
    return str(_openai().__version__)


# -- internals ---------------------------------------------------------------------------


def _openai() -> Any:
    try:
        import openai
        import openai.types.realtime  # noqa: F401  (GA models; absent before openai 1.103)
    except ImportError as exc:
        raise ConformanceUnavailable(
            "Realtime conformance checks need the openai package (>= 1.103, GA realtime "
            f"types): pip install openai  ({exc})"
        ) from None
    return openai


@functools.cache
def _adapters() -> tuple[Any, Any]:
    _openai()
    from typing import Annotated, Union, get_args

    from openai.types.realtime import RealtimeClientEvent, RealtimeServerEvent
    from pydantic import Field, TypeAdapter

    def discriminated(union: Any) -> Any:
        # The SDK marks the discriminator with its own PropertyInfo, which pydantic
        # ignores; re-wrap so errors name the one member that `type` selects.
        members = get_args(get_args(union)[0])
        target: Any = Annotated[Union[members], Field(discriminator="type")]  # noqa: UP007
        return TypeAdapter(target)

    return discriminated(RealtimeClientEvent), discriminated(RealtimeServerEvent)


@functools.cache
def _server_allowed_extras() -> dict[type, frozenset[str]]:
    _openai()
    from openai.types.realtime import (
        RealtimeSessionCreateRequest,
        RealtimeTranscriptionSessionCreateRequest,
    )

    return {
        RealtimeSessionCreateRequest: _SERVER_SESSION_EXTRAS,
        RealtimeTranscriptionSessionCreateRequest: _SERVER_SESSION_EXTRAS,
    }


def _problems(
    event: Mapping[str, Any] | str | bytes,
    adapter: Any,
    allowed_extras: dict[type, frozenset[str]],
) -> list[str]:
    from pydantic import ValidationError

    if isinstance(event, (str, bytes)):
        try:
            event = json.loads(event)
        except ValueError as exc:
            return [f"<message>: invalid JSON: {exc}"]
    if not isinstance(event, Mapping):
        return [f"<message>: expected a JSON object, got {type(event).__name__}"]
    try:
        model = adapter.validate_python(dict(event), strict=True)
    except ValidationError as exc:
        return [
            f"{_dotted(error['loc'][1:]) or '<event>'}: {error['msg']} ({error['type']})"
            for error in exc.errors(include_url=False)
        ]
    problems: list[str] = []
    _walk(model, [], allowed_extras, problems)
    return problems


def _walk(
    value: Any, path: list[str | int], allowed: dict[type, frozenset[str]], out: list[str]
) -> None:
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        permitted = allowed.get(type(value), frozenset())
        for key in value.model_extra or {}:
            if key not in permitted:
                where = _dotted([*path, key])
                declared = sorted(
                    field.alias or name for name, field in type(value).model_fields.items()
                )
                out.append(
                    f"{where}: key not declared by {type(value).__name__} "
                    f"(declared: {', '.join(declared)})"
                )
        for name, field in type(value).model_fields.items():
            _walk(getattr(value, name), [*path, field.alias or name], allowed, out)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _walk(item, [*path, index], allowed, out)
    elif isinstance(value, dict):
        for key, item in value.items():
            _walk(item, [*path, key], allowed, out)


def _dotted(path: Any) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _type_of(event: Mapping[str, Any] | str | bytes) -> str | None:
    if isinstance(event, (str, bytes)):
        try:
            event = json.loads(event)
        except ValueError:
            return None
    kind = event.get("type") if isinstance(event, Mapping) else None
    return kind if isinstance(kind, str) else None
