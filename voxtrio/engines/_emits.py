"""The event surface every engine shares: `on`, `once`, `off`, `emit`, `events`.

    class MySTT(EmitsEvents):
        def __init__(self) -> None:
            self._events = EventEmitter(valid_events=("metrics_collected", "error"))

    stt.on("metrics_collected", print)     # or @stt.on("metrics_collected")
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from voxtrio.core.emitter import EventEmitter

__all__ = ["EmitsEvents"]


class EmitsEvents:
    """Delegates to `self._events`, the engine's `EventEmitter` (set by its __init__)."""

    _events: EventEmitter

    @property
    def events(self) -> EventEmitter:
        """The emitter behind `on`/`off`/`emit` (for `events.events(...)` streams)."""
        return self._events

    def on(self, event: str, callback: Callable[..., Any] | None = None) -> Any:
        """Subscribe to an engine event ("metrics_collected", "error"); a decorator when
        `callback` is None."""
        return self._events.on(event, callback) if callback else self._events.on(event)

    def once(self, event: str, callback: Callable[..., Any] | None = None) -> Any:
        return self._events.once(event, callback) if callback else self._events.once(event)

    def off(self, event: str, callback: Callable[..., Any]) -> None:
        self._events.off(event, callback)

    def emit(self, event: str, *args: Any) -> None:
        self._events.emit(event, *args)
