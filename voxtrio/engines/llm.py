"""The LLM interface: a chat context in, a stream of text and tool-call deltas out.

    async with llm.chat(chat_ctx, tools=[book_table]) as stream:
        async for chunk in stream:
            if chunk.delta and chunk.delta.content:
                print(chunk.delta.content, end="")

`LLM.chat()` returns an `LLMStream`, an async context manager: the stream's producer
runs in a nursery the context owns, so leaving the block (or cancelling it) stops the
request; nothing outlives it. Chunks pass through a bounded mailbox (back-pressure, no
unbounded buffer). A retryable `APIError` raised before the first chunk is retried per
`APIConnectOptions`; once text has been handed out a retry would repeat it, so a later
error surfaces from the iterator. Each stream emits one `LLMMetrics` through
`llm.on("metrics_collected", ...)` when it ends (also when cancelled or failed).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import Any, Literal

import attrs
import trio

from voxtrio.core.emitter import EventEmitter
from voxtrio.core.mailbox import MailboxReceiver, MailboxSender, open_mailbox
from voxtrio.core.misc import shortuuid
from voxtrio.engines._emits import EmitsEvents
from voxtrio.engines.chat import ChatContext
from voxtrio.engines.errors import APIConnectOptions, APIError
from voxtrio.engines.metrics import LLMMetrics
from voxtrio.engines.tools import FunctionTool

__all__ = [
    "LLM",
    "ChatChunk",
    "ChoiceDelta",
    "CompletionUsage",
    "FunctionToolCall",
    "LLMStream",
    "ToolChoice",
]

logger = logging.getLogger("voxtrio.llm")

ToolChoice = Literal["auto", "required", "none"]
DEFAULT_CONNECT_OPTIONS = APIConnectOptions()


@attrs.frozen(slots=True)
class FunctionToolCall:
    """A complete tool call from the model (arguments assembled into one JSON text)."""

    name: str
    arguments: str
    call_id: str


@attrs.frozen(slots=True)
class ChoiceDelta:
    role: Literal["assistant"] = "assistant"
    content: str | None = None
    tool_calls: tuple[FunctionToolCall, ...] = ()


@attrs.frozen(slots=True)
class CompletionUsage:
    completion_tokens: int
    prompt_tokens: int
    prompt_cached_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.completion_tokens + self.prompt_tokens


@attrs.frozen(slots=True)
class ChatChunk:
    """One streamed piece: a delta (text and/or tool calls) and/or the usage totals."""

    id: str
    delta: ChoiceDelta | None = None
    usage: CompletionUsage | None = None


class LLM(EmitsEvents):
    """Base class: subclasses implement `_run(stream)`; users call `chat()`.

        class MyLLM(LLM):
            async def _run(self, stream: LLMStream) -> None:
                await stream.send_text("hello")
    """

    label: str = "llm"
    model: str = "unknown"
    provider: str = "unknown"

    def __init__(self) -> None:
        self._events = EventEmitter()

    def chat(
        self,
        chat_ctx: ChatContext,
        *,
        tools: Sequence[FunctionTool] = (),
        tool_choice: ToolChoice = "auto",
        conn_options: APIConnectOptions = DEFAULT_CONNECT_OPTIONS,
        speech_id: str | None = None,
        turn_id: str | None = None,
    ) -> LLMStream:
        return LLMStream(
            self,
            chat_ctx,
            tools=tools,
            tool_choice=tool_choice,
            conn_options=conn_options,
            speech_id=speech_id,
            turn_id=turn_id,
        )

    async def _run(self, stream: LLMStream) -> None:
        """Produce the reply: call `stream.send_text`, `send_tool_call`, `send_usage`."""
        raise NotImplementedError(f"{type(self).__name__} must implement _run()")  # abstract

    async def aclose(self) -> None:
        """Release connections (nothing to release in the base class)."""


class LLMStream:
    """One model request; see the module docstring for the lifecycle."""

    def __init__(
        self,
        llm: LLM,
        chat_ctx: ChatContext,
        *,
        tools: Sequence[FunctionTool],
        tool_choice: ToolChoice,
        conn_options: APIConnectOptions,
        speech_id: str | None,
        turn_id: str | None,
        capacity: int = 64,
    ) -> None:
        self.llm = llm
        self.chat_ctx = chat_ctx
        self.tools = list(tools)
        self.tool_choice: ToolChoice = tool_choice
        self.conn_options = conn_options
        self.speech_id = speech_id
        self.turn_id = turn_id
        self.request_id = shortuuid("llm_")
        self._send: MailboxSender[ChatChunk]
        self._receive: MailboxReceiver[ChatChunk]
        self._send, self._receive = open_mailbox(capacity, "block")
        self._nursery_manager: Any = None
        self._nursery: trio.Nursery | Any = None
        self._error: BaseException | None = None
        self._chunks_sent = 0
        self._started_at = 0.0
        self._first_token_at: float | None = None
        self._usage: CompletionUsage | None = None
        self._completion_chars = 0
        self._finished = False

    async def send_text(self, text: str) -> None:
        """Hand the consumer a text delta (for `_run` implementations)."""
        if not text:
            return
        self._mark_first_token()
        self._completion_chars += len(text)
        await self._send_chunk(ChatChunk(self.request_id, delta=ChoiceDelta(content=text)))

    async def send_tool_call(self, call: FunctionToolCall) -> None:
        self._mark_first_token()
        await self._send_chunk(ChatChunk(self.request_id, delta=ChoiceDelta(tool_calls=(call,))))

    async def send_usage(self, usage: CompletionUsage) -> None:
        self._usage = usage
        await self._send_chunk(ChatChunk(self.request_id, usage=usage))

    async def __aenter__(self) -> LLMStream:
        self._started_at = trio.current_time()
        self._nursery_manager = trio.open_nursery()
        self._nursery = await self._nursery_manager.__aenter__()
        self._nursery.start_soon(self._main, self._send)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        # Leaving the block early cancels the request; the producer never outlives it.
        # The producer task never raises (its errors come out of the iterator), so the
        # nursery is closed on its own: an exception from the caller's block then
        # propagates as itself, not wrapped in an exception group.
        self._nursery.cancel_scope.cancel()
        self._receive.close()
        try:
            await self._nursery_manager.__aexit__(None, None, None)
        finally:
            self._emit_metrics(cancelled=not self._finished)
        return None

    def __aiter__(self) -> AsyncIterator[ChatChunk]:
        return self

    async def __anext__(self) -> ChatChunk:
        try:
            return await self._receive.receive()
        except trio.EndOfChannel:
            if self._error is not None:
                error, self._error = self._error, None
                raise error from None
            raise StopAsyncIteration from None

    async def collect_text(self) -> str:
        """Read the rest of the stream and return its text."""
        return "".join([chunk.delta.content async for chunk in self if chunk.delta and chunk.delta.content])

    async def _send_chunk(self, chunk: ChatChunk) -> None:
        self._chunks_sent += 1
        await self._send.send(chunk)

    def _mark_first_token(self) -> None:
        if self._first_token_at is None:
            self._first_token_at = trio.current_time()

    async def _main(self, send: MailboxSender[ChatChunk]) -> None:
        async with send:
            attempt = 0
            while True:
                try:
                    await self.llm._run(self)
                    self._finished = True
                    return
                except APIError as exc:
                    can_retry = exc.retryable and self._chunks_sent == 0
                    if not can_retry or attempt >= self.conn_options.max_retry:
                        self._fail(exc)
                        return
                    delay = self.conn_options.interval_for_retry(attempt)
                    attempt += 1
                    logger.warning(
                        "%s request failed (%s); retry %d of %d in %.1f s",
                        self.llm.label, exc, attempt, self.conn_options.max_retry, delay,
                    )
                    await trio.sleep(delay)
                except Exception as exc:
                    self._fail(exc)
                    return

    def _fail(self, exc: BaseException) -> None:
        self._error = exc
        self.llm.emit("error", exc)

    def _emit_metrics(self, *, cancelled: bool) -> None:
        duration = trio.current_time() - self._started_at
        ttft = -1.0 if self._first_token_at is None else self._first_token_at - self._started_at
        usage = self._usage or CompletionUsage(
            # No usage from the engine: estimate ~4 characters per token, as a hint only.
            completion_tokens=(self._completion_chars + 3) // 4,
            prompt_tokens=0,
        )
        generation_time = duration - max(ttft, 0.0)
        metrics = LLMMetrics(
            label=self.llm.label,
            request_id=self.request_id,
            duration=duration,
            ttft=ttft,
            cancelled=cancelled,
            completion_tokens=usage.completion_tokens,
            prompt_tokens=usage.prompt_tokens,
            prompt_cached_tokens=usage.prompt_cached_tokens,
            total_tokens=usage.total_tokens,
            tokens_per_second=usage.completion_tokens / generation_time if generation_time > 0 else 0.0,
            speech_id=self.speech_id,
            turn_id=self.turn_id,
        )
        self.llm.emit("metrics_collected", metrics)
