"""The conversation a realtime session keeps, and how to rebuild it on a new connection.

    await new_session.update_chat_ctx(replay_items(old_session.history))

Items are matched by id. A server's item events carry no audio bytes, and a client may
not add assistant audio, so replaying turns audio parts into text from transcripts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from voxtrio.protocols.openai_realtime.items import (
    FunctionCallItem,
    FunctionCallOutputItem,
    InputAudio,
    InputImage,
    InputText,
    Item,
    MessageItem,
    OutputText,
)
from voxtrio.protocols.openai_realtime.items import OutputAudio as OutputAudioPart
from voxtrio.protocols.openai_realtime.values import RawObject

__all__ = ["item_id_of", "keep_transcripts", "replay_items", "with_item_id"]


def replay_items(history: Sequence[Item]) -> list[Item]:
    """Client-creatable copies of `history`, to rebuild a conversation on a new connection.

        await new_session.update_chat_ctx(replay_items(old_session.history))

    Audio cannot be re-sent (item events carry no audio bytes, and a client cannot add
    assistant audio), so audio parts become text from their transcripts: user audio ->
    `InputText`, assistant audio -> `OutputText`. Parts without a transcript and MCP
    items are left out; ids are kept, server bookkeeping (`object`, `status`) dropped.
    """
    out: list[Item] = []
    for item in history:
        if isinstance(item, MessageItem):
            parts: list[Any] = []
            for part in item.content:
                if isinstance(part, InputAudio):
                    if part.transcript:
                        parts.append(InputText(part.transcript))
                elif isinstance(part, OutputAudioPart):
                    if part.transcript:
                        parts.append(OutputText(part.transcript))
                elif isinstance(part, InputImage) or isinstance(part, (InputText, OutputText)):
                    parts.append(part)
            if parts:
                out.append(MessageItem(role=item.role, content=tuple(parts), id=item.id))
        elif isinstance(item, FunctionCallItem):
            out.append(attrs.evolve(item, object=None, status=None))
        elif isinstance(item, FunctionCallOutputItem):
            out.append(attrs.evolve(item, object=None, status=None))
    return out


def with_item_id(item: Item, item_id: str) -> Item:
    """A copy of `item` with its id set (RawObject included)."""
    if isinstance(item, RawObject):
        return RawObject({**item.raw, "id": item_id})
    return attrs.evolve(item, id=item_id)


def item_id_of(item: Item) -> str | None:
    """The item's id, or None when it has none yet."""
    if isinstance(item, RawObject):
        value = item.raw.get("id")
        return value if isinstance(value, str) else None
    return item.id


def keep_transcripts(old: Item, new: Item) -> Item:
    """`new`, but audio parts it leaves without a transcript keep `old`'s."""
    if not (isinstance(old, MessageItem) and isinstance(new, MessageItem)):
        return new
    parts = list(new.content)
    for index, part in enumerate(parts):
        if isinstance(part, (InputAudio, OutputAudioPart)) and part.transcript is None:
            if index < len(old.content):
                previous = old.content[index]
                if isinstance(previous, type(part)) and previous.transcript is not None:
                    parts[index] = attrs.evolve(part, transcript=previous.transcript)
    return attrs.evolve(new, content=tuple(parts))
