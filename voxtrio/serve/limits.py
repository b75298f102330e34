"""Connection limits of `voxtrio serve` and the close codes that report them.

    limits = ServerLimits(token="s3cret", allowed_origins=("https://app.example",),
                          max_sessions=50, max_message_size=64 * 1024, idle_timeout=30.0)
    if not token_ok(limits, headers, query): ...   # close with CLOSE_UNAUTHORIZED

Every refusal accepts the WebSocket and closes it at once with a code and a reason, because
a browser page can read a close code but never the HTTP status of a refused upgrade:

    4401  missing or wrong token (header `Authorization: Bearer T` or query `?token=T`);
          on /ws/twilio with a Twilio auth token: missing or bad `X-Twilio-Signature`
    4403  the browser route got an `Origin` that is not in the allow-list
    1013  "try again later": `max_sessions` sessions are already running
    1009  a message larger than `max_message_size` bytes (closed by hypercorn itself)
    4408  no message from the peer for `idle_timeout` seconds
    1007  malformed JSON or an invalid frame (reported by the transport)
    1011  the session crashed (the server and the other sessions keep running)
    1001  the server is shutting down (after the `shutdown_grace` deadline)

Tokens are compared in constant time and never logged; `redact_query` drops the token
from a query dict before anything else sees it. `twilio_auth_token` (or `$TWILIO_AUTH_TOKEN`)
turns on the `X-Twilio-Signature` check of /ws/twilio (voxtrio.serve.twilio_signature);
it then replaces the token on that route, since Twilio cannot send one.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from voxtrio.serve.twilio_signature import validate_public_url

__all__ = [
    "CLOSE_GOING_AWAY",
    "CLOSE_IDLE",
    "CLOSE_INTERNAL_ERROR",
    "CLOSE_INVALID_DATA",
    "CLOSE_FORBIDDEN_ORIGIN",
    "CLOSE_TOO_BIG",
    "CLOSE_TRY_AGAIN_LATER",
    "CLOSE_UNAUTHORIZED",
    "ServerLimits",
    "origin_ok",
    "redact_query",
    "token_ok",
]

CLOSE_GOING_AWAY = 1001
CLOSE_INVALID_DATA = 1007
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL_ERROR = 1011
CLOSE_TRY_AGAIN_LATER = 1013
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_IDLE = 4408


def _positive_or_none(_inst: Any, attribute: Any, value: Any) -> None:
    if value is not None and not (isinstance(value, (int, float)) and value > 0):
        raise ValueError(f"{attribute.name} must be > 0 or None: got {value!r}")


def _public_url_or_none(_inst: Any, _attribute: Any, value: str | None) -> None:
    if value is not None:
        validate_public_url(value)


def _origins(value: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


@attrs.frozen(slots=True, kw_only=True)
class ServerLimits:
    """What the server accepts. None disables a limit (token, origins, idle timeout)."""

    token: str | None = attrs.field(default=None, repr=False)  # never in reprs or logs
    # routes the token guards: Twilio cannot send one (see docs/serve.md), so a deployment
    # may guard only "browser" and protect /ws/twilio at the proxy instead
    token_routes: tuple[str, ...] = attrs.field(default=("browser", "twilio"), converter=tuple)
    allowed_origins: tuple[str, ...] | None = attrs.field(default=None, converter=_origins)
    max_sessions: int = attrs.field(default=100, validator=_positive_or_none)
    max_message_size: int = attrs.field(default=64 * 1024, validator=_positive_or_none)
    idle_timeout: float | None = attrs.field(default=60.0, validator=_positive_or_none)
    shutdown_grace: float = attrs.field(default=30.0, validator=_positive_or_none)
    # verify X-Twilio-Signature on /ws/twilio with this auth token (None: $TWILIO_AUTH_TOKEN,
    # read by VoxtrioApp); `twilio_public_url` is the URL as Twilio sees it, behind a proxy
    twilio_auth_token: str | None = attrs.field(default=None, repr=False)
    twilio_public_url: str | None = attrs.field(default=None, validator=_public_url_or_none)


def token_ok(
    limits: ServerLimits, route: str, headers: Mapping[str, str], query: Mapping[str, str]
) -> bool:
    """True when no token guards `route`, or the bearer header or `token` query matches."""
    if limits.token is None or route not in limits.token_routes:
        return True
    expected = limits.token.encode()
    auth = headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    candidates = []
    if scheme.lower() == "bearer" and value:
        candidates.append(value.strip())
    if "token" in query:
        candidates.append(query["token"])
    return any(hmac.compare_digest(c.encode(), expected) for c in candidates)


def origin_ok(limits: ServerLimits, headers: Mapping[str, str]) -> bool:
    """True when no allow-list is set or the `Origin` header is in it (exact match).

    A request without `Origin` is not from a browser page and passes: the check stops other
    sites' pages from opening sockets with the visitor's credentials, it is not auth.
    """
    if limits.allowed_origins is None:
        return True
    origin = headers.get("origin")
    if origin is None:
        return True
    return origin.rstrip("/") in {o.rstrip("/") for o in limits.allowed_origins}


def redact_query(query: Mapping[str, str]) -> dict[str, str]:
    """The query without its `token` (so the factory, events and logs never see it)."""
    return {k: v for k, v in query.items() if k != "token"}
