"""A 60 s, 6-turn conversation with two interruptions: fast, and the same every run."""

import time

import trio
import trio.testing

from voxtrio.audio.sinks import MemorySink
from voxtrio.engines.fake import FakeTTS
from voxtrio.engines.fake_llm import FakeLLM, FakeLLMResponse
from voxtrio.session.agent import Agent
from voxtrio.session.session import AgentSession
from voxtrio.testing.recorder import EventRecorder
from voxtrio.testing.user import ScriptedUser
from voxtrio.testing.virtual_time import deterministic_scheduling

LONG = "Let me tell you everything about our menu, from the starters to the desserts, slowly."


def six_turns() -> tuple[ScriptedUser, FakeLLM]:
    user = ScriptedUser(tail=6.0)
    replies = []
    at = 1.0
    for n in range(6):
        user.says(f"question number {n}", at=at, duration=1.5)
        interrupted = n in (1, 4)
        replies.append(FakeLLMResponse(input=f"question number {n}", content=LONG if interrupted else f"Answer {n}."))
        if interrupted:
            # Talk over the long reply 1.0 s after it starts (reply plays ~at+2.5+0.5).
            user.says(f"wait stop {n}", at=at + 4.0, duration=1.0)
            replies.append(FakeLLMResponse(input=f"wait stop {n}", content=f"Stopped {n}."))
            at += 13.0
        else:
            at += 9.0
    return user, FakeLLM(replies)


async def run_conversation() -> tuple[list, AgentSession]:
    user, llm = six_turns()
    session = AgentSession(
        vad=user.vad(), stt=user.stt(), llm=llm, tts=FakeTTS(ttfb=0.2, seconds_per_char=0.06)
    )
    recorder = EventRecorder(session)
    async with session.start(audio_in=user.source(), audio_out=MemorySink(24_000), agent=Agent("Be brief.")):
        await session.wait_for_input_end()
    return recorder.log(), session


def run_once(seed: int) -> tuple[list, AgentSession]:
    outcome: list = []

    async def main():
        outcome.extend(await run_conversation())

    with deterministic_scheduling(seed):
        trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    return outcome[0], outcome[1]


def test_sixty_seconds_six_turns_two_interruptions_fast_and_repeatable():
    started = time.perf_counter()
    first, session = run_once(seed=1)
    elapsed = time.perf_counter() - started
    second, _ = run_once(seed=1)
    assert first == second
    assert elapsed < 2.0, f"a 60 s conversation took {elapsed:.2f} s of wall time"
    items = session.history.messages()
    users = [m.text_content for m in items if m.role == "user"]
    assert users == [
        "question number 0", "question number 1", "wait stop 1", "question number 2",
        "question number 3", "question number 4", "wait stop 4", "question number 5",
    ]
    assistants = [m for m in items if m.role == "assistant"]
    assert [m.interrupted for m in assistants] == [False, True, False, False, False, True, False, False]
    assert first[-1][0] > 60.0, "the conversation spans a minute of virtual time"
