"""Twilio Media Streams codec: realistic frames, round trips, μ-law audio, fuzzing.

The fixture frames follow Twilio's documented shapes (counters and timestamps as strings,
base64 μ-law payloads of 160 bytes per 20 ms). No sockets: the codec is sans-I/O.
"""

from __future__ import annotations

import ast
import base64
import inspect
import json
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voxtrio.audio.frame import AudioFormatError, AudioFrame
from voxtrio.audio.g711 import ulaw_encode
from voxtrio.protocols import twilio_media as tw

SID = "MZ18ad3ab5a668481ce02b83e7395059f0"
ACCOUNT = "AC25e16e9a716a4a1786a7c83f58e30482"
CALL = "CA0f1f2e6c4b2b4b7bb0b5d8f0e1c2d3e4"


def sine(ms: int, amplitude: int = 8000, rate: int = 8000) -> AudioFrame:
    t = np.arange(rate * ms // 1000) / rate
    return AudioFrame.from_array((amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.int16), rate)


ULAW_20MS = ulaw_encode(sine(20).to_bytes())

CALL_FRAMES = [
    {"event": "connected", "protocol": "Call", "version": "1.0.0"},
    {
        "event": "start",
        "sequenceNumber": "1",
        "start": {
            "accountSid": ACCOUNT,
            "streamSid": SID,
            "callSid": CALL,
            "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            "customParameters": {"caller": "+15550100", "lang": "en"},
        },
        "streamSid": SID,
    },
    {
        "event": "media",
        "sequenceNumber": "2",
        "media": {
            "track": "inbound",
            "chunk": "1",
            "timestamp": "5",
            "payload": base64.b64encode(ULAW_20MS).decode(),
        },
        "streamSid": SID,
    },
    {
        "event": "media",
        "sequenceNumber": "3",
        "media": {
            "track": "inbound",
            "chunk": "2",
            "timestamp": "25",
            "payload": base64.b64encode(b"\xff" * 160).decode(),
        },
        "streamSid": SID,
    },
    {
        "event": "dtmf",
        "streamSid": SID,
        "sequenceNumber": "4",
        "dtmf": {"track": "inbound_track", "digit": "7"},
    },
    {"event": "mark", "sequenceNumber": "5", "streamSid": SID, "mark": {"name": "speech-1"}},
    {
        "event": "stop",
        "sequenceNumber": "6",
        "streamSid": SID,
        "stop": {"accountSid": ACCOUNT, "callSid": CALL},
    },
]


def test_a_realistic_call_decodes_to_typed_events() -> None:
    events = [tw.decode(json.dumps(frame)) for frame in CALL_FRAMES]
    connected, start, media, silence, dtmf, mark, stop = events
    assert connected == tw.Connected(protocol="Call", version="1.0.0")
    assert isinstance(start, tw.Start)
    assert start.stream_sid == SID and start.call_sid == CALL and start.account_sid == ACCOUNT
    assert start.sequence_number == 1 and start.tracks == ("inbound",)
    assert start.custom_parameters == {"caller": "+15550100", "lang": "en"}
    assert start.media_format == tw.MediaFormat("audio/x-mulaw", 8000, 1)
    tw.check_media_format(start.media_format)
    assert isinstance(media, tw.Media)
    assert (media.track, media.chunk, media.timestamp, media.sequence_number) == (
        "inbound",
        1,
        5,
        2,
    )
    assert media.payload == ULAW_20MS and len(media.payload) == 160
    assert isinstance(silence, tw.Media) and silence.timestamp == 25
    assert dtmf == tw.Dtmf(stream_sid=SID, digit="7", track="inbound_track", sequence_number=4)
    assert mark == tw.Mark(stream_sid=SID, name="speech-1", sequence_number=5)
    assert stop == tw.Stop(stream_sid=SID, account_sid=ACCOUNT, call_sid=CALL, sequence_number=6)


def test_media_audio_is_an_8khz_frame_timed_by_the_stream_timestamp() -> None:
    _, _, media, silence, *_ = [tw.decode(json.dumps(frame)) for frame in CALL_FRAMES]
    assert isinstance(media, tw.Media) and isinstance(silence, tw.Media)
    frame = tw.media_frame(media)
    assert frame.sample_rate == 8000 and frame.num_channels == 1
    assert frame.samples_per_channel == 160 and frame.pts == pytest.approx(0.005)
    quiet = tw.media_frame(silence, pts=1.0)
    assert quiet.pts == 1.0 and np.abs(quiet.data).max() == 0  # 0xff is μ-law zero


@pytest.mark.parametrize("frame", CALL_FRAMES, ids=lambda f: f["event"])
def test_encoding_a_decoded_frame_gives_the_same_json(frame: dict[str, Any]) -> None:
    event = tw.decode(json.dumps(frame))
    assert json.loads(tw.encode(event)) == frame
    assert tw.decode(tw.encode(event)) == event


@pytest.mark.parametrize(
    "message",
    [
        tw.OutboundMedia(stream_sid=SID, payload=ULAW_20MS),
        tw.OutboundMedia(stream_sid=SID, payload=b""),
        tw.OutboundMark(stream_sid=SID, name="speech-1"),
        tw.Clear(stream_sid=SID),
    ],
    ids=lambda m: m.event,
)
def test_outbound_messages_round_trip_in_twilios_shape(message: tw.OutboundMessage) -> None:
    text = tw.encode(message)
    assert tw.decode_outbound(text) == message
    data = json.loads(text)
    assert data["event"] == message.event and data["streamSid"] == SID
    if isinstance(message, tw.OutboundMedia):
        assert data["media"] == {"payload": base64.b64encode(message.payload).decode()}
    if isinstance(message, tw.Clear):
        assert data == {"event": "clear", "streamSid": SID}


def test_counters_are_written_as_strings_and_integers_are_accepted() -> None:
    event = tw.Media(stream_sid=SID, payload=b"\x7f", chunk=12, timestamp=240, sequence_number=9)
    media = json.loads(tw.encode(event))
    assert media["sequenceNumber"] == "9"
    assert (media["media"]["chunk"], media["media"]["timestamp"]) == ("12", "240")
    media["media"]["chunk"], media["sequenceNumber"] = 12, 9  # a Twilio-compatible server
    assert tw.decode(json.dumps(media)) == event


def test_minimal_frames_fill_documented_defaults() -> None:
    payload = base64.b64encode(b"\xff\xff").decode()
    media = tw.decode(
        json.dumps({"event": "media", "streamSid": SID, "media": {"payload": payload}})
    )
    assert media == tw.Media(stream_sid=SID, payload=b"\xff\xff")
    stop = tw.decode(json.dumps({"event": "stop", "streamSid": SID}))
    assert stop == tw.Stop(stream_sid=SID)
    start = tw.decode(
        json.dumps(
            {
                "event": "start",
                "start": {
                    "streamSid": SID,
                    "accountSid": ACCOUNT,
                    "callSid": CALL,
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                },
            }
        )
    )
    assert isinstance(start, tw.Start) and start.stream_sid == SID and start.tracks == ("inbound",)


def test_unknown_events_are_kept_not_fatal() -> None:
    frame = {"event": "transcription", "streamSid": SID, "text": "hello"}
    event = tw.decode(json.dumps(frame))
    assert event == tw.UnknownEvent(event="transcription", raw=frame)
    assert json.loads(tw.encode(event)) == frame


@pytest.mark.parametrize(
    ("frame", "event_type", "path", "reason"),
    [
        ({"event": "media", "streamSid": SID}, "media", "media", "missing"),
        ({"event": "media", "streamSid": SID, "media": {}}, "media", "media.payload", "missing"),
        (
            {"event": "media", "streamSid": SID, "media": {"payload": "not base64!"}},
            "media",
            "media.payload",
            "base64",
        ),
        (
            {"event": "media", "streamSid": SID, "media": {"payload": "", "chunk": "one"}},
            "media",
            "media.chunk",
            "decimal string",
        ),
        ({"event": "mark", "streamSid": SID, "mark": {"name": 3}}, "mark", "mark.name", "string"),
        ({"event": "dtmf", "dtmf": {"digit": "1"}}, "dtmf", "streamSid", "missing"),
        (
            {"event": "start", "streamSid": SID, "start": {"accountSid": ACCOUNT, "callSid": CALL}},
            "start",
            "start.mediaFormat",
            "missing",
        ),
        (
            {"event": "stop", "streamSid": SID, "sequenceNumber": True},
            "stop",
            "sequenceNumber",
            "decimal string",
        ),
        ({"streamSid": SID}, None, "event", "missing"),
        ({"event": 7}, None, "event", "string"),
    ],
)
def test_bad_frames_name_the_event_and_field(
    frame: dict[str, Any], event_type: str | None, path: str, reason: str
) -> None:
    with pytest.raises(tw.ProtocolError, match=reason) as info:
        tw.decode(json.dumps(frame))
    assert (info.value.event_type, info.value.path) == (event_type, path)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "invalid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"event": "media", "x": NaN}', "NaN"),
        (b"\xff\xfe", "UTF-8"),
        ('{"event": "mark", "pad": "' + "x" * 70_000 + '"}', "over the 65536-byte limit"),
    ],
)
def test_malformed_input_is_a_protocol_error(text: str | bytes, reason: str) -> None:
    with pytest.raises(tw.ProtocolError, match=reason):
        tw.decode(text)


def test_outbound_decoding_is_strict_about_event_names() -> None:
    with pytest.raises(tw.ProtocolError, match="unknown event 'stop'"):
        tw.decode_outbound(json.dumps({"event": "stop", "streamSid": SID}))


def test_other_media_formats_are_refused_with_advice() -> None:
    with pytest.raises(tw.ProtocolError, match="only 'audio/x-mulaw' at 8000 Hz"):
        tw.check_media_format(tw.MediaFormat("audio/x-l16", 16000, 1))


def test_ulaw_payload_round_trips_within_quantisation_error() -> None:
    frame = sine(20)
    payload = tw.frame_to_base64(frame)
    assert len(base64.b64decode(payload)) == 160
    back = tw.frame_from_base64(payload, pts=0.5)
    assert back.sample_rate == 8000 and back.pts == 0.5
    error = np.abs(back.data.astype(np.int32) - frame.data.astype(np.int32))
    assert 0 < error.max() <= 128  # within half a step: μ-law steps near 8000 are 256 wide
    message = tw.media_message(SID, frame)
    assert tw.media_frame(tw.Media(SID, message.payload)) == back.with_pts(0.0)


def test_audio_at_the_wrong_rate_is_refused_with_advice() -> None:
    with pytest.raises(AudioFormatError, match="mono audio at 8000 Hz.*resample"):
        tw.frame_to_ulaw(sine(20, rate=16_000))
    with pytest.raises(tw.ProtocolError, match="base64"):
        tw.frame_from_base64("%%%")


def test_reprs_do_not_dump_unknown_raw_objects() -> None:
    assert "raw" not in repr(tw.UnknownEvent(event="x", raw={"secret": "s"}))


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
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def only_protocol_errors(text: str | bytes) -> None:
    for decoder in (tw.decode, tw.decode_outbound):
        try:
            decoder(text)
        except tw.ProtocolError:
            pass


@FUZZ
@given(st.text() | st.binary())
def test_fuzz_arbitrary_text_and_bytes(data: str | bytes) -> None:
    only_protocol_errors(data)


@FUZZ
@given(json_value)
def test_fuzz_arbitrary_json(value: Any) -> None:
    only_protocol_errors(json.dumps(value))


@st.composite
def mutated_frames(draw: st.DrawFn) -> dict[str, Any]:
    """A fixture frame (inbound or outbound) with one value replaced or one key removed."""
    outbound = [json.loads(tw.encode(m)) for m in (tw.OutboundMark(SID, "m"), tw.Clear(SID))]
    frame: dict[str, Any] = json.loads(json.dumps(draw(st.sampled_from(CALL_FRAMES + outbound))))
    node = frame
    while True:
        key = draw(st.sampled_from(sorted(node)))
        if isinstance(node[key], dict) and node[key] and draw(st.booleans()):
            node = node[key]
            continue
        if draw(st.booleans()):
            del node[key]
        else:
            node[key] = draw(json_value)
        return frame


@FUZZ
@given(mutated_frames())
def test_fuzz_mutated_frames(frame: dict[str, Any]) -> None:
    only_protocol_errors(json.dumps(frame))


def test_the_codec_is_sans_io() -> None:
    """Only the stdlib, attrs and voxtrio.audio: no trio, no sockets (package inits aside)."""
    tree = ast.parse(inspect.getsource(tw))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    allowed = {
        "__future__",
        "base64",
        "binascii",
        "json",
        "re",
        "collections.abc",
        "typing",
        "attrs",
    }
    assert imported - allowed <= {"voxtrio.audio.frame", "voxtrio.audio.g711"}
