"""Every client event the codec can build encodes to schema-conforming JSON and decodes back.

Hypothesis builds client events from the codec's own attrs annotations (so a new field
is covered without touching this file); each one must (1) survive encode ->
decode_client_event unchanged and (2) pass the openai SDK schema plus the undeclared-key
check. Free-form JSON fields and MCP pass-through objects get explicit strategies.
"""

from __future__ import annotations

import typing
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import voxtrio.protocols.openai_realtime as rt
from voxtrio.testing.conformance import (
    client_event_problems,
    openai_version,
    server_event_problems,
)

finite = st.floats(allow_nan=False, allow_infinity=False)
json_leaf = st.none() | st.booleans() | st.integers() | finite | st.text(max_size=10)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
json_object = st.dictionaries(st.text(max_size=8), json_value, max_size=4)

mcp_tool = st.builds(
    lambda label, url: rt.RawObject({"type": "mcp", "server_label": label, "server_url": url}),
    st.text(max_size=10),
    st.text(max_size=20),
)
mcp_item = st.builds(
    lambda approve, reason: rt.RawObject(
        {
            "type": "mcp_approval_response",
            "id": "mcpr_1",
            "approval_request_id": "mcpa_1",
            "approve": approve,
            **({"reason": reason} if reason is not None else {}),
        }
    ),
    st.booleans(),
    st.none() | st.text(max_size=10),
)

PARTS = {
    "system": st.from_type(rt.InputText),
    "user": st.from_type(rt.InputText) | st.from_type(rt.InputAudio) | st.from_type(rt.InputImage),
    "assistant": st.from_type(rt.OutputText) | st.from_type(rt.OutputAudio),
}
message = st.sampled_from(["system", "user", "assistant"]).flatmap(
    lambda role: st.fixed_dictionaries(
        {
            "role": st.just(role),
            "content": st.lists(PARTS[role], max_size=3).map(tuple),
            "id": st.none() | st.text(max_size=8),
            "status": st.none() | st.sampled_from(["completed", "incomplete", "in_progress"]),
        }
    ).map(lambda kwargs: rt.MessageItem(**kwargs))
)
item = (
    message | st.from_type(rt.FunctionCallItem) | st.from_type(rt.FunctionCallOutputItem) | mcp_item
)


def build(cls: type, **overrides: Any) -> Any:
    """Like st.builds, but resolves the codec's string annotations via get_type_hints."""
    hints = typing.get_type_hints(cls)
    fields = {
        field.name: overrides.get(field.name, st.from_type(hints[field.name]))
        for field in attrs.fields(cls)
    }
    return st.fixed_dictionaries(fields).map(lambda kwargs: cls(**kwargs))


# Registered at import: only the codec's own classes are affected.
for _cls, _strategy in {
    rt.FunctionTool: build(
        rt.FunctionTool, name=st.text(max_size=12), parameters=st.none() | json_object
    ),
    rt.TracingConfig: build(rt.TracingConfig, metadata=st.none() | json_object),
    rt.Prompt: build(
        rt.Prompt, variables=st.none() | st.dictionaries(st.text(max_size=5), st.text(max_size=8))
    ),
    rt.ServerVad: build(rt.ServerVad, threshold=st.none() | finite),
    rt.NoiseReduction: build(rt.NoiseReduction, strength=st.none() | finite),
    rt.AudioOutputConfig: build(rt.AudioOutputConfig, speed=st.none() | finite),
    rt.RetentionRatioTruncation: build(rt.RetentionRatioTruncation, retention_ratio=finite),
}.items():
    st.register_type_strategy(_cls, _strategy)

tool = st.from_type(rt.FunctionTool) | mcp_tool
tools = st.none() | st.lists(tool, max_size=3).map(tuple)
for _cls, _strategy in {
    rt.MessageItem: message,
    rt.SessionConfig: build(rt.SessionConfig, tools=tools).map(lambda s: s.without_server_fields()),
    rt.TranscriptionSessionConfig: build(rt.TranscriptionSessionConfig).map(
        lambda s: s.without_server_fields()
    ),
    rt.ResponseCreateParams: build(
        rt.ResponseCreateParams,
        tools=tools,
        input=st.none() | st.lists(item, max_size=3).map(tuple),
    ),
    rt.ConversationItemCreate: build(rt.ConversationItemCreate, item=item),
}.items():
    st.register_type_strategy(_cls, _strategy)


client_events = st.sampled_from(sorted(rt.CLIENT_EVENT_TYPES.values(), key=lambda c: c.type))


def test_openai_version_is_named() -> None:
    version = openai_version()
    print(f"conformance oracle: openai {version}")
    assert version.split(".")[0].isdigit()


def test_every_client_event_type_is_covered() -> None:
    assert len(rt.CLIENT_EVENT_TYPES) == 11


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_client_events_round_trip_and_conform(data: st.DataObject) -> None:
    cls = data.draw(client_events)
    event = data.draw(st.from_type(cls))
    text = rt.encode(event)
    assert rt.decode_client_event(text) == event
    assert client_event_problems(text) == []


@pytest.mark.parametrize("cls", sorted(rt.CLIENT_EVENT_TYPES.values(), key=lambda c: c.type))
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_each_client_event_class_round_trips(cls: type, data: st.DataObject) -> None:
    event = data.draw(st.from_type(cls))
    text = rt.encode(event)
    assert rt.decode_client_event(text) == event
    assert client_event_problems(text) == []


# -- server events: what fakes (the scripted server) can produce --------------------------

st.register_type_strategy(rt.LogProb, build(rt.LogProb, logprob=finite))
st.register_type_strategy(rt.RateLimit, build(rt.RateLimit, reset_seconds=st.none() | finite))
st.register_type_strategy(
    rt.TranscriptionUsageDuration, build(rt.TranscriptionUsageDuration, seconds=finite)
)
st.register_type_strategy(
    rt.ConversationItemInputAudioTranscriptionSegment,
    build(rt.ConversationItemInputAudioTranscriptionSegment, start=finite, end=finite),
)
st.register_type_strategy(
    rt.Response, build(rt.Response, output=st.none() | st.lists(item, max_size=2).map(tuple))
)
for _event_cls in (
    rt.ConversationItemAdded,
    rt.ConversationItemDone,
    rt.ConversationItemCreated,
    rt.ConversationItemRetrieved,
    rt.ResponseOutputItemAdded,
    rt.ResponseOutputItemDone,
):
    st.register_type_strategy(_event_cls, build(_event_cls, item=item))

server_event_classes = sorted(rt.SERVER_EVENT_TYPES.values(), key=lambda c: c.type)


@pytest.mark.parametrize("cls", server_event_classes, ids=lambda c: c.type)
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_each_server_event_class_round_trips_and_conforms(cls: type, data: st.DataObject) -> None:
    event = data.draw(st.from_type(cls))
    text = rt.encode(event)
    assert rt.decode(text) == event
    assert server_event_problems(text) == []
