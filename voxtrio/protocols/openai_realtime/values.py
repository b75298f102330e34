"""Shared value types of the Realtime codec: the explicit-null marker and raw objects.

    AudioInputConfig(turn_detection=NULL)   # sends "turn_detection": null (push-to-talk)
    AudioInputConfig()                      # leaves turn detection as the server has it

Contract: in every codec class `None` means "absent" — the key is left out of the JSON.
The few fields whose JSON `null` means something (turn detection, noise reduction and
input transcription off, tracing off) also accept `NULL`, which encodes as `null`, and
decode `null` back to `NULL`. Elsewhere a `null` from the server decodes to `None`.

`RawObject` carries an object the codec passes through untouched (MCP items and tools,
which voxtrio does not interpret): it decodes from any JSON object whose `type` is not
otherwise known in that position, and encodes back to exactly that object.
"""

from __future__ import annotations

import enum
from typing import Any, Final, Literal

import attrs

__all__ = ["NULL", "JsonObject", "Null", "RawObject"]

JsonObject = dict[str, Any]
"""A JSON object as `json.loads` returns it."""


class _NullType(enum.Enum):
    NULL = "null"

    def __repr__(self) -> str:
        return "NULL"


NULL: Final = _NullType.NULL
"""Explicit JSON `null` (see the module docstring)."""

Null = Literal[_NullType.NULL]
"""The type of `NULL`, for annotations."""


@attrs.frozen
class RawObject:
    """A JSON object passed through unchanged, e.g. an MCP tool or an MCP call item.

        RawObject({"type": "mcp", "server_label": "docs", "server_url": "https://..."})

    `raw` must be a JSON object with a string `type`; `type` mirrors it.
    """

    raw: JsonObject = attrs.field()

    @raw.validator
    def _check_raw(self, _attribute: object, value: JsonObject) -> None:
        if not isinstance(value, dict) or not isinstance(value.get("type"), str):
            raise ValueError("RawObject needs a JSON object with a string 'type'")

    @property
    def type(self) -> str:
        kind: str = self.raw["type"]
        return kind
