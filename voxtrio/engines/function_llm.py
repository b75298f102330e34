"""A Python function as the agent's brain: the embedded default, no model needed.

    def echo_brain(chat_ctx: ChatContext) -> str:
        heard = chat_ctx.messages()[-1].text_content
        return f"You said: {heard}."

    llm = FunctionLLM(echo_brain)

The function receives the chat context (and, if it accepts a second argument, the list
of tools) and may return:
- a `str` (the whole reply),
- an iterable or async iterable of text deltas and/or `FunctionToolCall`s (stream it
  with `yield` to see the same timing a real model gives),
- an awaitable of either.

Tool calls flow exactly as with a real model: the session runs the tool, appends the
call and its output to the chat context and calls the function again, so a brain can
look at the last `FunctionCallOutput` to phrase its answer.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterable, Callable, Iterable
from typing import Any

from voxtrio.engines.llm import LLM, FunctionToolCall, LLMStream

__all__ = ["FunctionLLM"]


class FunctionLLM(LLM):
    """Wrap `fn(chat_ctx[, tools])` as an `LLM`; see the module docstring."""

    def __init__(self, fn: Callable[..., Any], *, label: str = "function_llm") -> None:
        super().__init__()
        if not callable(fn):
            raise TypeError(f"FunctionLLM needs a callable, got {fn!r}")
        self._fn = fn
        self._wants_tools = _positional_arity(fn) >= 2
        self.label = label
        self.model = getattr(fn, "__name__", "function")
        self.provider = "python"

    async def _run(self, stream: LLMStream) -> None:
        args: tuple[Any, ...] = (stream.chat_ctx, stream.tools) if self._wants_tools else (stream.chat_ctx,)
        result = self._fn(*args)
        if inspect.isawaitable(result):
            result = await result
        if result is None:
            return
        if isinstance(result, str):
            await stream.send_text(result)
        elif isinstance(result, AsyncIterable):
            async for piece in result:
                await _send_piece(stream, piece)
        elif isinstance(result, Iterable):
            for piece in result:
                await _send_piece(stream, piece)
        else:
            raise TypeError(
                f"{self.model} returned {type(result).__name__}; a FunctionLLM brain must return "
                "str, an (async) iterable of str / FunctionToolCall, or None"
            )


async def _send_piece(stream: LLMStream, piece: Any) -> None:
    if isinstance(piece, str):
        await stream.send_text(piece)
    elif isinstance(piece, FunctionToolCall):
        await stream.send_tool_call(piece)
    elif piece is not None:
        raise TypeError(
            f"a FunctionLLM brain yielded {type(piece).__name__}; yield str or FunctionToolCall"
        )


def _positional_arity(fn: Callable[..., Any]) -> int:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 1
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return 2
    return sum(1 for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
