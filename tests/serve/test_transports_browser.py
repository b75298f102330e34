"""The browser transport against a scripted page over an in-memory socket.

Rules: no sockets (voxtrio.serve.testing.memory_websocket_pair), `autojump_clock`
(virtual time), every wait bounded with `trio.fail_after` on trio's clock.
"""

from __future__ import annotations

import json

import numpy as np
import trio

from voxtrio.audio.frame import AudioFrame
from voxtrio.engines.fake import FakeTTS
from voxtrio.engines.fake_llm import FakeLLM, FakeLLMResponse
from voxtrio.protocols import browser_audio as ba
from voxtrio.serve.testing import MemoryWebSocket, memory_websocket_pair
from voxtrio.serve.transports import (
    CLOSE_GOING_AWAY,
    CLOSE_INVALID_DATA,
    CLOSE_NORMAL,
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    ConnectionInfo,
    NetworkSource,
    run_browser_connection,
)
from voxtrio.session.agent import Agent
from voxtrio.session.session import AgentSession
from voxtrio.testing.user import ScriptedUser

RATE = 16_000
FRAME = 320  # 20 ms at 16 kHz
REPLY = "I can book a table for you tonight at seven in the garden room."
INFO = ConnectionInfo("browser", "/ws/browser", client="test")


def factory_for(user: ScriptedUser, closed: list[str], *, audio_duration: float = 1.0):
    def factory(info: ConnectionInfo) -> tuple[AgentSession, Agent]:
        llm = FakeLLM(
            [
                FakeLLMResponse(input="book a table", content=REPLY, ttft=0.1, duration=0.3),
                FakeLLMResponse(input="stop please", content="Sure.", ttft=0.1, duration=0.2),
            ]
        )
        session = AgentSession(
            vad=user.vad(min_silence_duration=0.5), stt=user.stt(), llm=llm,
            tts=FakeTTS(ttfb=0.2, audio_duration=audio_duration),
        )
        session.on("close", lambda ev: closed.append(str(ev.reason)))
        return session, Agent()

    return factory


class Page:
    """A scripted browser page: streams the user's audio, records what it receives."""

    def __init__(self, ws: MemoryWebSocket) -> None:
        self.ws = ws
        self.log: list[tuple[float, object]] = []  # (trio time, decoded server message)

    async def hello(self, rate: int = RATE) -> ba.Ready:
        await self.ws.send(json.dumps({"type": "hello", "sample_rate": rate, "format": "pcm16"}))
        ready = ba.decode_server(await self.ws.receive())
        assert isinstance(ready, ba.Ready)
        return ready

    async def stream(self, audio: np.ndarray) -> None:
        t0 = trio.current_time()
        for i, start in enumerate(range(0, len(audio), FRAME)):
            await trio.sleep_until(t0 + i * FRAME / RATE)
            await self.ws.send(audio[start : start + FRAME].astype("<i2").tobytes())

    async def listen(self, *, ack_clear: bool = True) -> None:
        while True:
            try:
                message = await self.ws.receive()
            except Exception:
                return
            decoded = ba.decode_server(message)
            self.log.append((trio.current_time(), decoded))
            if ack_clear and isinstance(decoded, ba.Clear) and decoded.speech_id:
                await self.ws.send(json.dumps(
                    {"type": "played", "speech_id": decoded.speech_id, "position_ms": 100}
                ))

    def of(self, kind: type) -> list:
        return [m for _, m in self.log if isinstance(m, kind)]


async def test_conversation_speech_transcripts_state_and_bye(autojump_clock):
    user = ScriptedUser().says("book a table", at=0.5, duration=2.0)
    closed: list[str] = []
    server, client = memory_websocket_pair()
    page = Page(client)
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            done = trio.Event()

            async def serve() -> None:
                await run_browser_connection(server, factory_for(user, closed), INFO)
                done.set()

            nursery.start_soon(serve)
            ready = await page.hello()
            assert ready.sample_rate == RATE
            nursery.start_soon(page.listen)
            await page.stream(user.audio(length=6.0))
            await client.send(json.dumps({"type": "bye"}))
            await done.wait()

    assert closed == ["user_initiated"]
    assert client.close_code == CLOSE_NORMAL
    finals = [t for t in page.of(ba.Transcript) if t.final]
    assert ("user", "book a table") in [(t.role, t.text) for t in finals]
    assert ("assistant", REPLY) in [(t.role, t.text) for t in finals]
    agent_states = [s.agent for s in page.of(ba.State)]
    assert "thinking" in agent_states and "speaking" in agent_states
    assert agent_states[-1] == "listening"
    # speech, then 1.0 s of PCM16 at the ready rate, then speech_done: nothing interleaved.
    kinds = [m for _, m in page.log if isinstance(m, (ba.Speech, ba.SpeechDone, ba.AudioChunk))]
    speech, done_msg = kinds[0], kinds[-1]
    assert isinstance(speech, ba.Speech) and isinstance(done_msg, ba.SpeechDone)
    assert done_msg.speech_id == speech.speech_id
    audio = kinds[1:-1]
    assert all(isinstance(c, ba.AudioChunk) for c in audio)
    samples = sum(c.num_samples for c in audio)
    assert abs(samples - RATE * 1.0) <= FRAME
    # Paced on trio's clock: the audio spans its own duration, not a burst.
    times = [t for t, m in page.log if isinstance(m, ba.AudioChunk)]
    assert times[-1] - times[0] >= 0.9


async def test_barge_in_sends_clear_and_stops_audio(autojump_clock):
    user = (
        ScriptedUser()
        .says("book a table", at=0.5, duration=2.0)
        .says("stop please", at=4.2, duration=1.0)
    )
    closed: list[str] = []
    server, client = memory_websocket_pair()
    page = Page(client)
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(
                run_browser_connection, server, factory_for(user, closed, audio_duration=3.0), INFO
            )
            await page.hello()
            nursery.start_soon(page.listen)
            await page.stream(user.audio(length=10.5))
            await client.send(json.dumps({"type": "bye"}))

    clears = [(t, m) for t, m in page.log if isinstance(m, ba.Clear)]
    assert len(clears) == 1
    cleared_at, clear = clears[0]
    first = page.of(ba.Speech)[0]
    assert clear.speech_id == first.speech_id
    # No audio of the interrupted speech after the clear; far less than its 3 s was sent.
    speech_of: str | None = None
    sent = 0
    for t, m in page.log:
        if isinstance(m, ba.Speech):
            speech_of = m.speech_id
        elif isinstance(m, (ba.SpeechDone, ba.Clear)):
            speech_of = None
        elif isinstance(m, ba.AudioChunk):
            assert speech_of is not None, "audio outside a speech"
            if speech_of == first.speech_id:
                assert t <= cleared_at
                sent += m.num_samples
    assert 0 < sent < RATE * 2.0
    # The second reply ("Sure.") played in full as its own speech.
    speeches = page.of(ba.Speech)
    assert len(speeches) == 2 and speeches[1].speech_id != first.speech_id
    assert [d.speech_id for d in page.of(ba.SpeechDone)] == [speeches[1].speech_id]
    assert closed == ["user_initiated"]


async def test_disconnect_closes_the_session(autojump_clock):
    user = ScriptedUser().says("book a table", at=0.5, duration=2.0)
    closed: list[str] = []
    server, client = memory_websocket_pair()
    page = Page(client)
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            done = trio.Event()

            async def serve() -> None:
                await run_browser_connection(server, factory_for(user, closed), INFO)
                done.set()

            nursery.start_soon(serve)
            await page.hello()
            await page.stream(user.audio(length=1.0))
            client.disconnect()
            start = trio.current_time()
            await done.wait()
    assert closed == ["user_initiated"]
    assert trio.current_time() - start < 6


async def test_protocol_errors_close_with_documented_codes(autojump_clock):
    user = ScriptedUser()
    cases = [
        (json.dumps({"type": "hello", "sample_rate": 44_100}), CLOSE_INVALID_DATA),
        (b"\x00\x00", CLOSE_POLICY),  # audio before hello
        ("x" * 70_000, CLOSE_TOO_BIG),
        ("{not json", CLOSE_INVALID_DATA),
    ]
    for message, code in cases:
        server, client = memory_websocket_pair()
        with trio.fail_after(5):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(run_browser_connection, server, factory_for(user, []), INFO)
                await client.send(message)
                error = ba.decode_server(await client.receive())
                assert isinstance(error, ba.ErrorMessage)
        assert client.close_code == code, message[:20]
    # No hello at all: closed after hello_timeout, going away.
    server, client = memory_websocket_pair()
    with trio.fail_after(5):
        await run_browser_connection(server, factory_for(user, []), INFO, hello_timeout=1.0)
    assert client.close_code == CLOSE_GOING_AWAY


async def test_bad_message_mid_session_and_idle_timeout(autojump_clock):
    user = ScriptedUser()
    closed: list[str] = []
    server, client = memory_websocket_pair()
    page = Page(client)
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(run_browser_connection, server, factory_for(user, closed), INFO)
            await page.hello()
            await client.send(b"\x00\x00\x00")  # odd byte count
            nursery.start_soon(page.listen)
    assert client.close_code == CLOSE_INVALID_DATA
    assert any(isinstance(m, ba.ErrorMessage) for _, m in page.log)
    assert closed == ["user_initiated"]

    server, client = memory_websocket_pair()
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(
                lambda: run_browser_connection(server, factory_for(user, []), INFO, idle_timeout=2.0)
            )
            await Page(client).hello()
            nursery.start_soon(Page(client).listen)
    assert client.close_code == CLOSE_GOING_AWAY


async def test_network_source_drops_oldest_and_keeps_the_capture_clock():
    source = NetworkSource(RATE, buffer_frames=3)
    async with source:
        for i in range(5):
            source.push(AudioFrame.from_array(np.full(FRAME, i, np.int16), RATE))
        source.end()
        frames = [frame async for frame in source]
    assert [int(f.data[0, 0]) for f in frames] == [2, 3, 4]
    assert [f.pts for f in frames] == [2 * 0.02, 3 * 0.02, 4 * 0.02]
    assert source.statistics().dropped == 2


async def test_played_acks_set_the_position_reported_on_clear(autojump_clock):
    from voxtrio.serve.transports import BrowserSink
    from voxtrio.serve.transports.common import Outbox

    outbox = Outbox(1024)
    sink = BrowserSink(RATE, outbox)
    server, client = memory_websocket_pair(capacity=1024)
    tone = (np.sin(np.arange(FRAME) / RATE * 2 * np.pi * 440) * 8000).astype(np.int16)
    async with trio.open_nursery() as nursery, sink:
        nursery.start_soon(outbox.drain_to, server)
        for i in range(50):  # one second of reply, paced
            await sink.write(AudioFrame.from_array(tone, RATE, pts=i * 0.02))
            await trio.sleep(0.02)
        # The page is 700 ms behind (a deep jitter buffer): it has played 300 ms.
        sink.acknowledge("sp_1", 300 * RATE // 1000)
        assert sink.clear() == RATE - 300 * RATE // 1000
        outbox.close()
    sent = []
    while True:
        with trio.move_on_after(0.1):
            sent.append(ba.decode_server(await client.receive()))
            continue
        break
    assert sent[0] == ba.Speech("sp_1") and sent[-1] == ba.Clear("sp_1")
    assert sum(isinstance(m, ba.AudioChunk) for m in sent) == 50


async def test_failing_factory_closes_with_internal_error(autojump_clock):
    def factory(info: ConnectionInfo) -> AgentSession:
        raise RuntimeError("no model today")

    server, client = memory_websocket_pair()
    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(run_browser_connection, server, factory, INFO)
            await client.send(json.dumps({"type": "hello", "sample_rate": RATE}))
            error = ba.decode_server(await client.receive())
    assert isinstance(error, ba.ErrorMessage) and error.code == "internal"
    assert client.close_code == 1011


async def test_statistics_reported_when_the_connection_ends(autojump_clock):
    user = ScriptedUser().says("book a table", at=0.5, duration=2.0)
    stats = []
    server, client = memory_websocket_pair()
    page = Page(client)
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(
                lambda: run_browser_connection(
                    server, factory_for(user, []), INFO, on_finished=stats.append
                )
            )
            await page.hello()
            nursery.start_soon(page.listen)
            await page.stream(user.audio(length=6.0))
            await client.send(json.dumps({"type": "bye"}))
    (st,) = stats
    assert st.frames_in == 6.0 * RATE / FRAME and st.dropped_in == 0
    assert st.segments == 1 and st.cleared == 0
    assert st.frames_out == sum(isinstance(m, ba.AudioChunk) for _, m in page.log)


async def test_outbox_is_bounded_and_drops_audio_first():
    from voxtrio.serve.transports.common import Outbox

    outbox = Outbox(4)
    outbox.put("speech")
    for i in range(5):
        outbox.put(bytes([i, 0]), speech_id="sp_1", samples=1)
    assert outbox.queued() == ["speech", b"\x02\x00", b"\x03\x00", b"\x04\x00"]
    assert outbox.dropped_audio == 2
    assert outbox.withdraw("sp_1") == 3 and outbox.queued() == ["speech"]
    for i in range(20):
        outbox.put(f"state {i}")
    assert len(outbox.queued()) == 8 and outbox.dropped_control == 13
