"""The conversation history an LLM or realtime model sees.

    ctx = ChatContext.empty()
    ctx.add_message(role="system", content="You are a helpful voice assistant.")
    ctx.add_message(role="user", content="book a table for two", turn_id="turn_1")
    ctx.to_openai_messages()   # the `messages` of a chat completions request

Items are `ChatMessage`, `FunctionCall` and `FunctionCallOutput`. A message carries the
`turn_id` of the user turn it belongs to and, for the agent's replies, the `speech_id`
of the reply, so metrics and events can be joined to history without guessing. An
assistant message that the user cut off holds only the text that was actually heard,
with `interrupted=True`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, Literal, TypeAlias

import attrs

from voxtrio.core.clock import wall_time
from voxtrio.core.misc import shortuuid

__all__ = [
    "ChatContext",
    "ChatItem",
    "ChatMessage",
    "ChatRole",
    "FunctionCall",
    "FunctionCallOutput",
]

ChatRole = Literal["developer", "system", "user", "assistant"]
_ROLES = ("developer", "system", "user", "assistant")


def _content_list(value: str | Iterable[str]) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(part) for part in value]


@attrs.define(slots=True, kw_only=True)
class ChatMessage:
    """One message: `ChatMessage(role="user", content=["hello"])`.

    `metrics` holds the per-turn latency report on the items the session commits
    (`e2e_latency`, `transcription_delay`, `end_of_turn_delay`, `llm_ttft`, `tts_ttfb`,
    `started_speaking_at`, `stopped_speaking_at`).
    """

    role: ChatRole = attrs.field()
    content: list[str] = attrs.field(converter=_content_list, factory=list)
    id: str = attrs.field(factory=lambda: shortuuid("item_"))
    interrupted: bool = False
    turn_id: str | None = None
    speech_id: str | None = None
    created_at: float = attrs.field(factory=wall_time)
    metrics: dict[str, float] = attrs.field(factory=dict)
    type: Literal["message"] = "message"

    @role.validator
    def _check_role(self, _attribute: object, value: str) -> None:
        if value not in _ROLES:
            raise ValueError(f"role must be one of {', '.join(_ROLES)}; got {value!r}")

    @property
    def text_content(self) -> str:
        """The text parts joined by newlines."""
        return "\n".join(part for part in self.content if part)


@attrs.define(slots=True, kw_only=True)
class FunctionCall:
    """A tool call the model asked for; `arguments` is the JSON text it produced."""

    call_id: str
    name: str
    arguments: str = "{}"
    id: str = attrs.field(factory=lambda: shortuuid("item_"))
    turn_id: str | None = None
    speech_id: str | None = None
    created_at: float = attrs.field(factory=wall_time)
    type: Literal["function_call"] = "function_call"

    def parsed_arguments(self) -> dict[str, Any]:
        """The arguments as a dict; `ValueError` if the model produced invalid JSON."""
        try:
            value = json.loads(self.arguments or "{}")
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"tool call {self.name!r} has arguments that are not JSON: {self.arguments!r}"
            ) from exc
        if not isinstance(value, dict):
            raise ValueError(
                f"tool call {self.name!r} arguments must be a JSON object, got {self.arguments!r}"
            )
        return value


@attrs.define(slots=True, kw_only=True)
class FunctionCallOutput:
    """What a tool returned (or the error it raised) for one `FunctionCall`."""

    call_id: str
    name: str
    output: str
    is_error: bool = False
    id: str = attrs.field(factory=lambda: shortuuid("item_"))
    turn_id: str | None = None
    speech_id: str | None = None
    created_at: float = attrs.field(factory=wall_time)
    type: Literal["function_call_output"] = "function_call_output"


ChatItem: TypeAlias = ChatMessage | FunctionCall | FunctionCallOutput
_ITEM_TYPES: dict[str, type[ChatMessage] | type[FunctionCall] | type[FunctionCallOutput]] = {
    "message": ChatMessage,
    "function_call": FunctionCall,
    "function_call_output": FunctionCallOutput,
}


@attrs.define(slots=True)
class ChatContext:
    """An ordered list of chat items with the helpers a voice agent needs."""

    items: list[ChatItem] = attrs.field(factory=list)

    @classmethod
    def empty(cls) -> ChatContext:
        return cls()

    def add_message(
        self,
        *,
        role: ChatRole,
        content: str | Iterable[str],
        interrupted: bool = False,
        turn_id: str | None = None,
        speech_id: str | None = None,
        id: str | None = None,
        created_at: float | None = None,
        metrics: dict[str, float] | None = None,
    ) -> ChatMessage:
        """Append a message (or insert it by `created_at` when one is given)."""
        message = ChatMessage(
            role=role,
            content=_content_list(content),
            interrupted=interrupted,
            turn_id=turn_id,
            speech_id=speech_id,
            metrics=dict(metrics or {}),
        )
        if id is not None:
            message.id = id
        if created_at is not None:
            message.created_at = created_at
            self.insert(message)
        else:
            self.items.append(message)
        return message

    def insert(self, item: ChatItem) -> None:
        """Insert keeping `created_at` order (after items created at the same time)."""
        index = len(self.items)
        while index > 0 and self.items[index - 1].created_at > item.created_at:
            index -= 1
        self.items.insert(index, item)

    def append(self, item: ChatItem) -> None:
        self.items.append(item)

    def messages(self) -> list[ChatMessage]:
        return [item for item in self.items if isinstance(item, ChatMessage)]

    def get_by_id(self, item_id: str) -> ChatItem | None:
        index = self.index_by_id(item_id)
        return None if index is None else self.items[index]

    def index_by_id(self, item_id: str) -> int | None:
        for index, item in enumerate(self.items):
            if item.id == item_id:
                return index
        return None

    def remove(self, item_id: str) -> ChatItem:
        index = self.index_by_id(item_id)
        if index is None:
            raise KeyError(f"no chat item with id {item_id!r}")
        return self.items.pop(index)

    def copy(self, *, exclude_function_calls: bool = False) -> ChatContext:
        items = [attrs.evolve(item) for item in self.items]
        if exclude_function_calls:
            items = [item for item in items if isinstance(item, ChatMessage)]
        return ChatContext(items)

    def truncate(self, *, max_items: int) -> ChatContext:
        """Keep the last `max_items` items, plus the first system message.

        The kept tail never starts with a tool output whose call was cut away.
        """
        if max_items <= 0:
            raise ValueError(f"max_items must be positive, got {max_items}")
        tail = self.items[-max_items:]
        while tail and isinstance(tail[0], FunctionCallOutput):
            tail = tail[1:]
        system = next(
            (m for m in self.items if isinstance(m, ChatMessage) and m.role == "system"), None
        )
        if system is not None and system not in tail:
            tail = [system, *tail]
        self.items = tail
        return self

    def __iter__(self) -> Iterator[ChatItem]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def to_dict(self) -> dict[str, Any]:
        return {"items": [attrs.asdict(item) for item in self.items]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChatContext:
        items: list[ChatItem] = []
        for raw in data.get("items", []):
            kind = raw.get("type", "message")
            item_type = _ITEM_TYPES.get(kind)
            if item_type is None:
                raise ValueError(f"unknown chat item type {kind!r}; expected one of {list(_ITEM_TYPES)}")
            items.append(item_type(**raw))
        return cls(items)

    def to_openai_messages(self) -> list[dict[str, Any]]:
        """The history in OpenAI chat-completions form (tool calls grouped per turn)."""
        out: list[dict[str, Any]] = []
        for item in self.items:
            if isinstance(item, ChatMessage):
                out.append({"role": item.role, "content": item.text_content})
            elif isinstance(item, FunctionCall):
                call = {
                    "id": item.call_id,
                    "type": "function",
                    "function": {"name": item.name, "arguments": item.arguments},
                }
                previous = out[-1] if out else None
                if previous is not None and previous["role"] == "assistant" and "tool_calls" in previous:
                    previous["tool_calls"].append(call)
                else:
                    out.append({"role": "assistant", "content": None, "tool_calls": [call]})
            else:
                out.append({"role": "tool", "tool_call_id": item.call_id, "content": item.output})
        return out
