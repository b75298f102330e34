"""Fuzzing: whatever arrives on the socket, decoding raises only ProtocolError.

Three generators: arbitrary text/bytes, arbitrary JSON, and fixture events with one value
replaced or one key removed somewhere inside (the inputs most likely to reach deep
decoding code). Example counts are moderate to keep the suite fast.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import voxtrio.protocols.openai_realtime as rt

FIXTURE_EVENTS = [
    json.loads(line)
    for path in sorted((Path(__file__).parent / "fixtures").glob("realtime_*.jsonl"))
    for line in path.read_text().splitlines()
]
# Keep the large audio payloads out of the mutation pool: they are strings like any other.
SMALL_EVENTS = [e for e in FIXTURE_EVENTS if len(json.dumps(e)) < 3000]

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
event_types = st.sampled_from(sorted(rt.SERVER_EVENT_TYPES)) | st.text(max_size=20)
shaped = st.builds(
    lambda kind, body: {**body, "type": kind},
    event_types,
    st.dictionaries(st.text(max_size=12), json_value, max_size=6),
)

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def only_protocol_errors(text: str | bytes) -> None:
    lenient = functools.partial(rt.decode, lenient_enums=True)
    for decoder in (rt.decode, lenient, rt.decode_client_event):
        try:
            decoder(text)
        except rt.ProtocolError:
            pass


@FUZZ
@given(st.text())
def test_arbitrary_text(text: str) -> None:
    only_protocol_errors(text)


@FUZZ
@given(st.binary())
def test_arbitrary_bytes(data: bytes) -> None:
    only_protocol_errors(data)


@FUZZ
@given(json_value)
def test_arbitrary_json(value: Any) -> None:
    only_protocol_errors(json.dumps(value))


@FUZZ
@given(shaped)
def test_objects_with_known_types_and_random_fields(value: dict[str, Any]) -> None:
    only_protocol_errors(json.dumps(value))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*prefix, index))
    return out


@st.composite
def mutated_fixture_events(draw: st.DrawFn) -> dict[str, Any]:
    event = json.loads(json.dumps(draw(st.sampled_from(SMALL_EVENTS))))
    path = draw(st.sampled_from(_paths(event)[1:]))
    parent = event
    for part in path[:-1]:
        parent = parent[part]
    if draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(json_value)
    return event


@FUZZ
@given(mutated_fixture_events())
def test_mutated_fixture_events(event: dict[str, Any]) -> None:
    only_protocol_errors(json.dumps(event))


def test_deep_nesting_is_a_protocol_error() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    only_protocol_errors(deep)
    nested = '{"type":"x.y","a":' + "[" * 50_000 + "]" * 50_000 + "}"
    only_protocol_errors(nested)


def test_huge_integer_is_a_protocol_error() -> None:
    text = '{"type":"input_audio_buffer.cleared","event_id":"e","n":' + "9" * 5000 + "}"
    try:
        rt.decode(text)
    except rt.ProtocolError as exc:
        assert "invalid JSON" in str(exc)
