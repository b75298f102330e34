"""The Twilio transport against a scripted Media Streams call over an in-memory socket.

Rules: no sockets (voxtrio.serve.testing.memory_websocket_pair), `autojump_clock`
(virtual time), every wait bounded with `trio.fail_after` on trio's clock.
"""

from __future__ import annotations

import numpy as np
import trio

from voxtrio.audio.frame import AudioFrame
from voxtrio.audio.resample import AudioResampler
from voxtrio.engines.fake import FakeTTS
from voxtrio.engines.fake_llm import FakeLLM, FakeLLMResponse
from voxtrio.protocols import twilio_media as tw
from voxtrio.serve.testing import MemoryWebSocket, memory_websocket_pair
from voxtrio.serve.transports import (
    CLOSE_INVALID_DATA,
    CLOSE_NORMAL,
    CLOSE_POLICY,
    ConnectionInfo,
    TwilioSink,
    run_twilio_connection,
)
from voxtrio.serve.transports.common import Outbox
from voxtrio.session.agent import Agent
from voxtrio.session.session import AgentSession
from voxtrio.testing.user import ScriptedUser

SID = "MZ0123456789abcdef0123456789abcdef"
REPLY = "I can book a table for you tonight at seven in the garden room."
INFO = ConnectionInfo("twilio", "/ws/twilio", client="test")


def factory_for(user: ScriptedUser, seen: list[ConnectionInfo], closed: list[str]):
    def factory(info: ConnectionInfo) -> tuple[AgentSession, Agent]:
        seen.append(info)
        llm = FakeLLM(
            [
                FakeLLMResponse(input="book a table", content=REPLY, ttft=0.1, duration=0.3),
                FakeLLMResponse(input="stop please", content="Sure.", ttft=0.1, duration=0.2),
            ]
        )
        session = AgentSession(
            vad=user.vad(min_silence_duration=0.5), stt=user.stt(), llm=llm,
            tts=FakeTTS(ttfb=0.2, audio_duration=3.0),
        )
        session.on("close", lambda ev: closed.append(str(ev.reason)))
        return session, Agent()

    return factory


class Caller:
    """Plays Twilio: connected, start, 20 ms μ-law media, echoes marks, stop."""

    def __init__(self, ws: MemoryWebSocket) -> None:
        self.ws = ws
        self.log: list[tuple[float, tw.OutboundMessage]] = []
        self.echoed: list[str] = []

    async def start(self) -> None:
        await self.ws.send(tw.encode(tw.Connected()))
        await self.ws.send(tw.encode(tw.Start(
            stream_sid=SID, account_sid="AC1", call_sid="CA1",
            custom_parameters={"caller": "+15550100"}, sequence_number=1,
        )))

    async def stream(self, audio_16k: np.ndarray) -> None:
        resampler = AudioResampler(16_000, 8_000)
        frames = resampler.push(AudioFrame.from_array(audio_16k, 16_000)) + resampler.flush()
        mono = np.concatenate([f.data[:, 0] for f in frames])
        t0 = trio.current_time()
        for i, start in enumerate(range(0, len(mono), 160)):
            await trio.sleep_until(t0 + i * 0.02)
            frame = AudioFrame.from_array(mono[start : start + 160], 8_000)
            await self.ws.send(tw.encode(tw.Media(
                SID, tw.frame_to_ulaw(frame), chunk=i + 1, timestamp=i * 20, sequence_number=i + 3,
            )))

    async def listen(self) -> None:
        while True:
            try:
                message = await self.ws.receive()
            except Exception:
                return
            decoded = tw.decode_outbound(message)
            self.log.append((trio.current_time(), decoded))
            if isinstance(decoded, tw.OutboundMark):
                # The audio before a mark arrives paced in real time: it has played.
                self.echoed.append(decoded.name)
                try:
                    await self.ws.send(tw.encode(tw.Mark(SID, decoded.name)))
                except Exception:
                    return

    def of(self, kind: type) -> list:
        return [m for _, m in self.log if isinstance(m, kind)]


async def test_scripted_call_reply_marks_and_barge_in(autojump_clock):
    user = (
        ScriptedUser()
        .says("book a table", at=0.5, duration=2.0)
        .says("stop please", at=4.2, duration=1.0)
    )
    seen: list[ConnectionInfo] = []
    closed: list[str] = []
    server, client = memory_websocket_pair()
    caller = Caller(client)
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            done = trio.Event()

            async def serve() -> None:
                await run_twilio_connection(server, factory_for(user, seen, closed), INFO)
                done.set()

            nursery.start_soon(serve)
            await caller.start()
            nursery.start_soon(caller.listen)
            await caller.stream(user.audio(length=10.5))
            await client.send(tw.encode(tw.Stop(SID, "AC1", "CA1")))
            await done.wait()

    assert closed == ["user_initiated"] and client.close_code == CLOSE_NORMAL
    assert seen[0].query["twilio.call_sid"] == "CA1"
    assert seen[0].query["twilio.param.caller"] == "+15550100"
    # Every outbound message carries the stream's sid.
    assert caller.log and all(m.stream_sid == SID for _, m in caller.log)
    media = caller.of(tw.OutboundMedia)
    # At most 20 ms of μ-law at 8 kHz per message (the playout's frames, as resampled).
    assert media and all(0 < len(m.payload) <= 160 for m in media)
    # The first reply was cut by the user's "stop please": exactly one clear, after
    # which no more of it is sent; the second reply then plays in full (3 s).
    clears = [t for t, m in caller.log if isinstance(m, tw.Clear)]
    assert len(clears) == 1
    marks = [(t, m.name) for t, m in caller.log if isinstance(m, tw.OutboundMark)]
    first = [(t, n) for t, n in marks if n.startswith("sp_1:")]
    second = [(t, n) for t, n in marks if n.startswith("sp_2:")]
    assert first and all(t <= clears[0] for t, _ in first)
    # A mark after the frame that crosses each 100 ms (800 samples) of the reply, and a
    # last one at its end.
    positions = [int(n.split(":")[1]) for _, n in second]
    assert all(k * 800 <= p < k * 800 + 160 for k, p in enumerate(positions[:-1], start=1))
    assert abs(positions[-1] - 3 * 8000) <= 160
    assert caller.echoed == [n for _, n in marks]
    before_clear = [m for t, m in caller.log if isinstance(m, tw.OutboundMedia) and t <= clears[0]]
    first_played = int(first[-1][1].split(":")[1])
    assert 0 < first_played <= len(before_clear) * 160 < 2 * 8000
    after = [m for t, m in caller.log if isinstance(m, tw.OutboundMedia) and t > clears[0]]
    assert abs(sum(len(m.payload) for m in after) - 3 * 8000) <= 160
    # The agent's audio is the fake TTS's 440 Hz tone, resampled to 8 kHz.
    tone = tw.frame_from_ulaw(b"".join(m.payload for m in after[10:60])).data[:, 0]
    spectrum = np.abs(np.fft.rfft(tone.astype(np.float64)))
    assert abs(np.argmax(spectrum) * 8000 / len(tone) - 440) < 10


async def test_echoed_marks_set_the_played_position_on_clear(autojump_clock):
    outbox = Outbox(1024)
    sink = TwilioSink(SID, outbox, mark_interval=0.1)
    server, client = memory_websocket_pair(capacity=1024)
    tone = (np.sin(np.arange(160) / 8000 * 2 * np.pi * 440) * 8000).astype(np.int16)
    async with trio.open_nursery() as nursery, sink:
        nursery.start_soon(outbox.drain_to, server)
        for i in range(50):  # one second of reply, paced
            await sink.write(AudioFrame.from_array(tone, 8000, pts=i * 0.02))
            await trio.sleep(0.02)
        # Twilio has confirmed 0.4 s only (its buffer is behind): that is what was heard.
        sink.mark_echoed("sp_1:3200")
        sink.mark_echoed("not-ours")
        discarded = sink.clear()
        assert discarded == 8000 - 3200
        assert sink.played_positions == {"sp_1": 3200}
        # Marks echoed because of the clear do not count as played.
        sink.mark_echoed("sp_1:4000")
        assert sink.played_positions == {"sp_1": 3200}
        outbox.close()
    sent = []
    while True:
        with trio.move_on_after(0.1):
            sent.append(tw.decode_outbound(await client.receive()))
            continue
        break
    assert isinstance(sent[-1], tw.Clear)
    assert sum(isinstance(m, tw.OutboundMedia) for m in sent) == 50
    marks = [m.name for m in sent if isinstance(m, tw.OutboundMark)]
    assert marks == [f"sp_1:{800 * k}" for k in range(1, 11)]


async def test_unsent_audio_is_withdrawn_on_clear(autojump_clock):
    outbox = Outbox(1024)
    sink = TwilioSink(SID, outbox)
    async with sink:
        for i in range(10):
            await sink.write(AudioFrame.from_array(np.full(160, 1000, np.int16), 8000, pts=i * 0.02))
        # Nothing was sent (a stalled socket): all of it is discarded, none was heard.
        assert sink.clear() == 1600
    kinds = [type(tw.decode_outbound(payload)) for payload in outbox.queued()]
    assert tw.OutboundMedia not in kinds and kinds[-1] is tw.Clear


async def test_bad_calls_close_with_documented_codes(autojump_clock):
    user = ScriptedUser()
    # media before start
    server, client = memory_websocket_pair()
    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(run_twilio_connection, server, factory_for(user, [], []), INFO)
            await client.send(tw.encode(tw.Connected()))
            await client.send(tw.encode(tw.Media(SID, b"\xff" * 160)))
    assert client.close_code == CLOSE_POLICY
    # a format we cannot play
    server, client = memory_websocket_pair()
    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(run_twilio_connection, server, factory_for(user, [], []), INFO)
            await client.send(tw.encode(tw.Start(
                SID, "AC1", "CA1", media_format=tw.MediaFormat(sample_rate=16_000)
            )))
    assert client.close_code == CLOSE_INVALID_DATA
    # malformed JSON mid-call ends the session
    closed: list[str] = []
    server, client = memory_websocket_pair()
    caller = Caller(client)
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(run_twilio_connection, server, factory_for(user, [], closed), INFO)
            await caller.start()
            nursery.start_soon(caller.listen)
            await trio.sleep(0.5)
            await client.send('{"event": "media", ')
    assert client.close_code == CLOSE_INVALID_DATA
    assert closed == ["user_initiated"]


async def test_hang_up_without_stop_closes_the_session(autojump_clock):
    user = ScriptedUser().says("book a table", at=0.5, duration=2.0)
    closed: list[str] = []
    server, client = memory_websocket_pair()
    caller = Caller(client)
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            done = trio.Event()

            async def serve() -> None:
                await run_twilio_connection(server, factory_for(user, [], closed), INFO)
                done.set()

            nursery.start_soon(serve)
            await caller.start()
            await caller.stream(user.audio(length=1.0))
            client.disconnect()
            await done.wait()
    assert closed == ["user_initiated"]
