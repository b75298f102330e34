"""The browser transport: one voxtrio page's WebSocket driving one `AgentSession`.

    await run_browser_connection(ws, factory, ConnectionInfo("browser", "/ws/browser"))

The page speaks the browser audio protocol (`voxtrio.protocols.browser_audio`, see
docs/protocols.md). The connection:

1. waits up to `hello_timeout` seconds for `hello`, builds the session from `factory`
   and answers `ready` (agent audio at `output_sample_rate`, default the page's rate)
   while the session starts (early microphone frames wait in the source's buffer);
2. feeds binary PCM16 frames to the session's microphone (a `NetworkSource`); `played`
   acknowledgements set the played position of that speech; `bye` ends the session;
3. sends the agent's speech as `speech` {speech_id}, binary frames paced on trio's clock,
   then `speech_done`; on interruption `clear` {speech_id} (queued audio is withdrawn);
4. forwards `state` (agent / user state changes) and `transcript` (user and assistant
   text, interim and final) messages.

Close codes: 1000 after `bye`, or when the session ended; 1001 when no hello came in
time or nothing was received for `idle_timeout` seconds; 1007 for a message the codec
rejects (an `error` message is sent first); 1008 for a message out of order (audio
before hello, a second hello); 1009 for a message over `max_message_size` bytes; 1011
when the factory or the session failed. A peer that simply goes away is not an error:
the function returns after closing the session (bounded by `close_timeout`).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import trio

from voxtrio.audio.frame import AudioFrame
from voxtrio.protocols import browser_audio as ba
from voxtrio.serve.transports.common import (
    CLOSE_GOING_AWAY,
    CLOSE_INTERNAL_ERROR,
    CLOSE_INVALID_DATA,
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    ConnectionGone,
    ConnectionInfo,
    NetworkSink,
    NetworkSource,
    Outbox,
    Segment,
    SessionFactory,
    StatisticsCallback,
    WebSocketLike,
    build_session,
    close_quietly,
    run_session_over_socket,
)
from voxtrio.session.session import AgentSession

__all__ = ["BrowserSink", "run_browser_connection"]

logger = logging.getLogger("voxtrio.serve.browser")


async def run_browser_connection(
    ws: WebSocketLike,
    factory: SessionFactory,
    info: ConnectionInfo,
    *,
    sample_rates: tuple[int, ...] = (16_000, 24_000),
    output_sample_rate: int | None = None,
    max_message_size: int = ba.DEFAULT_MAX_MESSAGE_SIZE,
    idle_timeout: float | None = 30.0,
    hello_timeout: float = 10.0,
    close_timeout: float = 5.0,
    buffer_frames: int = 50,
    outbox_capacity: int = 256,
    on_finished: StatisticsCallback | None = None,
) -> None:
    """Serve one browser socket until bye, disconnect, idle timeout or session end."""
    conn = ba.ServerConnection(sample_rates=sample_rates, max_size=None)
    with trio.move_on_after(hello_timeout) as waited:
        try:
            hello = await ws.receive()
        except ConnectionGone:
            return
    if waited.cancelled_caught:
        await close_quietly(ws, CLOSE_GOING_AWAY, "no hello received in time")
        return
    refused = _refusal(conn, hello, max_message_size)
    if refused is not None:
        await _refuse(ws, *refused)
        return
    rate = conn.sample_rate
    assert rate is not None
    try:
        session, agent = await build_session(factory, info)
    except Exception:
        logger.exception("the session factory failed for %s", info.client or info.route)
        await _refuse(ws, CLOSE_INTERNAL_ERROR, "internal", "could not start the agent")
        return

    ready = conn.ready(output_sample_rate)
    outbox = Outbox(outbox_capacity)
    source = NetworkSource(rate, buffer_frames=buffer_frames)
    sink = BrowserSink(ready.sample_rate, outbox)
    outbox.put(ba.encode(ready))
    forward = _forward_events(session, outbox)
    end: list[tuple[int, str, str]] = []

    async def loop() -> None:
        while True:
            with trio.move_on_after(idle_timeout if idle_timeout is not None else math.inf) as s:
                message = await ws.receive()
            if s.cancelled_caught:
                end.append((CLOSE_GOING_AWAY, "", "idle timeout"))
                return
            if len(message) > max_message_size:
                end.append((CLOSE_TOO_BIG, "too_big", _too_big(message, max_message_size)))
                return
            try:
                event = conn.receive(message)
            except ba.ProtocolError as exc:
                end.append(_protocol_close(exc))
                return
            if isinstance(event, AudioFrame):
                source.push(event)
            elif isinstance(event, ba.Played):
                sink.acknowledge(event.speech_id, event.position_ms * sink.rate // 1000)
            elif isinstance(event, ba.Bye):
                return

    try:
        code = await run_session_over_socket(
            ws, session, agent, source, sink, loop, close_timeout=close_timeout,
            on_finished=on_finished,
        )
    finally:
        forward()
    if end and end[0][1]:
        code, kind, text = end[0]
        with trio.move_on_after(1.0):
            try:
                await ws.send(ba.encode(ba.ErrorMessage(kind, text)))
            except ConnectionGone:
                pass
        await close_quietly(ws, code, text[:120])
        return
    if end:
        await close_quietly(ws, end[0][0], end[0][2])
        return
    await close_quietly(ws, code)


class BrowserSink(NetworkSink):
    """Agent audio to the page: `speech`, PCM16 binary frames, `speech_done`, `clear`."""

    def _open_segment(self, seg: Segment) -> None:
        self.outbox.put(ba.encode(ba.Speech(seg.speech_id)))

    def _send_audio(self, seg: Segment, frame: AudioFrame) -> None:
        chunk = ba.AudioChunk.from_frame(frame, sample_rate=self.rate)
        self.outbox.put(
            ba.encode(chunk), speech_id=seg.speech_id, samples=frame.samples_per_channel
        )

    def _close_segment(self, seg: Segment) -> None:
        self.outbox.put(ba.encode(ba.SpeechDone(seg.speech_id)))

    def _clear_segment(self, seg: Segment, played: int) -> None:
        self.outbox.put(ba.encode(ba.Clear(seg.speech_id)))


# -- helpers --------------------------------------------------------------------------------


def _refusal(
    conn: ba.ServerConnection, message: str | bytes, max_size: int
) -> tuple[int, str, str] | None:
    """Check the handshake message; None when it is a good hello."""
    if len(message) > max_size:
        return CLOSE_TOO_BIG, "too_big", _too_big(message, max_size)
    try:
        event = conn.receive(message)
    except ba.ProtocolError as exc:
        return _protocol_close(exc)
    if not isinstance(event, ba.Hello):
        return CLOSE_POLICY, "bad_hello", "the first message must be hello"
    return None


def _protocol_close(exc: ba.ProtocolError) -> tuple[int, str, str]:
    text = str(exc)
    order = "before anything else" in text or "only be sent once" in text or "said bye" in text
    if order:
        return CLOSE_POLICY, "protocol", text
    return CLOSE_INVALID_DATA, "bad_message", text


def _too_big(message: str | bytes, max_size: int) -> str:
    return f"message of {len(message)} bytes is over the limit of {max_size} bytes"


async def _refuse(ws: WebSocketLike, code: int, kind: str, text: str) -> None:
    with trio.move_on_after(1.0):
        try:
            await ws.send(ba.encode(ba.ErrorMessage(kind, text)))
        except ConnectionGone:
            pass
    await close_quietly(ws, code, text[:120])


def _forward_events(session: AgentSession, outbox: Outbox) -> Any:
    """Subscribe to the session's state and transcript events; returns the unsubscriber."""

    current = {"agent": session.agent_state.value, "user": session.user_state.value}

    def state(event: Any) -> None:
        # The event carries the new value; the session's AsyncValue may lag behind it.
        role = "agent" if event.type == "agent_state_changed" else "user"
        current[role] = event.new_state
        outbox.put(ba.encode(ba.State(current["agent"], current["user"])))

    def user_text(ev: Any) -> None:
        outbox.put(ba.encode(ba.Transcript("user", ev.transcript, ev.is_final, ev.turn_id)))

    def agent_text(ev: Any) -> None:
        outbox.put(
            ba.encode(ba.Transcript("assistant", ev.transcript, ev.is_final, ev.turn_id))
        )

    subscriptions = [
        ("agent_state_changed", state),
        ("user_state_changed", state),
        ("user_input_transcribed", user_text),
        ("agent_transcribed", agent_text),
    ]
    for name, fn in subscriptions:
        session.on(name, fn)

    def unsubscribe() -> None:
        for name, fn in subscriptions:
            session.off(name, fn)

    return unsubscribe
