"""The one exception the codec raises for bad input.

    try:
        event = decode(text)
    except ProtocolError as exc:
        log.warning("dropping malformed server event %s at %s: %s", exc.event_type, exc.path, exc)

`event_type` is the message's `type` when it could be read (else None); `path` is the
dotted location of the offending value inside the message, e.g.
`response.output[0].content[1].transcript` ("" for the message as a whole).
"""

from __future__ import annotations

__all__ = ["ProtocolError"]


class ProtocolError(ValueError):
    """A message that is not valid JSON or does not match the Realtime schema."""

    def __init__(self, message: str, *, event_type: str | None = None, path: str = "") -> None:
        where = event_type or "message"
        if path:
            where = f"{where}: {path}"
        super().__init__(f"{where}: {message}")
        self.event_type = event_type
        self.path = path
        self.reason = message
