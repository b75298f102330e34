"""Check that a request really comes from Twilio: the `X-Twilio-Signature` header.

    check = TwilioSignatureCheck(auth_token, public_url="wss://voice.example.com")
    verdict = check.verify(scope)              # an ASGI websocket (or http) scope
    if not verdict.ok:
        ...                                    # refuse: verdict.reason says why
    check.signature("wss://voice.example.com/ws/twilio")   # what Twilio sends for that URL

Twilio signs every request it makes, the WebSocket upgrade of a Media Stream included:
the header is base64(HMAC-SHA1(key=auth token, message=URL + params)), where URL is the
full URL Twilio requested (scheme, host, path and query string, exactly as Twilio wrote
it) and params are the POST form fields sorted by name, each appended as name then value
(values of a repeated name in sorted order). A WebSocket upgrade is a GET, so there are
no params: the message is the URL alone. For a Media Stream the URL is the `<Stream url>`
of the TwiML, which is always `wss://` (Twilio refuses other schemes).

Which URL to check: behind a TLS-terminating proxy the app sees `ws://127.0.0.1:8080`,
not the URL Twilio used. With `public_url` (scheme and host as Twilio sees them, e.g.
"wss://voice.example.com") the check uses it plus the request's path and query string;
a `public_url` with a path may also be the whole stream URL (for a proxy that rewrites a
public path to /ws/twilio). Without it the URL is rebuilt from the request: the
`X-Forwarded-Host` or `Host` header, and the `X-Forwarded-Proto` or the request's scheme
(http/https are mapped to ws/wss); `wss` is also tried, since Twilio only dials `wss://`.

Edge cases: like Twilio's own validators, each URL is also tried without its port and
with the scheme's default port (443 for wss/https, 80 for ws/http), because Twilio's
signing has not been consistent about explicit ports. The host is not lower-cased (Twilio
signs the text it was given). Signatures are compared with `hmac.compare_digest`, against
every candidate URL (no early exit), and never logged. A missing or empty header is
"missing"; anything else that matches no candidate is "bad".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from typing import Any, Final, final
from urllib.parse import urlsplit

import attrs

__all__ = [
    "AUTH_TOKEN_ENV",
    "SIGNATURE_HEADER",
    "TwilioSignatureCheck",
    "TwilioVerdict",
    "check_from_settings",
    "compute_signature",
    "request_urls",
    "url_variants",
    "validate_public_url",
]

SIGNATURE_HEADER: Final = "x-twilio-signature"
AUTH_TOKEN_ENV: Final = "TWILIO_AUTH_TOKEN"

Params = Mapping[str, str | Sequence[str]]
Scope = MutableMapping[str, Any]

_DEFAULT_PORTS: Final = {"wss": 443, "https": 443, "ws": 80, "http": 80}
# Twilio dials Media Streams over wss only; proxies report the HTTP names of the schemes
_WS_SCHEME: Final = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}


def compute_signature(auth_token: str, url: str, params: Params | None = None) -> str:
    """The `X-Twilio-Signature` Twilio sends for `url` (and POST `params`, if any)."""
    fields = params or {}
    message = url
    for name in sorted(fields):
        value = fields[name]
        values = [value] if isinstance(value, str) else sorted(value)
        message += "".join(name + v for v in values)
    digest = hmac.new(auth_token.encode(), message.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def url_variants(url: str) -> tuple[str, ...]:
    """`url` as given, without its port, and with the scheme's default port (deduplicated)."""
    parts = urlsplit(url)
    host, port = _split_port(parts.netloc)
    variants = [url, parts._replace(netloc=host).geturl()]
    default = _DEFAULT_PORTS.get(parts.scheme.lower())
    if port is None and default is not None:
        variants.append(parts._replace(netloc=f"{host}:{default}").geturl())
    return tuple(dict.fromkeys(variants))


def request_urls(scope: Scope, public_url: str | None = None) -> tuple[str, ...]:
    """The URLs Twilio may have signed for this request, before the port variants.

    See the module docstring for how `public_url` and the headers are used.
    """
    path = _request_path(scope)
    query = bytes(scope.get("query_string") or b"").decode("latin-1")
    suffix = f"?{query}" if query else ""
    bases: list[str] = []
    if public_url is not None:
        public = urlsplit(public_url)
        scheme = _WS_SCHEME.get(public.scheme.lower(), public.scheme)
        base = f"{scheme}://{public.netloc}{public.path.rstrip('/')}"
        bases.append(base + path)
        if public.path not in ("", "/"):
            bases.append(base)  # the whole stream URL, for a proxy that rewrites the path
    else:
        headers = _headers(scope)
        host = _first(headers.get("x-forwarded-host")) or headers.get("host") or _server(scope)
        proto = _first(headers.get("x-forwarded-proto")) or str(scope.get("scheme", "ws"))
        scheme = _WS_SCHEME.get(proto.lower(), proto.lower())
        for candidate in dict.fromkeys([scheme, "wss"]):
            bases.append(f"{candidate}://{host}{path}")
    return tuple(dict.fromkeys(base + suffix for base in bases))


@final
@attrs.frozen(slots=True)
class TwilioVerdict:
    """What `TwilioSignatureCheck.verify` found: `ok`, a `reason` when not, the URLs tried."""

    ok: bool
    reason: str
    urls: tuple[str, ...]


@final
@attrs.frozen(slots=True)
class TwilioSignatureCheck:
    """Verifies `X-Twilio-Signature` with the account's auth token (see the module docs).

    `public_url` is the base URL as Twilio sees it ("wss://voice.example.com") or the
    whole stream URL ("wss://voice.example.com/secret-path"); None rebuilds it from the
    request's headers. The token is never in the repr.
    """

    auth_token: str = attrs.field(repr=False)
    public_url: str | None = attrs.field(default=None)

    @auth_token.validator
    def _check_token(self, _attribute: Any, value: str) -> None:
        if not isinstance(value, str) or not value:
            raise ValueError("the Twilio auth token must be a non-empty string (see the Console)")

    @public_url.validator
    def _check_public_url(self, _attribute: Any, value: str | None) -> None:
        if value is not None:
            validate_public_url(value)

    def signature(self, url: str, params: Params | None = None) -> str:
        """The signature Twilio would send for `url` (exactly that URL, no variants)."""
        return compute_signature(self.auth_token, url, params)

    def is_valid(
        self, url: str | Iterable[str], signature: str | None, params: Params | None = None
    ) -> bool:
        """True when `signature` matches `url` (or one of several), or a port variant of it."""
        if not signature:
            return False
        presented = signature.strip().encode()
        urls = [url] if isinstance(url, str) else list(url)
        matched = False
        for candidate in urls:
            for variant in url_variants(candidate):
                expected = self.signature(variant, params).encode()
                # every candidate is compared, in constant time: no early exit on a match
                matched |= hmac.compare_digest(expected, presented)
        return matched

    def verify(self, scope: Scope) -> TwilioVerdict:
        """Check an ASGI scope's `X-Twilio-Signature` against the URL(s) of the request."""
        urls = request_urls(scope, self.public_url)
        signature = _headers(scope).get(SIGNATURE_HEADER, "")
        if not signature.strip():
            return TwilioVerdict(False, "missing Twilio signature", urls)
        if not self.is_valid(urls, signature):
            return TwilioVerdict(False, "bad Twilio signature", urls)
        return TwilioVerdict(True, "", urls)


def validate_public_url(value: str) -> None:
    """Raise ValueError unless `value` is a ws/wss/http/https URL with a host and no query."""
    parts = urlsplit(value)
    if parts.scheme.lower() not in _WS_SCHEME or not parts.netloc:
        raise ValueError(
            f"the Twilio public URL must look like wss://voice.example.com: got {value!r}"
        )
    if parts.query or parts.fragment:
        raise ValueError(
            "the Twilio public URL takes no query string or fragment (the request's own "
            f"query string is appended): got {value!r}"
        )


def check_from_settings(
    auth_token: str | None, public_url: str | None, environ: Mapping[str, str]
) -> TwilioSignatureCheck | None:
    """The check a server should run: `auth_token`, else `$TWILIO_AUTH_TOKEN`, else None."""
    token = auth_token or environ.get(AUTH_TOKEN_ENV, "").strip()
    if not token:
        return None
    return TwilioSignatureCheck(token, public_url)


def _split_port(netloc: str) -> tuple[str, int | None]:
    """("host", port) from "host:port", "[v6]:port" or "host"; userinfo is kept on host."""
    host, sep, port = netloc.rpartition(":")
    if sep and port.isdigit() and not host.endswith(":") and ("]" in host or "[" not in host):
        return host, int(port)
    return netloc, None


def _headers(scope: Scope) -> dict[str, str]:
    return {
        bytes(k).decode("latin-1").lower(): bytes(v).decode("latin-1")
        for k, v in scope.get("headers") or []
    }


def _first(value: str | None) -> str:
    """The first entry of a comma-separated forwarding header (the client-facing proxy's)."""
    return (value or "").split(",")[0].strip()


def _request_path(scope: Scope) -> str:
    raw = scope.get("raw_path")
    if raw:
        # the bytes on the request line, before any decoding (hypercorn strips the query)
        return bytes(raw).decode("latin-1").partition("?")[0]
    return str(scope.get("path") or "/")


def _server(scope: Scope) -> str:
    server = scope.get("server")
    if not server:
        return "localhost"
    host, port = server[0], server[1]
    host = f"[{host}]" if ":" in str(host) else str(host)
    return host if port is None else f"{host}:{port}"
