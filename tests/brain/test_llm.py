"""LLM streams: FunctionLLM brains, scripted FakeLLM timings, retries and metrics."""

import pytest
import trio

from voxtrio.engines.chat import ChatContext
from voxtrio.engines.errors import APIConnectionError, APIConnectOptions, APIStatusError
from voxtrio.engines.fake_llm import FakeLLM, FakeLLMResponse
from voxtrio.engines.function_llm import FunctionLLM
from voxtrio.engines.llm import LLM, FunctionToolCall, LLMStream
from voxtrio.engines.metrics import LLMMetrics


def user_says(text: str) -> ChatContext:
    ctx = ChatContext.empty()
    ctx.add_message(role="user", content=text)
    return ctx


def record_metrics(llm: LLM) -> list[LLMMetrics]:
    seen: list[LLMMetrics] = []
    llm.on("metrics_collected", seen.append)
    return seen


async def test_function_brain_returning_text():
    llm = FunctionLLM(lambda ctx: f"You said: {ctx.messages()[-1].text_content}.")
    async with llm.chat(user_says("hello")) as stream:
        assert await stream.collect_text() == "You said: hello."


async def test_generator_brain_streams_text_and_tool_calls(autojump_clock):
    async def brain(ctx, tools):
        assert [t for t in tools] == []
        yield "Let me "
        await trio.sleep(0.2)
        yield "check."
        yield FunctionToolCall(name="lookup", arguments='{"q": "x"}', call_id="c1")

    llm = FunctionLLM(brain)
    metrics = record_metrics(llm)
    texts, calls = [], []
    async with llm.chat(user_says("hi"), turn_id="turn_1") as stream:
        async for chunk in stream:
            if chunk.delta and chunk.delta.content:
                texts.append(chunk.delta.content)
            if chunk.delta:
                calls.extend(chunk.delta.tool_calls)
    assert texts == ["Let me ", "check."]
    assert [c.name for c in calls] == ["lookup"]
    (m,) = metrics
    assert m.turn_id == "turn_1" and not m.cancelled
    assert m.ttft == pytest.approx(0.0, abs=1e-6)
    assert m.duration == pytest.approx(0.2, abs=1e-6)


async def test_bad_brain_result_is_a_clear_error():
    llm = FunctionLLM(lambda ctx: 42)
    async with llm.chat(user_says("hi")) as stream:
        with pytest.raises(TypeError, match="must return str"):
            await stream.collect_text()


async def test_fake_llm_timings_follow_the_script(autojump_clock):
    llm = FakeLLM([FakeLLMResponse(input="book a table", content="For how many?", ttft=0.1, duration=0.3)])
    metrics = record_metrics(llm)
    start = trio.current_time()
    arrivals = []
    async with llm.chat(user_says("Book a table")) as stream:
        async for chunk in stream:
            if chunk.delta and chunk.delta.content:
                arrivals.append(trio.current_time() - start)
    assert arrivals[0] == pytest.approx(0.1)
    assert arrivals[-1] < 0.3
    (m,) = metrics
    assert m.ttft == pytest.approx(0.1)
    assert m.duration == pytest.approx(0.3)
    assert m.completion_tokens == 4 and m.prompt_tokens == 3


async def test_retryable_error_before_first_token_is_retried(autojump_clock):
    response = FakeLLMResponse(
        input="hi", content="hello", ttft=0.1, duration=0.2, error=APIConnectionError("reset"), fail_times=2
    )
    llm = FakeLLM([response])
    options = APIConnectOptions(max_retry=3, retry_interval=1.0)
    start = trio.current_time()
    async with llm.chat(user_says("hi"), conn_options=options) as stream:
        assert await stream.collect_text() == "hello"
    # two failures after 0.1 s each, waits of 0.1 s (first retry) and 1.0 s, then 0.2 s
    assert trio.current_time() - start == pytest.approx(0.1 + 0.1 + 0.1 + 1.0 + 0.2)


async def test_errors_surface_after_the_last_retry_and_4xx_is_not_retried(autojump_clock):
    failing = FakeLLM(
        [FakeLLMResponse(input="hi", error=APIConnectionError("down"), fail_times=99)]
    )
    errors = []
    failing.on("error", errors.append)
    async with failing.chat(user_says("hi"), conn_options=APIConnectOptions(max_retry=2)) as stream:
        with pytest.raises(APIConnectionError):
            await stream.collect_text()
    assert len(failing.requests) == 3 and len(errors) == 1

    rejected = FakeLLM([FakeLLMResponse(input="hi", error=APIStatusError("bad key", status_code=401))])
    async with rejected.chat(user_says("hi")) as stream:
        with pytest.raises(APIStatusError):
            await stream.collect_text()
    assert len(rejected.requests) == 1


async def test_leaving_the_block_cancels_the_request(autojump_clock):
    llm = FakeLLM([FakeLLMResponse(input="hi", content="x" * 300, ttft=0.1, duration=10.0)])
    metrics = record_metrics(llm)
    async with llm.chat(user_says("hi")) as stream:
        async for _chunk in stream:
            break
    assert metrics[0].cancelled
    assert trio.current_time() < 1.0


class _Silent(LLM):
    async def _run(self, stream: LLMStream) -> None:
        return None


async def test_empty_reply_reports_no_first_token():
    llm = _Silent()
    metrics = record_metrics(llm)
    async with llm.chat(user_says("hi")) as stream:
        assert await stream.collect_text() == ""
    assert metrics[0].ttft == -1.0
