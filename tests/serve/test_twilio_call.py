"""A realistic Twilio Media Streams call over a real socket to `voxtrio serve`.

The scripted "Twilio" client replays a call: `connected`, `start`, then the caller's
speech (a natural-speech fixture as μ-law 8 kHz, 20 ms `media` frames in real time), a
pause, and the same question again while the agent is still answering. It plays the
agent's audio on a simulated phone (a clock at 8 kHz), echoes each `mark` once the audio
before it has played, and on `clear` drops its queue and echoes the pending marks, as
Twilio does. Embedded engines (silero, pocketsphinx, espeak-ng); localhost, port 0;
every wait bounded.
"""

from __future__ import annotations

import wave
from functools import partial
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest
import soxr
import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from voxtrio.app.run_file import EMBEDDED_VAD_OPTIONS
from voxtrio.audio.g711 import ulaw_encode
from voxtrio.engines.espeak import EspeakTTS
from voxtrio.engines.function_llm import FunctionLLM
from voxtrio.engines.pocketsphinx import PocketSphinxSTT
from voxtrio.engines.silero import SileroVAD
from voxtrio.protocols import twilio_media as tm
from voxtrio.serve.limits import ServerLimits
from voxtrio.serve.server import RunningServer, ServeOptions, serve
from voxtrio.session.agent import Agent
from voxtrio.session.session import AgentSession

FIXTURE = Path(__file__).parents[1] / "fixtures" / "speech" / "s02.wav"  # "what is the weather like today"
SID = "MZ00000000000000000000000000000001"
LONG_ANSWER = (
    "The weather today is mild, with a light breeze from the west. "
    "Clouds will gather in the afternoon, and there may be a little rain by the evening."
)


def brain(chat_ctx: Any) -> str:
    # A long first answer, so the caller's second question lands in the middle of it.
    replies = [m for m in chat_ctx.messages() if m.role == "assistant"]
    return LONG_ANSWER if not replies else "Sorry, go ahead."


def caller_audio() -> np.ndarray:
    """μ-law 8 kHz: 1 s silence, the question, 0.9 s, the question again, 6 s silence."""
    with wave.open(str(FIXTURE), "rb") as w:
        speech16 = np.frombuffer(w.readframes(w.getnframes()), np.int16)
    speech = soxr.resample(speech16, 16_000, 8_000).astype(np.int16)
    silence = lambda s: np.zeros(int(8_000 * s), np.int16)  # noqa: E731
    return np.concatenate([silence(1.0), speech, silence(0.9), speech, silence(6.0)])


@attrs.define
class Phone:
    """Twilio's side: plays what it is sent at 8 kHz and echoes marks when reached."""

    queued: int = 0  # samples received since the last clear
    played_base: float = 0.0  # trio time at which the queue started playing
    pending: list[tuple[int, str]] = attrs.Factory(list)
    media: list[tm.OutboundMedia] = attrs.Factory(list)
    marks_sent: list[str] = attrs.Factory(list)
    marks_echoed: list[str] = attrs.Factory(list)
    clears: list[float] = attrs.Factory(list)
    samples_after_clear: int = 0

    def played(self) -> int:
        return min(self.queued, int((trio.current_time() - self.played_base) * 8_000))


async def test_a_twilio_call_gets_spoken_replies_marks_and_a_clear_on_barge_in(tmp_path):
    engines: list[Any] = []

    async def factory(info: Any) -> tuple[AgentSession, Agent]:
        assert info.query.get("twilio.streamSid") == SID or info.route == "twilio"
        stt, tts = PocketSphinxSTT(), EspeakTTS()
        engines.extend([stt, tts])
        await stt.prewarm()
        await tts.prewarm()
        session = AgentSession(
            vad=SileroVAD(options=EMBEDDED_VAD_OPTIONS), stt=stt, llm=FunctionLLM(brain), tts=tts
        )
        for name in ("agent_state_changed", "user_state_changed", "user_input_transcribed",
                     "conversation_item_added", "agent_false_interruption"):
            session.on(name, lambda ev, name=name: log.append((round(trio.current_time(), 2), name, _brief(ev))))
        return session, Agent()

    phone = Phone()
    log: list[Any] = []
    audio = caller_audio()
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            server: RunningServer = await nursery.start(
                partial(serve, factory, ServeOptions(port=0, limits=ServerLimits(shutdown_grace=2.0)),
                        handle_signals=False)
            )
            url = server.url.replace("http://", "ws://") + "/ws/twilio"
            async with open_websocket_url(url) as ws:
                await ws.send_message(tm.encode(tm.Connected()))
                await ws.send_message(
                    tm.encode(tm.Start(stream_sid=SID, account_sid="AC1", call_sid="CA1", sequence_number=1))
                )
                async with trio.open_nursery() as call:
                    call.start_soon(_listen, ws, phone)
                    call.start_soon(_echo_marks, ws, phone)
                    start = trio.current_time()
                    for index in range(0, len(audio) - 159, 160):
                        await trio.sleep_until(start + index / 8_000)
                        chunk = audio[index : index + 160]
                        await ws.send_message(tm.encode(tm.Media(
                            stream_sid=SID, payload=ulaw_encode(chunk), chunk=index // 160 + 1,
                            timestamp=index // 8, sequence_number=index // 160 + 2,
                        )))
                    await ws.send_message(tm.encode(tm.Stop(stream_sid=SID, account_sid="AC1", call_sid="CA1")))
                    await trio.sleep(1.0)
                    call.cancel_scope.cancel()
            server.request_shutdown(immediately=True)
    for engine in engines:
        with trio.move_on_after(5):
            await engine.aclose()

    assert phone.media, "the agent's reply came back as media"
    assert {m.stream_sid for m in phone.media} == {SID}
    received = sum(len(m.payload) for m in phone.media) / 8_000
    assert received > 0.5, f"only {received:.2f} s of agent audio"
    assert phone.marks_sent and set(phone.marks_echoed) <= set(phone.marks_sent)
    assert phone.marks_echoed, "marks were echoed as the audio played"
    assert phone.clears, f"speaking over the reply produced a clear; events: {log}"
    assert phone.samples_after_clear > 0, "the agent answered the second question after the clear"


def _brief(ev: Any) -> str:
    for key in ("new_state", "transcript", "resumed"):
        if hasattr(ev, key):
            return f"{key}={getattr(ev, key)!r}"
    item = getattr(ev, "item", None)
    return f"{item.role}:{item.text_content[:30]!r}:{item.interrupted}" if item is not None else ""


async def _listen(ws: Any, phone: Phone) -> None:
    try:
        while True:
            message = tm.decode_outbound(await ws.get_message())
            if isinstance(message, tm.OutboundMedia):
                if phone.queued == phone.played():  # the phone was idle: playback starts now
                    phone.played_base = trio.current_time() - phone.queued / 8_000
                phone.media.append(message)
                phone.queued += len(message.payload)
                if phone.clears:
                    phone.samples_after_clear += len(message.payload)
            elif isinstance(message, tm.OutboundMark):
                phone.marks_sent.append(message.name)
                phone.pending.append((phone.queued, message.name))
            elif isinstance(message, tm.Clear):
                phone.clears.append(trio.current_time())
                for _, name in phone.pending:  # Twilio echoes the marks it drops
                    await _echo(ws, phone, name)
                phone.pending.clear()
                phone.queued = 0
                phone.played_base = trio.current_time()
    except ConnectionClosed:
        pass


async def _echo_marks(ws: Any, phone: Phone) -> None:
    while True:
        await trio.sleep(0.02)
        played = phone.played()
        due = [(at, name) for at, name in phone.pending if at <= played]
        for item in due:
            phone.pending.remove(item)
            await _echo(ws, phone, item[1])


async def _echo(ws: Any, phone: Phone, name: str) -> None:
    phone.marks_echoed.append(name)
    try:
        await ws.send_message(tm.encode(tm.Mark(stream_sid=SID, name=name)))
    except ConnectionClosed:
        pass


pytestmark = pytest.mark.realtime
