"""The Realtime codec decodes the canonical server event sequences and rejects bad input.

Fixtures (tests/protocols/fixtures/realtime_*.jsonl) hold canonical GA event orders
written from the protocol reference as plain dicts, independent of the codec.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import voxtrio.protocols.openai_realtime as rt

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_FILES = sorted(FIXTURES.glob("realtime_*.jsonl"))


def load(name: str) -> list[str]:
    return (FIXTURES / name).read_text().splitlines()


def drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


def test_fixture_files_exist() -> None:
    names = {path.name for path in FIXTURE_FILES}
    assert names == {
        "realtime_full_voice_turn.jsonl",
        "realtime_tool_call_turn.jsonl",
        "realtime_interrupted_turn.jsonl",
        "realtime_error_events.jsonl",
        "realtime_text_response_turn.jsonl",
    }


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.stem)
def test_fixture_events_decode_to_known_classes_without_loss(path: Path) -> None:
    for line in path.read_text().splitlines():
        event = rt.decode(line)
        assert not isinstance(event, rt.UnknownServerEvent), event.type
        assert type(event) is rt.SERVER_EVENT_TYPES[json.loads(line)["type"]]
        # Re-encoding keeps every non-null value (null and absent are both None,
        # except where NULL is meaningful).
        assert drop_nulls(rt.to_dict(event)) == drop_nulls(json.loads(line))
        assert rt.decode(rt.encode(event)) == event


def test_full_voice_turn_carries_transcript_audio_and_usage() -> None:
    events = [rt.decode(line) for line in load("realtime_full_voice_turn.jsonl")]
    assert isinstance(events[0], rt.SessionCreated)
    session = events[0].session
    assert isinstance(session, rt.SessionConfig)
    assert session.id == "sess_C9vQ2fixture" and session.expires_at == 1767225600
    assert session.tracing is rt.NULL
    assert session.audio is not None and session.audio.input is not None
    assert session.audio.input.transcription is rt.NULL
    assert session.audio.input.turn_detection == rt.ServerVad(
        threshold=0.5,
        prefix_padding_ms=300,
        silence_duration_ms=500,
        create_response=True,
        interrupt_response=True,
    )
    completed = next(
        e for e in events if isinstance(e, rt.ConversationItemInputAudioTranscriptionCompleted)
    )
    assert completed.transcript == "What's the weather in Paris?"
    assert completed.usage == rt.TranscriptionUsageTokens(
        input_tokens=21,
        output_tokens=8,
        total_tokens=29,
        input_token_details=rt.TranscriptionTokenDetails(text_tokens=0, audio_tokens=21),
    )
    deltas = [e for e in events if isinstance(e, rt.ResponseOutputAudioDelta)]
    audio = sum(rt.frame_from_base64(d.delta).samples_per_channel for d in deltas)
    assert audio == 6 * 1200  # six 50 ms chunks at 24 kHz
    transcript = "".join(
        e.delta for e in events if isinstance(e, rt.ResponseOutputAudioTranscriptDelta)
    )
    done = events[-1]
    assert isinstance(done, rt.ResponseDone)
    assert done.response.status == "completed"
    output = done.response.output
    assert output is not None and isinstance(output[0], rt.MessageItem)
    assert output[0].text == transcript == "Sure! It's sunny in Paris today."
    usage = done.response.usage
    assert usage is not None and usage.input_token_details is not None
    assert usage.input_tokens == 170 and usage.output_tokens == 94 and usage.total_tokens == 264
    assert usage.input_token_details.cached_tokens == 64
    assert usage.output_token_details == rt.OutputTokenDetails(text_tokens=19, audio_tokens=75)


def test_tool_call_turn_assembles_arguments() -> None:
    events = [rt.decode(line) for line in load("realtime_tool_call_turn.jsonl")]
    deltas = [e for e in events if isinstance(e, rt.ResponseFunctionCallArgumentsDelta)]
    done = next(e for e in events if isinstance(e, rt.ResponseFunctionCallArgumentsDone))
    assert "".join(d.delta for d in deltas) == done.arguments
    assert json.loads(done.arguments) == {"city": "Paris", "unit": "celsius"}
    assert done.name == "get_weather" and done.call_id == "call_W3a9"
    updated = next(e for e in events if isinstance(e, rt.SessionUpdated))
    assert isinstance(updated.session, rt.SessionConfig)
    assert updated.session.tools is not None
    tool = updated.session.tools[0]
    assert isinstance(tool, rt.FunctionTool) and tool.parameters is not None
    assert tool.parameters["required"] == ["city"]
    outputs = [
        e.item
        for e in events
        if isinstance(e, rt.ConversationItemDone) and isinstance(e.item, rt.FunctionCallOutputItem)
    ]
    assert [o.call_id for o in outputs] == ["call_W3a9"]


def test_interrupted_turn_reports_cancellation_and_truncation() -> None:
    events = [rt.decode(line) for line in load("realtime_interrupted_turn.jsonl")]
    done = next(e for e in events if isinstance(e, rt.ResponseDone))
    assert done.response.status == "cancelled"
    assert done.response.status_details == rt.ResponseStatusDetails(
        type="cancelled", reason="turn_detected"
    )
    truncated = next(e for e in events if isinstance(e, rt.ConversationItemTruncated))
    assert (truncated.item_id, truncated.content_index, truncated.audio_end_ms) == (
        "item_A201",
        0,
        220,
    )
    starts = [e for e in events if isinstance(e, rt.InputAudioBufferSpeechStarted)]
    assert [s.audio_start_ms for s in starts] == [300, 3720]


def test_error_events_keep_code_param_and_client_event_id() -> None:
    events = [rt.decode(line) for line in load("realtime_error_events.jsonl")]
    errors = [e.error for e in events if isinstance(e, rt.ErrorEvent)]
    assert errors[0].code == "input_audio_buffer_commit_empty"
    assert errors[0].event_id == "evt_client_commit_1"
    assert errors[2].param == "audio_end_ms"
    assert errors[4] == rt.ServerError(
        type="server_error",
        message="The server had an error while processing your request. Sorry about that!",
    )
    failed = next(
        e for e in events if isinstance(e, rt.ConversationItemInputAudioTranscriptionFailed)
    )
    assert failed.error.code == "audio_unintelligible"


# -- unknown and malformed input ---------------------------------------------------------


def test_unknown_event_type_keeps_raw_object() -> None:
    raw = {"type": "response.reasoning.delta", "event_id": "e1", "delta": {"x": [1, 2]}}
    event = rt.decode(json.dumps(raw))
    assert event == rt.UnknownServerEvent(type="response.reasoning.delta", raw=raw)
    assert event.event_id == "e1"
    assert json.loads(rt.encode(event)) == raw


def test_beta_event_names_are_unknown_not_errors() -> None:
    event = rt.decode('{"type":"response.audio.delta","event_id":"e","delta":"AAAA"}')
    assert isinstance(event, rt.UnknownServerEvent) and event.type == "response.audio.delta"


def test_unknown_fields_are_ignored() -> None:
    event = rt.decode('{"type":"input_audio_buffer.cleared","event_id":"e","new_field":{"a":1}}')
    assert event == rt.InputAudioBufferCleared(event_id="e")


def test_mcp_items_pass_through_as_raw_objects() -> None:
    item = {
        "type": "mcp_call",
        "id": "mcp_1",
        "name": "search",
        "arguments": "{}",
        "server_label": "docs",
    }
    event = rt.decode(json.dumps({"type": "conversation.item.done", "event_id": "e", "item": item}))
    assert isinstance(event, rt.ConversationItemDone)
    assert event.item == rt.RawObject(item)


SPEECH = '"type":"input_audio_buffer.speech_started","event_id":"e","item_id":"i"'


@pytest.mark.parametrize(
    ("text", "event_type", "path", "fragment"),
    [
        ("{", None, "", "invalid JSON"),
        ("", None, "", "invalid JSON"),
        ("[1, 2]", None, "", "expected a JSON object, got array"),
        ('"hello"', None, "", "got string"),
        ("NaN", None, "", "NaN"),
        ('{"event_id":"e"}', None, "type", "missing"),
        ('{"type":5}', None, "type", "expected string"),
        ("{" + SPEECH + "}", "input_audio_buffer.speech_started", "audio_start_ms", "missing"),
        (
            "{" + SPEECH + ',"audio_start_ms":"12"}',
            "input_audio_buffer.speech_started",
            "audio_start_ms",
            "expected integer, got string",
        ),
        (
            "{" + SPEECH + ',"audio_start_ms":true}',
            "input_audio_buffer.speech_started",
            "audio_start_ms",
            "got boolean",
        ),
        (
            "{" + SPEECH + ',"audio_start_ms":1.5}',
            "input_audio_buffer.speech_started",
            "audio_start_ms",
            "expected integer",
        ),
        ("{" + SPEECH + ',"audio_start_ms":Infinity}', None, "", "Infinity"),
        (
            '{"type":"response.done","event_id":"e","response":{"status":"exploded"}}',
            "response.done",
            "response.status",
            "'completed'",
        ),
        (
            '{"type":"response.done","event_id":"e","response":{"output":[{"type":"message",'
            '"role":"assistant","content":[{"type":"output_audio","transcript":7}]}]}}',
            "response.done",
            "response.output[0].content[0].transcript",
            "expected string",
        ),
        (
            '{"type":"response.done","event_id":"e","response":{"output":[{"role":"user"}]}}',
            "response.done",
            "response.output[0].type",
            "missing",
        ),
        (
            '{"type":"response.done","event_id":"e","response":{"output":[{"type":"message",'
            '"role":"user","content":[{"type":"output_text","text":"x"}]}]}}',
            "response.done",
            "response.output[0]",
            "user message cannot hold",
        ),
        (
            '{"type":"session.created","event_id":"e","session":{"type":"realtime","audio":'
            '{"input":{"turn_detection":{"type":"server_vad","threshold":"high"}}}}}',
            "session.created",
            "session.audio.input.turn_detection.threshold",
            "expected number",
        ),
        (
            '{"type":"session.created","event_id":"e","session":{"type":"beta"}}',
            "session.created",
            "session.type",
            "expected one of",
        ),
        (
            '{"type":"rate_limits.updated","event_id":"e","rate_limits":{"name":"tokens"}}',
            "rate_limits.updated",
            "rate_limits",
            "expected array",
        ),
        (
            '{"type":"error","event_id":"e","error":{"type":"server_error"}}',
            "error",
            "error.message",
            "missing",
        ),
        (
            '{"type":"response.output_audio.delta","event_id":null}',
            "response.output_audio.delta",
            "event_id",
            "got null",
        ),
    ],
)
def test_malformed_input_names_event_type_and_field(
    text: str, event_type: str | None, path: str, fragment: str
) -> None:
    with pytest.raises(rt.ProtocolError) as info:
        rt.decode(text)
    assert info.value.event_type == event_type
    assert info.value.path == path
    assert fragment in str(info.value)


def test_bytes_input_is_utf8() -> None:
    assert rt.decode(b'{"type":"input_audio_buffer.cleared","event_id":"\xc3\xa9"}') == (
        rt.InputAudioBufferCleared(event_id="é")
    )
    with pytest.raises(rt.ProtocolError, match="UTF-8"):
        rt.decode(b'{"type":"x","event_id":"\xff"}')


def test_unknown_client_event_type_is_an_error() -> None:
    with pytest.raises(rt.ProtocolError, match="unknown client event type") as info:
        rt.decode_client_event('{"type":"transcription_session.update"}')
    assert info.value.event_type == "transcription_session.update"


def test_client_event_wrong_type_names_field() -> None:
    with pytest.raises(rt.ProtocolError) as info:
        rt.decode_client_event(
            '{"type":"conversation.item.truncate","item_id":"i","content_index":0,'
            '"audio_end_ms":"100"}'
        )
    assert (info.value.event_type, info.value.path) == (
        "conversation.item.truncate",
        "audio_end_ms",
    )


# -- encoding ----------------------------------------------------------------------------


def test_encode_is_compact_and_omits_absent_fields() -> None:
    assert rt.encode(rt.ResponseCreate()) == '{"type":"response.create"}'
    assert rt.encode(rt.InputAudioBufferCommit(event_id="c1")) == (
        '{"type":"input_audio_buffer.commit","event_id":"c1"}'
    )


def test_null_switches_features_off_and_none_leaves_them() -> None:
    off = rt.SessionUpdate(
        session=rt.SessionConfig(
            audio=rt.AudioConfig(input=rt.AudioInputConfig(turn_detection=rt.NULL))
        )
    )
    assert json.loads(rt.encode(off))["session"] == {
        "type": "realtime",
        "audio": {"input": {"turn_detection": None}},
    }
    keep = rt.SessionUpdate(session=rt.SessionConfig(instructions=""))
    assert json.loads(rt.encode(keep))["session"] == {"type": "realtime", "instructions": ""}


def test_encode_rejects_nan() -> None:
    event = rt.SessionUpdate(
        session=rt.SessionConfig(
            audio=rt.AudioConfig(output=rt.AudioOutputConfig(speed=float("nan")))
        )
    )
    with pytest.raises(rt.ProtocolError, match="session.update"):
        rt.encode(event)


def test_session_update_refuses_server_fields() -> None:
    reported = rt.SessionConfig(id="sess_1", object="realtime.session", instructions="x")
    with pytest.raises(ValueError, match="without_server_fields"):
        rt.SessionUpdate(session=reported)
    update = rt.SessionUpdate(session=reported.without_server_fields())
    assert json.loads(rt.encode(update))["session"] == {"type": "realtime", "instructions": "x"}


def test_message_parts_must_suit_the_role() -> None:
    with pytest.raises(ValueError, match="assistant message cannot hold a InputText"):
        rt.MessageItem(role="assistant", content=(rt.InputText("hi"),))
    assert rt.MessageItem.assistant_text("hi").content == (rt.OutputText("hi"),)


def test_server_event_table_is_complete() -> None:
    assert len(rt.SERVER_EVENT_TYPES) == 46


def test_free_form_json_keeps_nulls() -> None:
    tool = rt.FunctionTool(name="f", parameters={"type": "object", "default": None, "x": [None]})
    event = rt.SessionUpdate(session=rt.SessionConfig(tools=(tool,)))
    assert rt.decode_client_event(rt.encode(event)) == event


def test_lenient_enums_accept_new_server_values() -> None:
    text = (
        '{"type":"response.done","event_id":"e","response":{"id":"r","status":"cancelled",'
        '"status_details":{"type":"cancelled","reason":"max_session_duration"}}}'
    )
    with pytest.raises(rt.ProtocolError, match="response.status_details.reason"):
        rt.decode(text)
    event = rt.decode(text, lenient_enums=True)
    assert isinstance(event, rt.ResponseDone) and event.response.status_details is not None
    assert event.response.status_details.reason == "max_session_duration"
    # Types are still checked, and strictness is back for the next call.
    with pytest.raises(rt.ProtocolError, match="got number 5"):
        rt.decode(text.replace('"max_session_duration"', "5"), lenient_enums=True)
    with pytest.raises(rt.ProtocolError):
        rt.decode(text)
