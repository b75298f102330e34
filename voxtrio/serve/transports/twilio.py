"""The Twilio transport: one Media Streams call driving one `AgentSession`.

    await run_twilio_connection(ws, factory, ConnectionInfo("twilio", "/ws/twilio"))

Twilio speaks the Media Streams protocol (`voxtrio.protocols.twilio_media`, see
docs/protocols.md). Who may connect is decided before this runs: `VoxtrioApp` checks the
upgrade's `X-Twilio-Signature` when a Twilio auth token is configured
(voxtrio.serve.twilio_signature). The connection:

1. waits up to `handshake_timeout` seconds for `connected` then `start` (μ-law, 8 kHz,
   mono is checked), builds the session from `factory` (the call's stream sid, call sid
   and custom parameters are added to `ConnectionInfo.query`, see `start_info`) and
   starts it;
2. feeds inbound `media` to the session's microphone, resampled from 8 kHz to
   `input_sample_rate` (default 16 kHz, what the VADs expect; None keeps 8 kHz);
3. sends the agent's speech as 20 ms μ-law `media` messages (the playout resamples the
   TTS output to 8 kHz) with a `mark` named ``"<speech id>:<samples>"`` every
   `mark_interval` seconds of audio and at the end of each reply (see
   `voxtrio.serve.transports.common` for how reply boundaries are found). Twilio echoes a mark
   once the audio before it has played: echoed marks are the played position
   (`sink.played_positions`), used when the reply is interrupted;
4. on interruption sends `clear` (Twilio drops its buffered audio); the marks Twilio
   echoes after a clear do not count as played;
5. `stop` ends the session.

Close codes: 1000 after `stop` or when the session ended; 1001 when the handshake did
not come in time or nothing was received for `idle_timeout` seconds; 1007 for a message
the codec rejects or an unsupported media format; 1008 for `media` before `start`;
1009 for a message over `max_message_size`; 1011 when the factory or session failed.
"""

from __future__ import annotations

import logging
import math

import trio

from voxtrio.audio.frame import AudioFrame
from voxtrio.audio.resample import AudioResampler
from voxtrio.protocols import twilio_media as tw
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

__all__ = ["TwilioSink", "run_twilio_connection", "start_info"]

logger = logging.getLogger("voxtrio.serve.twilio")


def start_info(info: ConnectionInfo, start: tw.Start) -> ConnectionInfo:
    """`info` with the call's identity added to `query` (what the factory sees).

    Keys: ``twilio.stream_sid``, ``twilio.call_sid``, and one ``twilio.param.<name>``
    per TwiML `<Parameter>`.
    """
    query = dict(info.query)
    query["twilio.stream_sid"] = start.stream_sid
    query["twilio.call_sid"] = start.call_sid
    for name, value in start.custom_parameters.items():
        query[f"twilio.param.{name}"] = value
    return ConnectionInfo(info.route, info.path, query, dict(info.headers), info.client)


async def run_twilio_connection(
    ws: WebSocketLike,
    factory: SessionFactory,
    info: ConnectionInfo,
    *,
    input_sample_rate: int | None = 16_000,
    mark_interval: float = 0.1,
    max_message_size: int = tw.DEFAULT_MAX_MESSAGE_SIZE,
    idle_timeout: float | None = 30.0,
    handshake_timeout: float = 10.0,
    close_timeout: float = 5.0,
    buffer_frames: int = 50,
    outbox_capacity: int = 256,
    on_finished: StatisticsCallback | None = None,
) -> None:
    """Serve one Media Streams socket until `stop`, disconnect, idle timeout or session end."""
    start: tw.Start | None = None
    with trio.move_on_after(handshake_timeout) as waited:
        while start is None:
            try:
                message = await ws.receive()
            except ConnectionGone:
                return
            event, refused = _decode(message, max_message_size)
            if refused is not None:
                await close_quietly(ws, *refused)
                return
            if isinstance(event, tw.Start):
                try:
                    tw.check_media_format(event.media_format)
                except tw.ProtocolError as exc:
                    await close_quietly(ws, CLOSE_INVALID_DATA, str(exc)[:120])
                    return
                start = event
            elif isinstance(event, tw.Stop):
                await close_quietly(ws, 1000)
                return
            elif isinstance(event, (tw.Media, tw.Mark, tw.Dtmf)):
                await close_quietly(ws, CLOSE_POLICY, f"{event.event} before start")
                return
    if waited.cancelled_caught or start is None:
        await close_quietly(ws, CLOSE_GOING_AWAY, "no start received in time")
        return
    try:
        session, agent = await build_session(factory, start_info(info, start))
    except Exception:
        logger.exception("the session factory failed for call %s", start.call_sid)
        await close_quietly(ws, CLOSE_INTERNAL_ERROR, "could not start the agent")
        return

    in_rate = input_sample_rate or tw.SAMPLE_RATE
    resampler = AudioResampler(tw.SAMPLE_RATE, in_rate) if in_rate != tw.SAMPLE_RATE else None
    source = NetworkSource(in_rate, buffer_frames=buffer_frames)
    sink = TwilioSink(start.stream_sid, Outbox(outbox_capacity), mark_interval=mark_interval)
    end: list[tuple[int, str]] = []

    async def loop() -> None:
        while True:
            with trio.move_on_after(idle_timeout if idle_timeout is not None else math.inf) as s:
                message = await ws.receive()
            if s.cancelled_caught:
                end.append((CLOSE_GOING_AWAY, "idle timeout"))
                return
            event, refused = _decode(message, max_message_size)
            if refused is not None:
                end.append(refused)
                return
            if isinstance(event, tw.Media):
                if event.track not in ("inbound", "inbound_track"):
                    continue
                frame = tw.media_frame(event)
                frames = resampler.push(frame) if resampler is not None else [frame]
                for piece in frames:
                    if piece.samples_per_channel:
                        source.push(piece)
            elif isinstance(event, tw.Mark):
                sink.mark_echoed(event.name)
            elif isinstance(event, tw.Stop):
                return
            elif isinstance(event, tw.Dtmf):
                logger.info("dtmf %r on call %s", event.digit, start.call_sid)

    code = await run_session_over_socket(
        ws, session, agent, source, sink, loop, close_timeout=close_timeout,
        on_finished=on_finished,
    )
    if end:
        code, reason = end[0]
        await close_quietly(ws, code, reason[:120])
        return
    await close_quietly(ws, code)


class TwilioSink(NetworkSink):
    """Agent audio to Twilio: μ-law `media`, `mark`s for the played position, `clear`."""

    def __init__(
        self,
        stream_sid: str,
        outbox: Outbox,
        *,
        mark_interval: float = 0.1,
        frame_duration: float = 0.02,
    ) -> None:
        super().__init__(tw.SAMPLE_RATE, outbox, frame_duration=frame_duration)
        if not mark_interval > 0:
            raise ValueError(f"mark_interval must be > 0 seconds, got {mark_interval}")
        self.stream_sid = stream_sid
        self.mark_interval = mark_interval
        self.marks_sent = 0
        self.marks_echoed = 0
        self._cleared_ids: set[str] = set()

    def mark_echoed(self, name: str) -> None:
        """Twilio played everything before mark `name` (or cleared it: then ignored)."""
        self.marks_echoed += 1
        speech_id, _, samples = name.rpartition(":")
        if not speech_id or not samples.isdigit():
            logger.debug("ignoring an echoed mark we did not send: %r", name)
            return
        if speech_id in self._cleared_ids:
            return  # echoed because of our clear, not because it played
        self.acknowledge(speech_id, int(samples))

    def _send_audio(self, seg: Segment, frame: AudioFrame) -> None:
        message = tw.encode(tw.media_message(self.stream_sid, frame))
        self.outbox.put(message, speech_id=seg.speech_id, samples=frame.samples_per_channel)
        step = max(1, round(self.mark_interval * self.rate))
        sent = seg.sent + frame.samples_per_channel
        if sent // step != seg.sent // step:
            self._mark(seg, sent)

    def _close_segment(self, seg: Segment) -> None:
        step = max(1, round(self.mark_interval * self.rate))
        if seg.sent % step:
            self._mark(seg, seg.sent)

    def _clear_segment(self, seg: Segment, played: int) -> None:
        self._cleared_ids.add(seg.speech_id)
        if len(self._cleared_ids) > 1024:
            self._cleared_ids.pop()
        self.outbox.put(tw.encode(tw.Clear(self.stream_sid)))

    def _mark(self, seg: Segment, samples: int) -> None:
        self.marks_sent += 1
        seg.marks_sent += 1
        self.outbox.put(tw.encode(tw.OutboundMark(self.stream_sid, f"{seg.speech_id}:{samples}")))


def _decode(
    message: str | bytes, max_size: int
) -> tuple[tw.InboundEvent | None, tuple[int, str] | None]:
    if len(message) > max_size:
        return None, (CLOSE_TOO_BIG, f"message of {len(message)} bytes is over {max_size}")
    try:
        return tw.decode(message, max_size=None), None
    except tw.ProtocolError as exc:
        return None, (CLOSE_INVALID_DATA, str(exc))
