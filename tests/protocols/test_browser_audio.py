"""Browser audio socket codec: every message both ways, order rules, limits, fuzzing.

Text frames arrive as `str`, binary frames as `bytes` (as trio-websocket returns them).
No sockets: the codec is sans-I/O.
"""

from __future__ import annotations

import ast
import inspect
import json
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voxtrio.audio.frame import AudioFormatError, AudioFrame
from voxtrio.protocols import browser_audio as ba


def tone(rate: int, ms: int = 20) -> AudioFrame:
    t = np.arange(rate * ms // 1000) / rate
    return AudioFrame.from_array((6000 * np.sin(2 * np.pi * 300 * t)).astype(np.int16), rate)


CLIENT_MESSAGES: list[ba.ClientMessage] = [
    ba.Hello(sample_rate=16_000),
    ba.Hello(sample_rate=24_000, token="s3cret"),
    ba.AudioChunk(tone(16_000).to_bytes()),
    ba.AudioChunk(b""),
    ba.Played(speech_id="sp_1", position_ms=1234),
    ba.Bye(),
]
SERVER_MESSAGES: list[ba.ServerMessage] = [
    ba.Ready(sample_rate=24_000),
    ba.Speech(speech_id="sp_1"),
    ba.AudioChunk(tone(24_000).to_bytes()),
    ba.SpeechDone(speech_id="sp_1"),
    ba.Clear(speech_id="sp_1"),
    ba.Clear(),
    ba.State(agent="thinking", user="listening"),
    ba.Transcript(role="user", text="what's the weather", final=False, turn_id="t1"),
    ba.Transcript(role="assistant", text="Sunny. ☀", final=True),
    ba.ErrorMessage(code="bad_hello", message="send hello first"),
]


@pytest.mark.parametrize("message", CLIENT_MESSAGES, ids=repr)
def test_client_messages_round_trip(message: ba.ClientMessage) -> None:
    wire = ba.encode(message)
    assert isinstance(wire, bytes) == isinstance(message, ba.AudioChunk)
    assert ba.decode_client(wire) == message


@pytest.mark.parametrize("message", SERVER_MESSAGES, ids=repr)
def test_server_messages_round_trip(message: ba.ServerMessage) -> None:
    wire = ba.encode(message)
    assert isinstance(wire, bytes) == isinstance(message, ba.AudioChunk)
    assert ba.decode_server(wire) == message


@pytest.mark.parametrize(
    ("message", "wire"),
    [
        (ba.Hello(16_000), {"type": "hello", "sample_rate": 16000, "format": "pcm16"}),
        (ba.Played("sp_1", 40), {"type": "played", "speech_id": "sp_1", "position_ms": 40}),
        (ba.Bye(), {"type": "bye"}),
        (ba.Ready(24_000), {"type": "ready", "sample_rate": 24000, "format": "pcm16"}),
        (ba.Clear(), {"type": "clear"}),
        (ba.State("idle", "away"), {"type": "state", "agent": "idle", "user": "away"}),
        (
            ba.Transcript("user", "hi", True, "t9"),
            {"type": "transcript", "role": "user", "text": "hi", "final": True, "turn_id": "t9"},
        ),
        (ba.ErrorMessage("x", "y"), {"type": "error", "code": "x", "message": "y"}),
    ],
)
def test_text_messages_have_the_documented_shape(message: Any, wire: dict[str, Any]) -> None:
    text = ba.encode(message)
    assert isinstance(text, str) and json.loads(text) == wire


def test_a_page_hello_is_accepted_with_defaults_and_extra_keys() -> None:
    text = json.dumps({"type": "hello", "sample_rate": 24000, "client": "voxtrio-page/1"})
    assert ba.decode_client(text) == ba.Hello(24_000, "pcm16", None)
    played = ba.decode_client('{"type":"played","speech_id":"a","position_ms":12.9}')
    assert played == ba.Played("a", 12)  # rounded down: never claim audio not yet heard


def test_hello_rate_must_be_one_the_server_accepts() -> None:
    hello = json.dumps({"type": "hello", "sample_rate": 48000, "format": "pcm16"})
    with pytest.raises(
        ba.ProtocolError, match="48000 Hz is not accepted; send one of 16000"
    ) as info:
        ba.decode_client(hello, sample_rates=(16_000,))
    assert (info.value.event_type, info.value.path) == ("hello", "sample_rate")
    assert ba.decode_client(hello, sample_rates=(16_000, 48_000)) == ba.Hello(48_000)
    with pytest.raises(ba.ProtocolError, match="only 'pcm16'"):
        ba.decode_client('{"type":"hello","sample_rate":16000,"format":"opus"}')


def test_binary_frames_must_hold_whole_samples_and_fit_the_limit() -> None:
    with pytest.raises(ba.ProtocolError, match="even byte count.*959 bytes") as info:
        ba.decode_client(b"\x00" * 959)
    assert info.value.event_type == "audio"
    with pytest.raises(ba.ProtocolError, match="1000 bytes is over the 960-byte limit"):
        ba.decode_client(b"\x00" * 1000, max_size=960)
    assert ba.decode_client(bytearray(960), max_size=960) == ba.AudioChunk(bytes(960))
    with pytest.raises(ba.ProtocolError, match="over the 100-byte limit"):
        ba.decode_client(json.dumps({"type": "bye", "pad": "é" * 60}), max_size=100)


@pytest.mark.parametrize(
    ("text", "event_type", "path", "reason"),
    [
        ('{"type":"played","position_ms":3}', "played", "speech_id", "missing"),
        ('{"type":"played","speech_id":"a","position_ms":-1}', "played", "position_ms", "0 ms"),
        ('{"type":"played","speech_id":"a","position_ms":true}', "played", "position_ms", "number"),
        ('{"type":"hello","sample_rate":"16000"}', "hello", "sample_rate", "integer"),
        ('{"type":"hello","sample_rate":16000,"token":5}', "hello", "token", "string"),
        ('{"sample_rate":16000}', None, "type", "missing"),
        ('{"type":null}', None, "type", "missing"),
        ("[]", None, "", "JSON object"),
        ('{"type":"hello",', None, "", "invalid JSON"),
    ],
)
def test_bad_client_messages_name_the_type_and_field(
    text: str, event_type: str | None, path: str, reason: str
) -> None:
    with pytest.raises(ba.ProtocolError, match=reason) as info:
        ba.decode_client(text)
    assert (info.value.event_type, info.value.path) == (event_type, path)


@pytest.mark.parametrize(
    ("text", "path", "reason"),
    [
        ('{"type":"transcript","role":"system","text":"x","final":true}', "role", "'user'"),
        ('{"type":"transcript","role":"user","text":"x","final":1}', "final", "boolean"),
        ('{"type":"ready","sample_rate":0}', "sample_rate", "positive"),
        ('{"type":"state","agent":"idle"}', "user", "missing"),
        ('{"type":"speech"}', "speech_id", "missing"),
    ],
)
def test_bad_server_messages_name_the_field(text: str, path: str, reason: str) -> None:
    with pytest.raises(ba.ProtocolError, match=reason) as info:
        ba.decode_server(text)
    assert info.value.path == path


def test_unknown_types_are_kept_both_ways() -> None:
    raw = {"type": "ping", "n": 1}
    for decode in (ba.decode_client, ba.decode_server):
        message = decode(json.dumps(raw))
        assert message == ba.UnknownMessage(type="ping", raw=raw)
        assert json.loads(ba.encode(message)) == raw


def test_the_token_never_shows_in_reprs_or_errors() -> None:
    hello = ba.Hello(16_000, token="s3cret-token")
    assert "s3cret" not in repr(hello)
    with pytest.raises(ba.ProtocolError) as info:
        ba.decode_client(json.dumps({"type": "hello", "sample_rate": 8000, "token": "s3cret"}))
    assert "s3cret" not in str(info.value)


def test_audio_chunks_convert_to_and_from_frames_at_the_agreed_rate() -> None:
    frame = tone(24_000)
    chunk = ba.AudioChunk.from_frame(frame, sample_rate=24_000)
    assert len(chunk.pcm) == 960 and chunk.num_samples == 480
    assert chunk.to_frame(24_000) == frame
    assert "960 bytes" in repr(chunk)
    with pytest.raises(AudioFormatError, match="mono audio at 16000 Hz.*resample"):
        ba.AudioChunk.from_frame(frame, sample_rate=16_000)


# -- ServerConnection: order rules and timing -------------------------------------------


def hello(rate: int = 16_000) -> str:
    return json.dumps({"type": "hello", "sample_rate": rate, "format": "pcm16"})


def test_connection_turns_binary_frames_into_timed_frames_at_the_hello_rate() -> None:
    conn = ba.ServerConnection(sample_rates=(16_000, 24_000))
    assert conn.sample_rate is None
    assert conn.receive(hello(24_000)) == ba.Hello(24_000)
    assert conn.ready() == ba.Ready(24_000) and conn.ready(16_000) == ba.Ready(16_000)
    source = tone(24_000, ms=60)
    pcm = source.to_bytes()
    frames = [conn.receive(pcm[i : i + 960]) for i in range(0, len(pcm), 960)]
    assert all(isinstance(f, AudioFrame) and f.sample_rate == 24_000 for f in frames)
    assert [f.pts for f in frames if isinstance(f, AudioFrame)] == pytest.approx([0, 0.02, 0.04])
    assert conn.samples_received == 1440
    joined = np.concatenate([f.data for f in frames if isinstance(f, AudioFrame)])
    assert np.array_equal(joined, source.data)
    assert conn.receive('{"type":"played","speech_id":"s","position_ms":5}') == ba.Played("s", 5)
    assert conn.receive('{"type":"bye"}') == ba.Bye() and conn.closed


@pytest.mark.parametrize(
    ("messages", "reason"),
    [
        ([b"\x00\x00"], "send hello"),
        (['{"type":"played","speech_id":"s","position_ms":0}'], "send hello"),
        ([hello(), hello()], "only be sent once"),
        ([hello(), '{"type":"bye"}', b"\x00\x00"], "said bye"),
        ([hello(8000)], "8000 Hz is not accepted"),
    ],
)
def test_connection_enforces_the_order_rules(messages: list[str | bytes], reason: str) -> None:
    conn = ba.ServerConnection()
    *before, last = messages
    for message in before:
        conn.receive(message)
    with pytest.raises(ba.ProtocolError, match=reason):
        conn.receive(last)


def test_ready_before_hello_needs_an_explicit_rate() -> None:
    conn = ba.ServerConnection()
    assert conn.ready(24_000) == ba.Ready(24_000)
    with pytest.raises(RuntimeError, match="before the page's hello"):
        conn.ready()


# -- fuzzing: only ProtocolError may escape ---------------------------------------------

json_scalar = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_value = st.recursive(
    json_scalar,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
known_types = st.sampled_from(sorted({*ba.CLIENT_MESSAGE_TYPES, *ba.SERVER_MESSAGE_TYPES}))
field_names = st.sampled_from(
    ["sample_rate", "format", "token", "speech_id", "position_ms", "agent", "user", "role"]
    + ["text", "final", "turn_id", "code", "message"]
)
shaped = st.builds(
    lambda kind, body: {**body, "type": kind},
    known_types | st.text(max_size=12),
    st.dictionaries(field_names | st.text(max_size=8), json_value, max_size=6),
)
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def only_protocol_errors(message: str | bytes) -> None:
    conn = ba.ServerConnection()
    conn.receive(hello())
    decoders = (ba.decode_client, ba.decode_server, conn.receive, ba.ServerConnection().receive)
    for decoder in decoders:
        try:
            decoder(message)
        except ba.ProtocolError:
            pass


@FUZZ
@given(st.text() | st.binary())
def test_fuzz_arbitrary_text_and_bytes(message: str | bytes) -> None:
    only_protocol_errors(message)


@FUZZ
@given(json_value)
def test_fuzz_arbitrary_json(value: Any) -> None:
    only_protocol_errors(json.dumps(value))


@FUZZ
@given(shaped)
def test_fuzz_messages_of_known_types_with_arbitrary_fields(value: dict[str, Any]) -> None:
    only_protocol_errors(json.dumps(value))


def test_the_codec_is_sans_io() -> None:
    """Only the stdlib, attrs and voxtrio.audio: no trio, no sockets (package inits aside)."""
    tree = ast.parse(inspect.getsource(ba))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    allowed = {"__future__", "json", "collections.abc", "typing", "attrs"}
    assert imported - allowed <= {"voxtrio.audio.frame"}
