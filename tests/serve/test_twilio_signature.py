"""`X-Twilio-Signature` on /ws/twilio: the algorithm against known vectors, the URL Twilio
signed (ports, proxies, `public_url`), and a real server refusing unsigned calls.

Rules: expected signatures are computed here with hmac/hashlib/base64, independently of
the module, or taken from Twilio's published examples. Servers run on 127.0.0.1, port 0;
every wait is bounded with `trio.fail_after`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import pytest
import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from voxtrio.engines.fake import FakeTTS
from voxtrio.engines.fake_llm import FakeLLM
from voxtrio.protocols import twilio_media as tw
from voxtrio.serve import twilio_signature as ts
from voxtrio.serve.asgi import VoxtrioApp
from voxtrio.serve.limits import ServerLimits
from voxtrio.serve.server import RunningServer, ServeOptions, serve
from voxtrio.serve.transports.common import ConnectionInfo
from voxtrio.session.agent import Agent
from voxtrio.session.session import AgentSession
from voxtrio.testing.user import ScriptedUser

AUTH = "f00dcafe0123456789abcdef01234567"
SID = "MZ00000000000000000000000000000042"


def hmac_sha1_b64(key: str, message: str) -> str:
    """Twilio's signature, written out here so the module is checked against it."""
    return base64.b64encode(
        hmac.new(key.encode(), message.encode(), hashlib.sha1).digest()
    ).decode()


def scope(
    path: str = "/ws/twilio",
    *,
    headers: dict[str, str] | None = None,
    query: bytes = b"",
    scheme: str = "ws",
) -> dict[str, Any]:
    """An ASGI websocket scope as hypercorn builds it (host header included)."""
    all_headers = {"host": "127.0.0.1:8080", **(headers or {})}
    return {
        "type": "websocket",
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": [(k.encode(), v.encode()) for k, v in all_headers.items()],
        "server": ("127.0.0.1", 8080),
    }


# -- the algorithm ----------------------------------------------------------------------

# Twilio's documented example (docs "Security: validating requests", and the official
# helper libraries' tests): auth token 12345, this URL and these POST fields.
DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}


def test_twilio_published_example_vector() -> None:
    assert ts.compute_signature("12345", DOC_URL, DOC_PARAMS) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    check = ts.TwilioSignatureCheck("12345")
    assert check.is_valid(DOC_URL, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", DOC_PARAMS)
    assert not check.is_valid(DOC_URL + "&baz=3", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", DOC_PARAMS)
    assert not check.is_valid(
        DOC_URL, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", {**DOC_PARAMS, "Digits": "9"}
    )


def test_port_variants_match_the_official_validators_vectors() -> None:
    # the helper libraries' vectors: signed with :443 / :80 / :1234, validated without
    check = ts.TwilioSignatureCheck("12345")
    assert check.is_valid(DOC_URL, "kvajT1Ptam85bY51eRf/AJRuM3w=", DOC_PARAMS)  # :443 signed
    http = DOC_URL.replace("https", "http")
    assert check.is_valid(http, "0ZXoZLH/DfblKGATFgpif+LLRf4=", DOC_PARAMS)  # :80 signed
    with_port = DOC_URL.replace(".com", ".com:1234")
    assert check.is_valid(with_port, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", DOC_PARAMS)  # port removed
    assert check.is_valid(
        with_port.replace("https", "http"), "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", DOC_PARAMS
    )


def test_repeated_post_fields_are_appended_in_sorted_order() -> None:
    params = {"Sid": "CA123", "SidAccount": "AC123", "Digits": ["5678", "1234"]}
    assert ts.compute_signature("12345", DOC_URL, params) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    expected = hmac_sha1_b64("12345", DOC_URL + "Digits1234Digits5678SidCA123SidAccountAC123")
    assert ts.compute_signature("12345", DOC_URL, params) == expected


def test_a_websocket_upgrade_signs_the_url_alone() -> None:
    url = "wss://voice.example.com/ws/twilio"
    assert ts.compute_signature(AUTH, url) == hmac_sha1_b64(AUTH, url)
    check = ts.TwilioSignatureCheck(AUTH)
    assert check.signature(url) == hmac_sha1_b64(AUTH, url)
    assert check.is_valid(url, hmac_sha1_b64(AUTH, url))
    assert not check.is_valid(url, hmac_sha1_b64("another-token", url))
    assert not check.is_valid(url, hmac_sha1_b64(AUTH, url.replace("/ws/twilio", "/ws/browser")))
    assert not check.is_valid(url, "")
    assert not check.is_valid(url, None)


def test_explicit_and_default_ports_are_interchangeable_for_wss() -> None:
    check = ts.TwilioSignatureCheck(AUTH)
    plain, explicit = "wss://voice.example.com/ws/twilio", "wss://voice.example.com:443/ws/twilio"
    assert check.is_valid(plain, hmac_sha1_b64(AUTH, explicit))
    assert check.is_valid(explicit, hmac_sha1_b64(AUTH, plain))
    # ws:// defaults to 80, not 443
    assert check.is_valid("ws://h/x", hmac_sha1_b64(AUTH, "ws://h:80/x"))
    assert not check.is_valid("ws://h/x", hmac_sha1_b64(AUTH, "ws://h:443/x"))
    # a custom port is kept or dropped, never swapped for another
    assert check.is_valid("wss://h:8443/x", hmac_sha1_b64(AUTH, "wss://h:8443/x"))
    assert check.is_valid("wss://h:8443/x", hmac_sha1_b64(AUTH, "wss://h/x"))
    assert not check.is_valid("wss://h:8443/x", hmac_sha1_b64(AUTH, "wss://h:9443/x"))
    assert ts.url_variants("wss://[::1]:8443/x") == ("wss://[::1]:8443/x", "wss://[::1]/x")
    # Twilio signs the host as written: no case folding
    assert not check.is_valid(
        "wss://Voice.example.com/x", hmac_sha1_b64(AUTH, "wss://voice.example.com/x")
    )


def test_every_candidate_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(ts.hmac, "compare_digest", spy)
    check = ts.TwilioSignatureCheck(AUTH)
    url = "wss://voice.example.com/ws/twilio"
    assert check.is_valid(url, hmac_sha1_b64(AUTH, url))
    # the match is the first variant, yet the :443 variant was compared as well
    assert len(calls) == 2
    assert all(b == hmac_sha1_b64(AUTH, url).encode() for _, b in calls)


# -- which URL ---------------------------------------------------------------------------


def test_the_url_is_rebuilt_from_host_and_scheme_without_a_public_url() -> None:
    assert ts.request_urls(scope()) == (
        "ws://127.0.0.1:8080/ws/twilio",
        "wss://127.0.0.1:8080/ws/twilio",  # Twilio only dials wss
    )
    assert ts.request_urls(scope(query=b"a=1&b=%2B2")) == (
        "ws://127.0.0.1:8080/ws/twilio?a=1&b=%2B2",
        "wss://127.0.0.1:8080/ws/twilio?a=1&b=%2B2",
    )
    # behind a proxy: X-Forwarded-Proto (http names map to ws ones) and X-Forwarded-Host
    proxied = scope(
        headers={"x-forwarded-proto": "https, http", "x-forwarded-host": "voice.example.com"}
    )
    assert ts.request_urls(proxied) == ("wss://voice.example.com/ws/twilio",)
    assert ts.request_urls(scope(headers={"host": "voice.example.com"})) == (
        "ws://voice.example.com/ws/twilio",
        "wss://voice.example.com/ws/twilio",
    )


def test_a_public_url_replaces_scheme_and_host() -> None:
    assert ts.request_urls(scope(), "wss://voice.example.com") == (
        "wss://voice.example.com/ws/twilio",
    )
    assert ts.request_urls(scope(), "https://voice.example.com/") == (
        "wss://voice.example.com/ws/twilio",
    )
    # with a path: a mount prefix, or the whole stream URL of a rewriting proxy
    assert ts.request_urls(scope(), "wss://voice.example.com/k3y") == (
        "wss://voice.example.com/k3y/ws/twilio",
        "wss://voice.example.com/k3y",
    )
    assert ts.request_urls(scope(query=b"x=1"), "wss://voice.example.com") == (
        "wss://voice.example.com/ws/twilio?x=1",
    )
    for bad in ("voice.example.com", "ftp://voice.example.com", "wss://v.example/?a=1", "wss://"):
        with pytest.raises(ValueError, match="wss://voice.example.com|query"):
            ts.TwilioSignatureCheck(AUTH, bad)
        with pytest.raises(ValueError):
            ServerLimits(twilio_public_url=bad)


def test_verify_reads_the_header_from_the_scope() -> None:
    check = ts.TwilioSignatureCheck(AUTH, "wss://voice.example.com")
    good = hmac_sha1_b64(AUTH, "wss://voice.example.com/ws/twilio")
    verdict = check.verify(scope(headers={"x-twilio-signature": good}))
    assert verdict.ok and verdict.urls == ("wss://voice.example.com/ws/twilio",)
    assert check.verify(scope()).reason == "missing Twilio signature"
    assert (
        check.verify(scope(headers={"x-twilio-signature": " "})).reason
        == "missing Twilio signature"
    )
    wrong = hmac_sha1_b64(AUTH, "ws://127.0.0.1:8080/ws/twilio")  # the app's own view
    assert (
        check.verify(scope(headers={"x-twilio-signature": wrong})).reason == "bad Twilio signature"
    )


def test_settings_token_environment_and_secrecy() -> None:
    assert ts.check_from_settings(None, None, {}) is None
    assert ts.check_from_settings(None, None, {"TWILIO_AUTH_TOKEN": " "}) is None
    from_env = ts.check_from_settings(None, "wss://v.example", {"TWILIO_AUTH_TOKEN": AUTH})
    assert from_env == ts.TwilioSignatureCheck(AUTH, "wss://v.example")
    assert ts.check_from_settings("explicit", None, {"TWILIO_AUTH_TOKEN": AUTH}) == (
        ts.TwilioSignatureCheck("explicit")
    )
    with pytest.raises(ValueError, match="auth token"):
        ts.TwilioSignatureCheck("")
    assert AUTH not in repr(ts.TwilioSignatureCheck(AUTH))
    assert AUTH not in repr(ServerLimits(twilio_auth_token=AUTH))


def test_the_app_takes_the_environment_token_and_an_explicit_check_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    assert VoxtrioApp(lambda info: None).twilio_signature is None
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH)
    assert VoxtrioApp(lambda info: None).twilio_signature == ts.TwilioSignatureCheck(AUTH)
    limits = ServerLimits(twilio_auth_token="from-limits", twilio_public_url="wss://v.example")
    assert VoxtrioApp(lambda info: None, limits=limits).twilio_signature == (
        ts.TwilioSignatureCheck("from-limits", "wss://v.example")
    )
    explicit = ts.TwilioSignatureCheck("explicit")
    app = VoxtrioApp(lambda info: None, limits=limits, twilio_signature=explicit)
    assert app.twilio_signature is explicit


# -- a real server -----------------------------------------------------------------------


class Calls:
    """What the session factory saw: one entry per session actually built."""

    def __init__(self) -> None:
        self.infos: list[ConnectionInfo] = []
        self.built = trio.Event()

    def factory(self, info: ConnectionInfo) -> tuple[AgentSession, Agent]:
        self.infos.append(info)
        self.built.set()
        user = ScriptedUser()
        session = AgentSession(
            vad=user.vad(), stt=user.stt(), llm=FakeLLM([]), tts=FakeTTS(audio_duration=0.2)
        )
        return session, Agent()


@asynccontextmanager
async def running(calls: Calls, **limits: Any) -> AsyncIterator[RunningServer]:
    options = ServeOptions(
        host="127.0.0.1", port=0, limits=ServerLimits(shutdown_grace=2.0, **limits)
    )
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            server: RunningServer = await nursery.start(
                partial(serve, calls.factory, options, handle_signals=False)
            )
            try:
                yield server
            finally:
                server.request_shutdown(immediately=True)


def twilio_url(server: RunningServer) -> str:
    return server.url.replace("http://", "ws://") + "/ws/twilio"


def signed(url: str, token: str = AUTH) -> list[tuple[bytes, bytes]]:
    return [(b"x-twilio-signature", hmac_sha1_b64(token, url).encode())]


async def refused(url: str, headers: list[tuple[bytes, bytes]] | None = None) -> tuple[int, str]:
    """Open a socket as Twilio would and return the server's close (code, reason)."""
    with trio.fail_after(5):
        async with open_websocket_url(url, extra_headers=headers or []) as ws:
            try:
                await ws.send_message(tw.encode(tw.Connected()))
                await ws.send_message(
                    tw.encode(tw.Start(stream_sid=SID, account_sid="AC1", call_sid="CA9"))
                )
                while True:
                    await ws.get_message()
            except ConnectionClosed as exc:
                assert exc.reason is not None
                return exc.reason.code, exc.reason.reason or ""
    raise AssertionError("unreachable")


async def call(url: str, headers: list[tuple[bytes, bytes]], calls: Calls) -> int:
    """A Media Stream that gets a session: connected, start, the factory runs, stop -> 1000."""
    with trio.fail_after(10):
        async with open_websocket_url(url, extra_headers=headers) as ws:
            await ws.send_message(tw.encode(tw.Connected()))
            await ws.send_message(
                tw.encode(
                    tw.Start(stream_sid=SID, account_sid="AC1", call_sid="CA1", sequence_number=1)
                )
            )
            await calls.built.wait()
            await ws.send_message(
                tw.encode(tw.Stop(stream_sid=SID, account_sid="AC1", call_sid="CA1"))
            )
            try:
                while True:
                    await ws.get_message()
            except ConnectionClosed as exc:
                assert exc.reason is not None
                return exc.reason.code
    raise AssertionError("unreachable")


async def test_a_signed_call_gets_a_session_and_unsigned_ones_are_refused_4401(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    calls = Calls()
    async with running(calls, twilio_auth_token=AUTH) as server:
        url = twilio_url(server)
        assert await refused(url) == (4401, "unauthorized: missing Twilio signature")
        assert await refused(url, signed(url, token="wrong-token")) == (
            4401,
            "unauthorized: bad Twilio signature",
        )
        other_path = url.replace("/ws/twilio", "/ws/browser")
        assert (await refused(url, signed(other_path)))[0] == 4401
        metrics = server.app.metrics
        assert calls.infos == [] and metrics.sessions_total.value == 0, "no session leaked"
        assert metrics.connections_rejected.value == 3
        assert server.app.live_sessions == 0

        assert await call(url, signed(url), calls) == 1000
        assert len(calls.infos) == 1 and calls.infos[0].query["twilio.call_sid"] == "CA1"
        assert "x-twilio-signature" not in calls.infos[0].headers  # replayable: not passed on
        assert metrics.sessions_total.value == 1
    server_log = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("voxtrio"))
    assert "bad Twilio signature (4401)" in server_log
    assert "missing Twilio signature (4401)" in server_log
    assert hmac_sha1_b64(AUTH, url) not in server_log and AUTH not in server_log


async def test_behind_a_proxy_the_public_url_or_forwarded_headers_are_what_twilio_signed() -> None:
    public = "wss://voice.example.com/ws/twilio"
    calls = Calls()
    async with running(
        calls, twilio_auth_token=AUTH, twilio_public_url="wss://voice.example.com"
    ) as server:
        url = twilio_url(server)
        assert (await refused(url, signed(url)))[0] == 4401  # the app's own view is not it
        assert await call(url, signed(public), calls) == 1000
    # no public URL: a proxy's X-Forwarded-Proto / X-Forwarded-Host rebuild it
    calls = Calls()
    async with running(calls, twilio_auth_token=AUTH) as server:
        forwarded = [(b"x-forwarded-proto", b"https"), (b"x-forwarded-host", b"voice.example.com")]
        assert await call(twilio_url(server), forwarded + signed(public), calls) == 1000


async def test_the_signature_stands_in_for_the_token_on_the_twilio_route_only() -> None:
    calls = Calls()
    async with running(calls, token="s3cret", twilio_auth_token=AUTH) as server:
        url = twilio_url(server)
        assert await call(url, signed(url), calls) == 1000  # Twilio cannot send the token
        assert (await refused(url, [(b"authorization", b"Bearer s3cret")]))[0] == 4401
        browser = url.replace("/ws/twilio", "/ws/browser")
        code, reason = await refused(browser)
        assert (code, reason) == (4401, "unauthorized: missing or wrong token")


async def test_unconfigured_twilio_sockets_pass_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    caplog.set_level(logging.WARNING)
    calls = Calls()
    async with running(calls) as server:
        assert await call(twilio_url(server), [], calls) == 1000
        calls.built = trio.Event()
        assert await call(twilio_url(server), [], calls) == 1000
    warnings = [r for r in caplog.records if "not verified" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING


async def test_the_environment_token_turns_the_check_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH)
    calls = Calls()
    async with running(calls) as server:
        url = twilio_url(server)
        assert (await refused(url))[0] == 4401
        assert await call(url, signed(url), calls) == 1000
