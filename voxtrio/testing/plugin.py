"""The voxtrio pytest plugin (registered by entry point: installing voxtrio enables it).

    async def test_booking(voice_session, autojump_clock):
        user = ScriptedUser().says("book a table", at=0.5)
        session, events = voice_session(user, llm=FakeLLM([...]))
        async with session.start(audio_in=user.source(), audio_out=MemorySink(24_000)):
            await events.expect("agent_state_changed", new_state="speaking", within=5)

Fixtures:
- `voice_session(user, *, llm, tts=None, **session_kwargs)` builds an `AgentSession`
  whose VAD and STT hear `user` (a `ScriptedUser`), with a `FakeTTS` unless given one,
  and returns it with an `EventRecorder` already subscribed. Use it with pytest-trio's
  `autojump_clock` so the conversation runs on virtual time.
- `scripted_user` a fresh `ScriptedUser`.
- `wall_origin` pins `created_at` timestamps (epoch 1_700_000_000 at the test's start)
  so event payloads are identical from run to run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from voxtrio.core.clock import set_wall_origin
from voxtrio.engines.fake import FakeTTS
from voxtrio.engines.llm import LLM
from voxtrio.engines.tts import TTS
from voxtrio.session.session import AgentSession
from voxtrio.testing.recorder import EventRecorder
from voxtrio.testing.user import ScriptedUser

VoiceSessionFactory = Callable[..., tuple[AgentSession, EventRecorder]]


@pytest.fixture
def scripted_user() -> ScriptedUser:
    return ScriptedUser()


@pytest.fixture
def voice_session() -> VoiceSessionFactory:
    def build(
        user: ScriptedUser, *, llm: LLM, tts: TTS | None = None, **session_kwargs: Any
    ) -> tuple[AgentSession, EventRecorder]:
        session = AgentSession(
            vad=user.vad(), stt=user.stt(), llm=llm, tts=tts or FakeTTS(ttfb=0.2), **session_kwargs
        )
        return session, EventRecorder(session)

    return build


@pytest.fixture
async def wall_origin() -> float:
    origin = 1_700_000_000.0
    set_wall_origin(origin)
    return origin
