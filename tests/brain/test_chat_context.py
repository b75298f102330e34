"""ChatContext: ordering, lookups, truncation and the OpenAI chat format."""

import pytest

from voxtrio.engines.chat import ChatContext, ChatMessage, FunctionCall, FunctionCallOutput


def test_add_and_find_messages():
    ctx = ChatContext.empty()
    system = ctx.add_message(role="system", content="be brief")
    user = ctx.add_message(role="user", content="hello", turn_id="turn_1")
    assert [m.text_content for m in ctx.messages()] == ["be brief", "hello"]
    assert ctx.get_by_id(user.id) is user
    assert ctx.index_by_id(system.id) == 0
    assert ctx.remove(user.id) is user
    with pytest.raises(KeyError):
        ctx.remove("missing")


def test_insert_by_created_at_keeps_time_order():
    ctx = ChatContext.empty()
    ctx.add_message(role="user", content="first", created_at=10.0)
    ctx.add_message(role="user", content="third", created_at=30.0)
    ctx.add_message(role="assistant", content="second", created_at=20.0)
    assert [m.text_content for m in ctx.messages()] == ["first", "second", "third"]


def test_bad_role_is_refused():
    with pytest.raises(ValueError, match="role must be one of"):
        ChatMessage(role="robot", content="x")  # type: ignore[arg-type]


def test_truncate_keeps_system_and_never_starts_with_a_tool_output():
    ctx = ChatContext.empty()
    ctx.add_message(role="system", content="rules")
    for i in range(5):
        ctx.add_message(role="user", content=f"u{i}")
    ctx.append(FunctionCall(call_id="c1", name="f"))
    ctx.append(FunctionCallOutput(call_id="c1", name="f", output="ok"))
    ctx.add_message(role="assistant", content="done")
    ctx.truncate(max_items=2)
    kinds = [(i.type, getattr(i, "role", None)) for i in ctx]
    assert kinds == [("message", "system"), ("message", "assistant")]


def test_openai_format_groups_tool_calls():
    ctx = ChatContext.empty()
    ctx.add_message(role="user", content="weather in Paris and Rome?")
    ctx.append(FunctionCall(call_id="a", name="weather", arguments='{"city": "Paris"}'))
    ctx.append(FunctionCall(call_id="b", name="weather", arguments='{"city": "Rome"}'))
    ctx.append(FunctionCallOutput(call_id="a", name="weather", output="sunny"))
    ctx.append(FunctionCallOutput(call_id="b", name="weather", output="rain"))
    messages = ctx.to_openai_messages()
    assert messages[1]["role"] == "assistant"
    assert [c["id"] for c in messages[1]["tool_calls"]] == ["a", "b"]
    assert messages[2] == {"role": "tool", "tool_call_id": "a", "content": "sunny"}


def test_dict_round_trip_and_bad_arguments():
    ctx = ChatContext.empty()
    ctx.add_message(role="user", content="hi", turn_id="t1")
    ctx.append(FunctionCall(call_id="a", name="f", arguments="[1]"))
    again = ChatContext.from_dict(ctx.to_dict())
    assert [i.id for i in again] == [i.id for i in ctx]
    assert again.messages()[0].turn_id == "t1"
    with pytest.raises(ValueError, match="must be a JSON object"):
        again.items[1].parsed_arguments()  # type: ignore[union-attr]
