"""Tool calls end to end through a session, on virtual time."""

import json

import trio
import trio.testing

from voxtrio.audio.sinks import MemorySink
from voxtrio.engines.fake import FakeTTS
from voxtrio.engines.fake_llm import FakeLLM, FakeLLMResponse
from voxtrio.engines.llm import FunctionToolCall
from voxtrio.engines.openai_compat import OpenAICompatibleLLM
from voxtrio.engines.tools import function_tool
from voxtrio.session.agent import Agent
from voxtrio.session.session import AgentSession
from voxtrio.testing.chat_server import (
    ScriptedReply,
    serve_chat_completions,
    text_chunks,
    tool_call_chunks,
)
from voxtrio.testing.recorder import EventRecorder
from voxtrio.testing.user import ScriptedUser


class Weatherman(Agent):
    def __init__(self) -> None:
        super().__init__("You tell the weather.")
        self.asked: list[str] = []

    @function_tool
    async def get_weather(self, city: str) -> str:
        """The weather in a city.

        Args:
            city: The city.
        """
        self.asked.append(city)
        await trio.sleep(0.2)  # a slow API
        return f"sunny in {city}"


async def test_tool_call_round_trip_with_a_scripted_model(autojump_clock):
    user = ScriptedUser().says("weather in paris", at=0.5, duration=1.5)
    llm = FakeLLM(
        [
            FakeLLMResponse(
                input="weather in paris", content="Let me check. ",
                tool_calls=(FunctionToolCall("get_weather", json.dumps({"city": "Paris"}), "call_1"),),
            ),
            FakeLLMResponse(input="sunny in paris", content="It is sunny in Paris."),
        ]
    )
    agent = Weatherman()
    session = AgentSession(vad=user.vad(), stt=user.stt(), llm=llm, tts=FakeTTS(ttfb=0.1))
    rec = EventRecorder(session)
    async with session.start(audio_in=user.source(), audio_out=MemorySink(24_000), agent=agent):
        executed = await rec.expect("function_tools_executed", within=5)
        reply = await rec.expect("conversation_item_added", item__role="assistant", within=10)
    assert agent.asked == ["Paris"]
    (call, output) = executed.payload.zipped()[0]
    assert (call.name, output.output, output.is_error) == ("get_weather", "sunny in Paris", False)
    assert reply.payload.item.text_content == "Let me check. It is sunny in Paris."
    kinds = [item.type for item in session.history.items]
    assert kinds == ["message", "function_call", "function_call_output", "message"]
    assert len({item.turn_id for item in session.history.items}) == 1
    # The second model request saw the tool's output.
    second = llm.requests[1].items
    assert second[-1].type == "function_call_output" and second[-1].output == "sunny in Paris"


def test_tool_call_through_an_http_model():
    # Real sockets: virtual time jumps only after 20 ms of real idleness.
    script = [
        ScriptedReply(chunks=tool_call_chunks("get_weather", json.dumps({"city": "Rome"}), "call_9")),
        ScriptedReply(chunks=text_chunks("Rome is sunny.")),
    ]

    async def main():
        with trio.fail_after(30):
            async with serve_chat_completions(script) as server:
                user = ScriptedUser().says("weather in rome", at=0.5, duration=1.5)
                agent = Weatherman()
                llm = OpenAICompatibleLLM(server.base_url, model="scripted")
                session = AgentSession(vad=user.vad(), stt=user.stt(), llm=llm, tts=FakeTTS(ttfb=0.1))
                rec = EventRecorder(session)
                async with session.start(audio_in=user.source(), audio_out=MemorySink(24_000), agent=agent):
                    reply = await rec.expect("conversation_item_added", item__role="assistant", within=20)
                await llm.aclose()
        return agent, server, reply

    agent, server, reply = trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0.02))
    assert agent.asked == ["Rome"]
    assert reply.payload.item.text_content == "Rome is sunny."
    assert [m["role"] for m in server.requests[1]["messages"]] == ["system", "user", "assistant", "tool"]
    assert server.requests[1]["messages"][-1] == {"role": "tool", "tool_call_id": "call_9", "content": "sunny in Rome"}
    assert server.requests[0]["tools"][0]["function"]["parameters"]["required"] == ["city"]
