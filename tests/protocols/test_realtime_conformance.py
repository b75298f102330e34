"""Conformance to the official schema: the openai SDK's pydantic models plus undeclared keys.

The oracle is the installed `openai` package (the version is printed and asserted); GA
models live in openai.types.realtime. Every fixture server event and a catalogue of fully
populated client events must conform; the checker itself must catch misspelt keys at any
depth, since the SDK models alone accept them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import openai
import pytest

import voxtrio.protocols.openai_realtime as rt
from voxtrio.testing import conformance
from voxtrio.testing.conformance import (
    ConformanceError,
    check_client_event,
    check_server_event,
    client_event_problems,
    server_event_problems,
)

FIXTURE_LINES = [
    (path.stem, index, line)
    for path in sorted((Path(__file__).parent / "fixtures").glob("realtime_*.jsonl"))
    for index, line in enumerate(path.read_text().splitlines())
]


def test_oracle_is_the_installed_openai_sdk() -> None:
    print(f"openai {openai.__version__} is the schema oracle")
    assert conformance.openai_version() == openai.__version__
    major, minor = (int(part) for part in openai.__version__.split(".")[:2])
    assert (major, minor) >= (1, 103), "GA realtime types need openai >= 1.103"


@pytest.mark.parametrize(("name", "index", "line"), FIXTURE_LINES, ids=lambda v: str(v)[:40])
def test_fixture_server_events_conform(name: str, index: int, line: str) -> None:
    check_server_event(line)
    # What the codec re-encodes from them conforms too.
    check_server_event(rt.encode(rt.decode(line)))


TOOL = rt.FunctionTool(
    name="get_weather",
    description="Current weather.",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
FULL_SESSION = rt.SessionConfig(
    model="gpt-realtime",
    instructions="Be brief.",
    output_modalities=("audio",),
    max_output_tokens="inf",
    audio=rt.AudioConfig(
        input=rt.AudioInputConfig(
            format=rt.PcmFormat(),
            transcription=rt.InputTranscription(model="gpt-4o-mini-transcribe", language="en"),
            noise_reduction=rt.NoiseReduction(type="near_field"),
            turn_detection=rt.ServerVad(
                threshold=0.6,
                prefix_padding_ms=300,
                silence_duration_ms=450,
                idle_timeout_ms=8000,
                create_response=True,
                interrupt_response=True,
            ),
        ),
        output=rt.AudioOutputConfig(format=rt.PcmFormat(), voice="marin", speed=1.1),
    ),
    tools=(TOOL, rt.RawObject({"type": "mcp", "server_label": "docs", "server_url": "https://x"})),
    tool_choice=rt.ToolChoiceFunction(name="get_weather"),
    parallel_tool_calls=False,
    tracing=rt.TracingConfig(workflow_name="voxtrio", group_id="g1", metadata={"a": 1}),
    truncation=rt.RetentionRatioTruncation(
        retention_ratio=0.7, token_limits=rt.TokenLimits(post_instructions=4000)
    ),
    include=("item.input_audio_transcription.logprobs",),
    prompt=rt.Prompt(id="pmpt_1", variables={"name": "Ada"}, version="2"),
    reasoning=rt.Reasoning(effort="low"),
)
USER_AUDIO = rt.MessageItem(
    role="user", content=(rt.InputAudio(audio="AAAA", transcript="hi"), rt.InputText("and"))
)
CATALOGUE: list[Any] = [
    rt.SessionUpdate(session=FULL_SESSION, event_id="evt_1"),
    rt.SessionUpdate(
        session=rt.SessionConfig(
            audio=rt.AudioConfig(
                input=rt.AudioInputConfig(
                    format=rt.PcmuFormat(),
                    turn_detection=rt.SemanticVad(eagerness="high", create_response=False),
                    noise_reduction=rt.NULL,
                    transcription=rt.NULL,
                ),
                output=rt.AudioOutputConfig(format=rt.PcmaFormat(), voice=rt.VoiceId("voice_9")),
            ),
            tracing=rt.NULL,
            tool_choice="required",
            truncation="disabled",
            tools=(),
        )
    ),
    rt.SessionUpdate(
        session=rt.SessionConfig(
            audio=rt.AudioConfig(input=rt.AudioInputConfig(turn_detection=rt.NULL))
        )
    ),
    rt.SessionUpdate(
        session=rt.TranscriptionSessionConfig(
            audio=rt.TranscriptionAudioConfig(
                input=rt.AudioInputConfig(
                    format=rt.PcmFormat(), transcription=rt.InputTranscription(model="whisper-1")
                )
            )
        )
    ),
    rt.InputAudioBufferAppend(audio="AAAAAA==", event_id="a1"),
    rt.InputAudioBufferCommit(),
    rt.InputAudioBufferClear(event_id="c"),
    rt.ConversationItemCreate(item=rt.MessageItem.user_text("hello"), previous_item_id="root"),
    rt.ConversationItemCreate(item=rt.MessageItem.system_text("Be kind.")),
    rt.ConversationItemCreate(item=rt.MessageItem.assistant_text("Earlier I said hi.")),
    rt.ConversationItemCreate(item=USER_AUDIO),
    rt.ConversationItemCreate(
        item=rt.MessageItem(
            role="user",
            content=(rt.InputImage(image_url="data:image/png;base64,AA", detail="low"),),
        )
    ),
    rt.ConversationItemCreate(
        item=rt.MessageItem(role="assistant", content=(rt.OutputAudio(transcript="said"),))
    ),
    rt.ConversationItemCreate(
        item=rt.FunctionCallItem(name="get_weather", arguments='{"city":"Oslo"}', call_id="call_1")
    ),
    rt.ConversationItemCreate(
        item=rt.FunctionCallOutputItem(call_id="call_1", output='{"temp_c": 3}', id="item_x")
    ),
    rt.ConversationItemTruncate(item_id="item_9", content_index=0, audio_end_ms=1520),
    rt.ConversationItemDelete(item_id="item_9"),
    rt.ConversationItemRetrieve(item_id="item_9"),
    rt.ResponseCreate(),
    rt.ResponseCreate(
        response=rt.ResponseCreateParams(
            output_modalities=("text",),
            instructions="Summarize.",
            tools=(TOOL,),
            tool_choice=rt.ToolChoiceMcp(server_label="docs", name="search"),
            parallel_tool_calls=True,
            audio=rt.ResponseAudio(
                output=rt.ResponseAudioOutput(format=rt.PcmFormat(), voice="cedar")
            ),
            max_output_tokens=200,
            metadata={"purpose": "summary"},
            conversation="none",
            input=(rt.MessageItem.user_text("Summarize our chat."), USER_AUDIO),
            prompt=rt.Prompt(id="pmpt_2"),
            reasoning=rt.Reasoning(effort="minimal"),
        )
    ),
    rt.ResponseCancel(),
    rt.ResponseCancel(response_id="resp_1"),
    rt.OutputAudioBufferClear(),
]


def test_catalogue_covers_every_client_event_type() -> None:
    assert {type(event) for event in CATALOGUE} == set(rt.CLIENT_EVENT_TYPES.values())


@pytest.mark.parametrize("event", CATALOGUE, ids=lambda e: e.type)
def test_catalogue_client_events_conform_and_round_trip(event: Any) -> None:
    text = rt.encode(event)
    check_client_event(text)
    assert rt.decode_client_event(text) == event


# -- the checker catches what the SDK models let through ---------------------------------


def _object_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of every JSON object in `value` that belongs to the schema (not free-form)."""
    free_form = {"parameters", "metadata", "variables"}
    out: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        out.append(prefix)
        for key, item in value.items():
            if key not in free_form:
                out += _object_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _object_paths(item, (*prefix, index))
    return out


def _with_extra_key(data: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    copy = json.loads(json.dumps(data))
    target = copy
    for part in path:
        target = target[part]
    target["turn_detecton"] = None
    return copy


def test_undeclared_key_at_any_depth_of_any_client_event_is_caught() -> None:
    checked = 0
    for event in CATALOGUE:
        data = rt.to_dict(event)
        for path in _object_paths(data):
            problems = client_event_problems(_with_extra_key(data, path))
            assert len(problems) == 1 and "turn_detecton" in problems[0], (event.type, path)
            checked += 1
    print(f"{checked} client positions")
    assert checked > 80


def test_undeclared_key_at_any_depth_of_fixture_server_events_is_caught() -> None:
    checked = 0
    for _name, _index, line in FIXTURE_LINES:
        data = json.loads(line)
        for path in _object_paths(data):
            problems = server_event_problems(_with_extra_key(data, path))
            assert len(problems) == 1 and "turn_detecton" in problems[0], (data["type"], path)
            checked += 1
    print(f"{checked} server positions")
    assert checked > 300


def test_misspelt_turn_detection_is_reported_with_its_path() -> None:
    with pytest.raises(ConformanceError) as info:
        check_client_event(
            {
                "type": "session.update",
                "session": {"type": "realtime", "audio": {"input": {"turn_detecton": None}}},
            }
        )
    assert info.value.event_type == "session.update"
    assert info.value.problems[0].startswith("session.audio.input.turn_detecton: key not declared")


def test_schema_violations_are_reported() -> None:
    assert client_event_problems(
        {
            "type": "conversation.item.truncate",
            "item_id": "i",
            "content_index": 0,
            "audio_end_ms": "10",
        }
    )
    assert client_event_problems({"type": "transcription_session.update", "session": {}})
    assert server_event_problems({"type": "response.audio.delta", "event_id": "e"})
    assert server_event_problems({"type": "response.output_audio.delta", "event_id": "e"})
    # a GA part type where the SDK says "audio": rejected
    assert server_event_problems(
        {
            "type": "response.content_part.added",
            "event_id": "e",
            "response_id": "r",
            "item_id": "i",
            "output_index": 0,
            "content_index": 0,
            "part": {"type": "output_audio"},
        }
    )
    assert client_event_problems("not json")
    assert client_event_problems("[]")


def test_session_bookkeeping_keys_are_allowed_from_the_server_only() -> None:
    session = {"type": "realtime", "id": "sess_1", "object": "realtime.session", "expires_at": 1}
    assert (
        server_event_problems({"type": "session.created", "event_id": "e", "session": session})
        == []
    )
    problems = client_event_problems({"type": "session.update", "session": session})
    assert len(problems) == 3


def test_missing_openai_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openai", None)
    with pytest.raises(conformance.ConformanceUnavailable, match="pip install openai"):
        conformance._openai()
