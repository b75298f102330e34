"""Run a voice session inside your own trio nursery, next to your own tasks.

    python examples/nursery_embedding.py

The session starts with `await nursery.start(session.run, ...)`, which returns once it
is listening; your code runs beside it and closes it with `await session.aclose()`.
Everything here is offline and scripted (a fake user, a fake voice), on virtual time,
so it finishes at once.
"""

import trio
import trio.testing

from voxtrio import Agent, AgentSession, FunctionLLM
from voxtrio.audio.sinks import MemorySink
from voxtrio.engines.fake import FakeTTS
from voxtrio.testing.user import ScriptedUser


def brain(chat_ctx):
    heard = chat_ctx.messages()[-1].text_content
    return f"You said {heard}."


async def heartbeat(session: AgentSession) -> None:
    """Your own task: watch the agent's state while the session runs."""
    while True:
        new, old = await session.agent_state.wait_transition()
        print(f"[{trio.current_time():6.2f}] agent {old} -> {new}")


async def main() -> None:
    user = ScriptedUser().says("hello voxtrio", at=0.5, duration=1.2)
    session = AgentSession(vad=user.vad(), stt=user.stt(), llm=FunctionLLM(brain), tts=FakeTTS())
    session.on("conversation_item_added", lambda ev: print(f"  {ev.item.role}: {ev.item.text_content}"))
    async with trio.open_nursery() as nursery:
        await nursery.start(session.run, user.source(), MemorySink(24_000), Agent())
        nursery.start_soon(heartbeat, session)
        await session.wait_for_input_end()
        await session.aclose()
        nursery.cancel_scope.cancel()  # our own heartbeat task
    print("closed cleanly; usage:", session.usage)


if __name__ == "__main__":
    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
