"""Record a session's events and assert on them in order.

    recorder = EventRecorder(session)          # subscribes to every event
    await recorder.expect("agent_state_changed", new_state="speaking", within=1.0)
    recorder.names()                            # ["agent_state_changed", ...]
    recorder.log()                              # [(t, name, summary)] for golden comparisons

`expect` looks at events in order: it returns the first event after the previous match
whose name and fields (compared with ==, or with a predicate) fit, waiting for it up to
`within` seconds of trio time; events it skips stay available to later `find` calls but
not to later `expect`s. Every record has the trio time it was emitted at.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import trio

from voxtrio.session.events import EVENT_NAMES

__all__ = ["EventRecorder", "RecordedEvent"]


@attrs.frozen(slots=True)
class RecordedEvent:
    at: float
    name: str
    payload: Any

    def field(self, key: str) -> Any:
        return getattr(self.payload, key)


class EventRecorder:
    """See the module docstring."""

    def __init__(self, session: Any, names: tuple[str, ...] = EVENT_NAMES) -> None:
        self.events: list[RecordedEvent] = []
        self._cursor = 0
        self._changed = trio.Event()
        for name in names:
            session.on(name, self._recorder(name))

    def _recorder(self, name: str) -> Callable[[Any], None]:
        def record(payload: Any = None) -> None:
            self.events.append(RecordedEvent(trio.current_time(), name, payload))
            self._changed.set()
            self._changed = trio.Event()

        return record

    def names(self) -> list[str]:
        return [event.name for event in self.events]

    def find(self, name: str, **fields: Any) -> list[RecordedEvent]:
        """Every recorded event named `name` whose fields match."""
        return [e for e in self.events if e.name == name and _matches(e.payload, fields)]

    async def expect(self, name: str, *, within: float = 5.0, **fields: Any) -> RecordedEvent:
        """The next event named `name` with matching fields; AssertionError after `within` s."""
        with trio.move_on_after(within):
            while True:
                for index in range(self._cursor, len(self.events)):
                    event = self.events[index]
                    if event.name == name and _matches(event.payload, fields):
                        self._cursor = index + 1
                        return event
                await self._changed.wait()
        seen = [f"{e.at:.3f} {e.name} {summarize(e.payload)}" for e in self.events[self._cursor :]]
        raise AssertionError(
            f"no {name} event with {fields} within {within} s; events since the last match:\n  "
            + "\n  ".join(seen or ["(none)"])
        )

    def log(self) -> list[tuple[float, str, str]]:
        """(trio time, name, summary) per event: stable text for comparing two runs."""
        return [(round(e.at, 6), e.name, summarize(e.payload)) for e in self.events]


def _matches(payload: Any, fields: dict[str, Any]) -> bool:
    for key, expected in fields.items():
        try:
            value = _lookup(payload, key)
        except AttributeError:
            return False
        if callable(expected) and not isinstance(expected, type):
            if not expected(value):
                return False
        elif value != expected:
            return False
    return True


def _lookup(payload: Any, dotted: str) -> Any:
    value = payload
    for part in dotted.split("__"):
        value = getattr(value, part)
    return value


_SKIP = {"created_at", "item", "metrics", "error", "function_calls", "function_call_outputs"}


def summarize(payload: Any) -> str:
    """A deterministic one-line summary (ids and wall times left out)."""
    if payload is None or not attrs.has(type(payload)):
        return repr(payload)
    parts: list[str] = []
    for field in attrs.fields(type(payload)):
        if field.name in _SKIP or field.name.endswith("_id"):
            continue
        parts.append(f"{field.name}={getattr(payload, field.name)!r}")
    item = getattr(payload, "item", None)
    if item is not None:
        parts.append(f"item={item.role}:{item.text_content!r}:interrupted={item.interrupted}")
    metrics = getattr(payload, "metrics", None)
    if metrics is not None and attrs.has(type(metrics)):
        parts.append(f"metrics={type(metrics).__name__}")
    return " ".join(parts)
