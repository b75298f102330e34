"""OpenAICompatibleLLM against a local scripted chat-completions server (real sockets).

Rules: 127.0.0.1, port 0; trio's MockClock with a small autojump threshold, so retry
waits are virtual while socket I/O runs for real; every test bounded by fail_after.
"""

import json

import pytest
import trio
import trio.testing

from voxtrio.engines.chat import ChatContext
from voxtrio.engines.errors import APIConnectionError, APIConnectOptions, APIStatusError
from voxtrio.engines.metrics import LLMMetrics
from voxtrio.engines.openai_compat import OpenAICompatibleLLM
from voxtrio.engines.tools import function_tool
from voxtrio.testing.chat_server import (
    ScriptedReply,
    serve_chat_completions,
    text_chunks,
    tool_call_chunks,
)


@pytest.fixture
def clock():
    # Jump virtual time only after 20 ms of real idleness: sockets still get serviced.
    return trio.testing.MockClock(autojump_threshold=0.02)


def ask(text: str) -> ChatContext:
    ctx = ChatContext.empty()
    ctx.add_message(role="system", content="be brief")
    ctx.add_message(role="user", content=text)
    return ctx


@function_tool
def get_weather(city: str) -> str:
    """Weather for a city.

    Args:
        city: The city name.
    """
    return f"sunny in {city}"


async def collect(llm, ctx, **kwargs):
    text, calls, usage = [], [], None
    async with llm.chat(ctx, **kwargs) as stream:
        async for chunk in stream:
            if chunk.delta:
                if chunk.delta.content:
                    text.append(chunk.delta.content)
                calls.extend(chunk.delta.tool_calls)
            if chunk.usage:
                usage = chunk.usage
    return "".join(text), calls, usage


async def test_streams_text_usage_and_metrics(clock):
    with trio.fail_after(10):
        async with serve_chat_completions([ScriptedReply(chunks=text_chunks("Hello there, friend!"), usage=(21, 6))]) as server:
            llm = OpenAICompatibleLLM(server.base_url, model="tiny", api_key="sk-test")
            metrics: list[LLMMetrics] = []
            llm.on("metrics_collected", metrics.append)
            text, calls, usage = await collect(llm, ask("hi"), tools=[get_weather], speech_id="speech_1")
            await llm.aclose()
    assert text == "Hello there, friend!" and calls == []
    assert (usage.prompt_tokens, usage.completion_tokens) == (21, 6)
    body = server.requests[0]
    assert body["model"] == "tiny" and body["stream"] is True
    assert body["messages"] == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    assert body["tools"][0]["function"]["name"] == "get_weather"
    assert server.authorizations == ["Bearer sk-test"]
    (m,) = metrics
    assert m.prompt_tokens == 21 and m.completion_tokens == 6 and m.speech_id == "speech_1"
    assert m.ttft >= 0 and not m.cancelled
    assert "sk-test" not in repr(llm)


async def test_assembles_streamed_tool_calls(clock):
    chunks = text_chunks("Checking. ") + tool_call_chunks("get_weather", json.dumps({"city": "Paris"}), "call_a")
    with trio.fail_after(10):
        async with serve_chat_completions([ScriptedReply(chunks=chunks)]) as server:
            llm = OpenAICompatibleLLM(server.base_url, model="tiny")
            text, calls, _ = await collect(llm, ask("weather?"))
            await llm.aclose()
    assert text == "Checking. "
    (call,) = calls
    assert (call.name, call.call_id, json.loads(call.arguments)) == ("get_weather", "call_a", {"city": "Paris"})


async def test_429_is_retried_then_succeeds(clock):
    script = [ScriptedReply(status=429), ScriptedReply(chunks=text_chunks("ok"))]
    with trio.fail_after(10):
        async with serve_chat_completions(script) as server:
            llm = OpenAICompatibleLLM(server.base_url, model="tiny")
            start = trio.current_time()
            text, _, _ = await collect(llm, ask("hi"), conn_options=APIConnectOptions(max_retry=2, retry_interval=1.0))
            waited = trio.current_time() - start
            await llm.aclose()
    assert text == "ok" and len(server.requests) == 2
    assert waited >= 0.1  # the first retry waits 0.1 s (virtual)


async def test_401_is_not_retried(clock):
    with trio.fail_after(10):
        async with serve_chat_completions([ScriptedReply(status=401)]) as server:
            llm = OpenAICompatibleLLM(server.base_url, model="tiny")
            with pytest.raises(APIStatusError) as info:
                await collect(llm, ask("hi"))
            await llm.aclose()
    assert info.value.status_code == 401 and len(server.requests) == 1


async def test_server_error_mid_stream_surfaces_after_the_text_so_far(clock):
    script = [ScriptedReply(chunks=text_chunks("Once upon a time there was"), error_after=2)]
    with trio.fail_after(10):
        async with serve_chat_completions(script) as server:
            llm = OpenAICompatibleLLM(server.base_url, model="tiny")
            received = []
            with pytest.raises(APIStatusError, match="mid-stream"):
                async with llm.chat(ask("story")) as stream:
                    async for chunk in stream:
                        received.append(chunk.delta.content)
            await llm.aclose()
    assert "".join(received) == "Once upo"
    assert len(server.requests) == 1, "no retry once text went out"


async def test_dropped_connection_mid_stream_is_a_connection_error(clock):
    script = [ScriptedReply(chunks=text_chunks("abcdefgh"), drop_after=1)]
    with trio.fail_after(10):
        async with serve_chat_completions(script) as server:
            llm = OpenAICompatibleLLM(server.base_url, model="tiny")
            with pytest.raises(APIConnectionError):
                await collect(llm, ask("hi"))
            await llm.aclose()
    del server


async def test_unreachable_server_is_retried_then_fails(clock):
    llm = OpenAICompatibleLLM("http://127.0.0.1:9/v1", model="tiny")
    with trio.fail_after(10), pytest.raises(APIConnectionError):
        await collect(llm, ask("hi"), conn_options=APIConnectOptions(max_retry=1, retry_interval=0.5))
    await llm.aclose()


def test_openai_needs_a_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        OpenAICompatibleLLM(model="gpt-4o-mini")
    with pytest.raises(ValueError, match="http"):
        OpenAICompatibleLLM("localhost:8080", model="x")
