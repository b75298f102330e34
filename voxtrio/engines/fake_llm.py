"""A scripted LLM with the timings of a real one, for tests on virtual time.

    llm = FakeLLM([
        FakeLLMResponse(input="book a table", content="For how many people?", ttft=0.1, duration=0.3),
    ])

The response is chosen by the text of the last user message (exact match first, then
the first response whose `input` the text contains; an unknown input gives
`default_response`, or an empty reply). Right after a round of tool calls (the context
ends with tool outputs) it is chosen by the last tool output's text instead, so a
script can say what the model answers once it saw the tool's result. The content streams in small pieces: the first
after `ttft`, the rest spread evenly until `duration`; tool calls go out at `duration`.
All waiting is on trio's clock, so with `MockClock(autojump_threshold=0)` it costs no
real time.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import trio

from voxtrio.engines.chat import ChatContext, FunctionCallOutput
from voxtrio.engines.errors import APIError
from voxtrio.engines.llm import LLM, CompletionUsage, FunctionToolCall, LLMStream

__all__ = ["FakeLLM", "FakeLLMResponse"]


@attrs.frozen(slots=True, kw_only=True)
class FakeLLMResponse:
    input: str
    content: str = ""
    ttft: float = 0.1
    duration: float = 0.3
    tool_calls: tuple[FunctionToolCall, ...] = ()
    error: APIError | None = None
    """Raised after `ttft` instead of answering (once per `fail_times`)."""
    fail_times: int = 1


class FakeLLM(LLM):
    """See the module docstring."""

    def __init__(
        self,
        responses: Sequence[FakeLLMResponse] = (),
        *,
        default_response: FakeLLMResponse | None = None,
        chunk_chars: int = 3,
    ) -> None:
        super().__init__()
        self.label = "fake_llm"
        self.model = "fake"
        self.provider = "voxtrio"
        self._responses = list(responses)
        self._default = default_response
        self._chunk_chars = chunk_chars
        self._failures: dict[int, int] = {}
        self.requests: list[ChatContext] = []

    def response_for(self, chat_ctx: ChatContext) -> FakeLLMResponse | None:
        last = chat_ctx.items[-1] if chat_ctx.items else None
        if isinstance(last, FunctionCallOutput):
            text = last.output.strip().lower()
        else:
            users = [m for m in chat_ctx.messages() if m.role == "user"]
            text = users[-1].text_content.strip().lower() if users else ""
        for response in self._responses:
            if response.input.strip().lower() == text:
                return response
        for response in self._responses:
            if response.input.strip().lower() in text:
                return response
        return self._default

    async def _run(self, stream: LLMStream) -> None:
        self.requests.append(stream.chat_ctx.copy())
        response = self.response_for(stream.chat_ctx)
        start = trio.current_time()
        if response is None:
            return
        await trio.sleep_until(start + response.ttft)
        if response.error is not None:
            failed = self._failures.get(id(response), 0)
            if failed < response.fail_times:
                self._failures[id(response)] = failed + 1
                raise response.error
        pieces = [
            response.content[i : i + self._chunk_chars]
            for i in range(0, len(response.content), self._chunk_chars)
        ]
        step = (response.duration - response.ttft) / max(len(pieces), 1)
        for index, piece in enumerate(pieces):
            await trio.sleep_until(start + response.ttft + index * step)
            await stream.send_text(piece)
        await trio.sleep_until(start + response.duration)
        for call in response.tool_calls:
            await stream.send_tool_call(call)
        prompt_chars = sum(len(m.text_content) for m in stream.chat_ctx.messages())
        await stream.send_usage(
            CompletionUsage(
                completion_tokens=(len(response.content) + 3) // 4,
                prompt_tokens=(prompt_chars + 3) // 4,
            )
        )
