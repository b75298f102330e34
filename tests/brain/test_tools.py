"""@function_tool: schemas from type hints and docstrings, and errors returned to the model."""

import enum
import json
from typing import Literal

import pytest

from voxtrio.engines.tools import FunctionTool, ToolError, find_function_tools, function_tool


class Seating(enum.Enum):
    INSIDE = "inside"
    OUTSIDE = "outside"


@function_tool
async def book_table(
    people: int,
    time: str,
    zone: Literal["bar", "garden"] = "bar",
    seating: Seating | None = None,
    notes: list[str] | None = None,
) -> str:
    """Book a table at the restaurant.

    Args:
        people: How many guests.
        time: When, like "19:30";
            24-hour clock.
        seating: Inside or outside.
    """
    if people > 8:
        raise ToolError("we seat at most 8 people")
    where = seating.value if seating else "anywhere"
    return f"booked {people} at {time} in the {zone}, {where}"


def test_schema_comes_from_hints_and_docstring():
    schema = book_table.schema
    assert schema["name"] == "book_table"
    assert schema["description"] == "Book a table at the restaurant."
    params = schema["parameters"]
    assert params["required"] == ["people", "time"]
    assert params["additionalProperties"] is False
    props = params["properties"]
    assert props["people"] == {"type": "integer", "description": "How many guests."}
    assert props["time"]["description"] == 'When, like "19:30"; 24-hour clock.'
    assert props["zone"] == {"enum": ["bar", "garden"], "type": "string", "default": "bar"}
    assert props["seating"]["enum"] == ["inside", "outside", None]
    assert props["notes"] == {"type": ["array", "null"], "items": {"type": "string"}}
    assert book_table.chat_completions_schema["function"]["name"] == "book_table"


async def test_execute_converts_enums_and_returns_text():
    result = await book_table.execute(json.dumps({"people": 2, "time": "19:30", "seating": "outside"}))
    assert result.output == "booked 2 at 19:30 in the bar, outside"
    assert not result.is_error


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ('{"people": 12, "time": "20:00"}', "at most 8"),
        ('{"people": 2}', "missing required arguments ['time']"),
        ('{"people": 2, "time": "x", "pets": 1}', "unknown arguments ['pets']"),
        ("not json", "invalid JSON"),
        ('{"people": 2, "time": "x", "seating": "roof"}', "bad value for seating"),
    ],
)
async def test_errors_go_back_to_the_model(arguments, fragment):
    result = await book_table.execute(arguments)
    assert result.is_error
    assert fragment in result.output


async def test_a_crashing_tool_becomes_an_error_output():
    @function_tool
    def broken() -> str:
        """Always fails."""
        raise KeyError("nope")

    result = await broken.execute("{}")
    assert result.is_error and "KeyError" in result.output


async def test_methods_bind_and_none_needs_no_reply():
    class Agent:
        calls: list[str] = []

        @function_tool(name="remember", description="Remember a fact.")
        def remember(self, fact: str) -> None:
            self.calls.append(fact)

    agent = Agent()
    tools = find_function_tools(agent)
    assert [t.name for t in tools] == ["remember"]
    result = await tools[0].execute({"fact": "likes tea"})
    assert agent.calls == ["likes tea"]
    assert result.output == "" and not result.reply_required
    assert isinstance(Agent.remember, FunctionTool)


def test_unsupported_types_are_refused_clearly():
    with pytest.raises(TypeError, match="needs a type hint"):

        @function_tool
        def untyped(x):  # type: ignore[no-untyped-def]
            return x

    with pytest.raises(TypeError, match="has no JSON schema"):

        @function_tool
        def weird(x: complex) -> str:
            return str(x)
