"""Any server that speaks the OpenAI chat-completions API, streamed: OpenAI, Ollama,
vLLM, llama.cpp's server, LM Studio...

    llm = OpenAICompatibleLLM("http://127.0.0.1:11434/v1", model="llama3.2")
    session = AgentSession(..., llm=llm)

The request streams (`stream: true`, with usage in the last chunk); text deltas go out as
they arrive, tool-call fragments are assembled per call and handed out whole when the
model finishes. The HTTP client is httpx, which runs on trio.

Errors: an HTTP error status becomes `APIStatusError` (4xx other than 408/429/499 are
not retried), a connection failure `APIConnectionError`, no answer within
`conn_options.timeout` `APITimeoutError`. They are retried per `APIConnectOptions` while
nothing has been streamed yet; a failure after the first token surfaces from the
stream, since retrying would repeat what the user already heard. `api_key` defaults to
the `OPENAI_API_KEY` environment variable when the base URL is OpenAI's; it is sent as
a bearer token and never logged.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import attrs
import httpx
import trio

from voxtrio.core.fast_clock import ClockHold
from voxtrio.engines.errors import APIConnectionError, APIError, APIStatusError, APITimeoutError
from voxtrio.engines.llm import LLM, CompletionUsage, FunctionToolCall, LLMStream

__all__ = ["OpenAICompatibleLLM"]

logger = logging.getLogger("voxtrio.llm.openai")

OPENAI_BASE_URL = "https://api.openai.com/v1"


class OpenAICompatibleLLM(LLM):
    """See the module docstring."""

    def __init__(
        self,
        base_url: str = OPENAI_BASE_URL,
        *,
        model: str,
        api_key: str | None = None,
        temperature: float | None = None,
        extra_body: dict[str, Any] | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__()
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.provider = "openai" if self.base_url == OPENAI_BASE_URL else self.base_url
        self.label = f"openai_compat:{model}"
        if api_key is None and self.base_url == OPENAI_BASE_URL:
            api_key = os.environ.get("OPENAI_API_KEY")
            if not api_key:
                raise ValueError("OpenAI needs an API key: pass api_key=... or set OPENAI_API_KEY")
        self._api_key = api_key
        self.temperature = temperature
        self.extra_body = dict(extra_body or {})
        self._client = client
        self._owns_client = client is None

    def __repr__(self) -> str:  # never show the key
        return f"OpenAICompatibleLLM({self.base_url!r}, model={self.model!r})"

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient()
        return self._client

    async def aclose(self) -> None:
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None

    def request_body(self, stream: LLMStream) -> dict[str, Any]:
        """The JSON body sent for `stream` (exposed for tests and debugging)."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": stream.chat_ctx.to_openai_messages(),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if stream.tools:
            body["tools"] = [tool.chat_completions_schema for tool in stream.tools]
            body["tool_choice"] = stream.tool_choice
        if self.temperature is not None:
            body["temperature"] = self.temperature
        body.update(self.extra_body)
        return body

    async def _run(self, stream: LLMStream) -> None:
        headers = {"Accept": "text/event-stream"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        timeout = stream.conn_options.timeout or None
        url = f"{self.base_url}/chat/completions"
        calls = _ToolCallAssembler()
        # Held while we wait for the server (not while a consumer takes our output).
        waiting = ClockHold()
        waiting.add()
        try:
            with trio.CancelScope() as deadline:
                if timeout:
                    deadline.deadline = trio.current_time() + timeout
                async with self._http().stream(
                    "POST", url, json=self.request_body(stream), headers=headers,
                    timeout=httpx.Timeout(timeout, read=None),
                ) as response:
                    if response.status_code >= 400:
                        await _raise_for_status(response)
                    # Once the server answers, the deadline no longer applies: a long
                    # reply may legitimately take longer than the connect timeout.
                    deadline.deadline = float("inf")
                    async for data in _sse_data(response):
                        waiting.done()
                        if data == "[DONE]":
                            break
                        await self._handle_chunk(stream, data, calls)
                        waiting.add()
        except httpx.TimeoutException as exc:
            raise APITimeoutError(f"{self.base_url} timed out") from exc
        except (httpx.TransportError, httpx.StreamError) as exc:
            raise APIConnectionError(f"cannot reach {self.base_url}") from exc
        finally:
            waiting.release_all()
        if deadline.cancelled_caught:
            raise APITimeoutError(f"{self.base_url} did not answer within {timeout} s")
        for call in calls.complete():
            await stream.send_tool_call(call)

    async def _handle_chunk(self, stream: LLMStream, data: str, calls: _ToolCallAssembler) -> None:
        try:
            chunk = json.loads(data)
        except json.JSONDecodeError as exc:
            raise APIError(f"{self.base_url} streamed invalid JSON: {data[:200]!r}", retryable=False) from exc
        if "error" in chunk:
            error = chunk["error"]
            message = error.get("message", str(error)) if isinstance(error, dict) else str(error)
            raise APIStatusError(f"server error mid-stream: {message}", status_code=500, body=chunk)
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            content = delta.get("content")
            if content:
                await stream.send_text(content)
            for fragment in delta.get("tool_calls") or []:
                calls.add(fragment)
        usage = chunk.get("usage")
        if usage:
            details = usage.get("prompt_tokens_details") or {}
            await stream.send_usage(
                CompletionUsage(
                    completion_tokens=int(usage.get("completion_tokens") or 0),
                    prompt_tokens=int(usage.get("prompt_tokens") or 0),
                    prompt_cached_tokens=int(details.get("cached_tokens") or 0),
                )
            )


@attrs.define
class _PartialCall:
    call_id: str = ""
    name: str = ""
    arguments: str = ""


class _ToolCallAssembler:
    """Tool calls arrive as fragments keyed by `index`; join them into whole calls."""

    def __init__(self) -> None:
        self._calls: dict[int, _PartialCall] = {}

    def add(self, fragment: dict[str, Any]) -> None:
        index = int(fragment.get("index", 0))
        call = self._calls.setdefault(index, _PartialCall())
        if fragment.get("id"):
            call.call_id = fragment["id"]
        function = fragment.get("function") or {}
        if function.get("name"):
            call.name += function["name"]
        if function.get("arguments"):
            call.arguments += function["arguments"]

    def complete(self) -> list[FunctionToolCall]:
        return [
            FunctionToolCall(name=c.name, arguments=c.arguments or "{}", call_id=c.call_id or f"call_{i}")
            for i, c in sorted(self._calls.items())
            if c.name
        ]


async def _sse_data(response: httpx.Response) -> Any:
    """The `data:` payloads of a server-sent-events stream, one per event."""
    lines: list[str] = []
    async for line in response.aiter_lines():
        if not line:
            if lines:
                yield "\n".join(lines)
                lines = []
            continue
        if line.startswith("data:"):
            lines.append(line[5:].lstrip())
    if lines:
        yield "\n".join(lines)


async def _raise_for_status(response: httpx.Response) -> None:
    body = (await response.aread()).decode("utf-8", "replace")
    try:
        message = json.loads(body).get("error", {}).get("message") or body
    except (json.JSONDecodeError, AttributeError):
        message = body
    raise APIStatusError(
        f"chat completion failed: {message[:300]}",
        status_code=response.status_code,
        request_id=response.headers.get("x-request-id"),
        body=body,
    )
