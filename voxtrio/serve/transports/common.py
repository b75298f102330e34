"""What the browser and Twilio transports share: the socket protocol, the network source
and sink, the outbound queue and the session runner.

    class MySocket:                      # anything with these three methods is a WebSocketLike
        async def receive(self) -> str | bytes: ...
        async def send(self, message: str | bytes) -> None: ...
        async def close(self, code: int = 1000, reason: str = "") -> None: ...

A transport turns one WebSocket into an `AudioSource` (what the peer says) and an
`AudioSink` (what the agent says), so an `AgentSession` runs behind a socket exactly as
it runs on a sound card. Both are bounded: the source keeps at most `buffer_frames`
frames (the oldest is dropped and counted when the session falls behind); the outbound
queue keeps at most `capacity` messages (audio is dropped oldest first when the peer
reads too slowly, control messages are never dropped).

Segment boundaries. The `Playout` writes each reply as a run of frames whose `pts`
count from 0, on trio's clock (the sink is `paced`). The sink opens a segment at a
frame with `pts == 0` that holds sound (or at any frame when none is open), and closes
it when the session reports the reply finished (`reply_finished()`, called by the
transport on the final `agent_transcribed` event), when the next segment opens, when
the playout interrupts it with `clear()`, or, as a fallback, when nothing was written
for `end_after` seconds (the playout writes silence through under-runs, so a long gap
means the reply is over; shorter gaps are a reply held for a possible false
interruption, which then continues as the same segment).

Played position. `clear()` must answer at once how much of the interrupted segment
will never be heard. The sink estimates what the peer has played from its latest
acknowledgement (browser `played`, Twilio echoed `mark`), advanced by the time since,
or from the time since the segment's first frame when there is none yet, capped at what
was actually sent; audio still in the outbound queue is withdrawn and counted as
discarded.
"""

from __future__ import annotations

import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeAlias

import attrs
import numpy as np
import trio

from voxtrio.audio.frame import AudioFrame
from voxtrio.audio.sinks import AudioSink
from voxtrio.audio.sources import AudioSource, SourceNotOpen, SourceStatistics
from voxtrio.session.agent import Agent
from voxtrio.session.session import AgentSession

__all__ = [
    "CLOSE_GOING_AWAY",
    "CLOSE_INTERNAL_ERROR",
    "CLOSE_INVALID_DATA",
    "CLOSE_NORMAL",
    "CLOSE_POLICY",
    "CLOSE_TOO_BIG",
    "ConnectionGone",
    "ConnectionInfo",
    "NetworkSink",
    "NetworkSource",
    "Outbox",
    "Segment",
    "SessionFactory",
    "TransportStatistics",
    "WebSocketLike",
    "transport_statistics",
]

logger = logging.getLogger("voxtrio.serve")

#: Close codes (RFC 6455) the transports use.
CLOSE_NORMAL = 1000  # the peer said bye / stop, or the session ended
CLOSE_GOING_AWAY = 1001  # idle timeout, or the handshake never came
CLOSE_INVALID_DATA = 1007  # a message the codec rejects
CLOSE_POLICY = 1008  # messages in the wrong order (audio before hello, media before start)
CLOSE_TOO_BIG = 1009  # a message over max_message_size
CLOSE_INTERNAL_ERROR = 1011  # the factory or the session failed


class ConnectionGone(Exception):
    """The peer went away (or the socket closed): nothing can be sent or received."""


class WebSocketLike(Protocol):
    """The three socket operations the transports need (adapt ASGI, trio-websocket...)."""

    async def receive(self) -> str | bytes:
        """The next message: `str` for a text frame, `bytes` for binary; ConnectionGone."""
        ...

    async def send(self, message: str | bytes) -> None:
        """Send one message (text for `str`); raises ConnectionGone."""
        ...

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the socket; harmless when it is already closed."""
        ...


@attrs.frozen(slots=True)
class ConnectionInfo:
    """Who connected where: handed to the session factory.

    `route` is "browser" or "twilio"; `query` and `headers` are as received (a factory
    may read a caller id or a custom parameter from them). Never log `headers` whole:
    they may hold credentials.
    """

    route: str
    path: str = ""
    query: dict[str, str] = attrs.field(factory=dict)
    headers: dict[str, str] = attrs.field(factory=dict, repr=False)
    client: str = ""


SessionOrPair: TypeAlias = AgentSession | tuple[AgentSession, Agent]
SessionFactory: TypeAlias = Callable[[ConnectionInfo], SessionOrPair | Awaitable[SessionOrPair]]


@attrs.frozen(slots=True)
class TransportStatistics:
    """Counters of one connection.

    `frames_in` / `dropped_in`: audio frames received from the peer and dropped because
    the session fell behind; `frames_out` / `dropped_out`: audio messages sent and
    dropped because the peer read too slowly; `segments` replies started, `cleared`
    replies interrupted; `acks` acknowledgements (browser `played`, Twilio echoed marks)
    taken into account.
    """

    frames_in: int
    dropped_in: int
    frames_out: int
    dropped_out: int
    segments: int
    cleared: int
    acks: int


async def build_session(
    factory: SessionFactory, info: ConnectionInfo
) -> tuple[AgentSession, Agent | None]:
    """Call the user's factory (sync or async) and normalise what it returns."""
    made = factory(info)
    if inspect.isawaitable(made):
        made = await made
    if isinstance(made, tuple):
        session, agent = made
    else:
        session, agent = made, None
    if not isinstance(session, AgentSession):
        raise TypeError(
            "the session factory must return an AgentSession or (AgentSession, Agent), "
            f"got {type(session).__name__}"
        )
    return session, agent


# -- network source ------------------------------------------------------------------------


class NetworkSource(AudioSource):
    """Audio received from a socket: the transport `push`es, the session reads.

        source = NetworkSource(16_000)
        source.push(frame)          # from the receive loop; never blocks
        source.end()                # the peer is gone: read() returns None once drained

    At most `buffer_frames` frames wait; when the reader falls behind the oldest is
    dropped and counted (`statistics().dropped`), so the agent always hears the newest
    audio. `pts` count every sample received (dropped ones too): the peer's clock.
    """

    realtime = True

    def __init__(self, sample_rate: int, *, buffer_frames: int = 50) -> None:
        if buffer_frames < 1:
            raise ValueError(f"buffer_frames must be at least 1, got {buffer_frames}")
        self.sample_rate = sample_rate
        self.num_channels = 1
        self.buffer_frames = buffer_frames
        self._buffer: deque[AudioFrame] = deque()
        self._lot = trio.lowlevel.ParkingLot()
        self._ended = False
        self._open = False
        self._samples_in = 0
        self.frames_received = 0
        self._frames_out = 0
        self._samples_out = 0
        self._dropped = 0

    def push(self, frame: AudioFrame) -> None:
        """Queue one received frame (mono, at `sample_rate`); drops the oldest when full."""
        if frame.sample_rate != self.sample_rate or frame.num_channels != 1:
            raise ValueError(
                f"NetworkSource takes mono {self.sample_rate} Hz frames, got "
                f"{frame.num_channels} channel(s) at {frame.sample_rate} Hz"
            )
        if self._ended:
            return
        stamped = AudioFrame(frame.data, self.sample_rate, self._samples_in / self.sample_rate)
        self._samples_in += frame.samples_per_channel
        self.frames_received += 1
        self._buffer.append(stamped)
        while len(self._buffer) > self.buffer_frames:
            self._buffer.popleft()
            self._dropped += 1
        self._lot.unpark_all()

    def end(self) -> None:
        """No more audio will come; readers get the rest, then the end of the stream."""
        self._ended = True
        self._lot.unpark_all()

    async def aopen(self) -> None:
        self._open = True
        await trio.lowlevel.checkpoint()

    async def aclose(self) -> None:
        self._open = False
        self._lot.unpark_all()
        await trio.lowlevel.checkpoint()

    async def read(self) -> AudioFrame | None:
        if not self._open:
            raise SourceNotOpen("open the NetworkSource before reading: `async with source:`")
        while not self._buffer:
            if self._ended or not self._open:
                await trio.lowlevel.checkpoint()
                return None
            await self._lot.park()
        frame = self._buffer.popleft()
        self._frames_out += 1
        self._samples_out += frame.samples_per_channel
        await trio.lowlevel.checkpoint()
        return frame

    def statistics(self) -> SourceStatistics:
        return SourceStatistics(
            frames=self._frames_out, samples=self._samples_out, dropped=self._dropped
        )


# -- outbound queue -------------------------------------------------------------------------


@attrs.define(slots=True)
class _Out:
    payload: str | bytes
    speech_id: str | None  # set for audio of a segment (droppable, withdrawable)
    samples: int = 0


class Outbox:
    """Bounded, ordered queue of outgoing messages, drained by one sender task.

    Audio items may be dropped (oldest first) when more than `capacity` items wait, or
    withdrawn by segment (`withdraw`). Control items (speech markers, marks, states,
    transcripts) are dropped only when more than twice `capacity` items wait with no
    audio among them: a peer that stopped reading long ago (counted in `dropped_control`).
    """

    def __init__(self, capacity: int = 256) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self._items: deque[_Out] = deque()
        self._lot = trio.lowlevel.ParkingLot()
        self._closed = False
        self.sent_audio = 0
        self.dropped_audio = 0
        self.dropped_control = 0

    def put(self, payload: str | bytes, *, speech_id: str | None = None, samples: int = 0) -> None:
        if self._closed:
            return
        self._items.append(_Out(payload, speech_id, samples))
        if len(self._items) > self.capacity:
            for i, item in enumerate(self._items):
                if item.speech_id is not None:
                    del self._items[i]
                    self.dropped_audio += 1
                    break
            else:
                if len(self._items) > 2 * self.capacity:
                    self._items.popleft()
                    self.dropped_control += 1
        self._lot.unpark_all()

    def queued(self) -> list[str | bytes]:
        """The messages waiting to be sent, oldest first."""
        return [item.payload for item in self._items]

    def withdraw(self, speech_id: str) -> int:
        """Remove the queued audio of `speech_id`; return its samples."""
        kept: deque[_Out] = deque()
        removed = 0
        for item in self._items:
            if item.speech_id == speech_id:
                removed += item.samples
            else:
                kept.append(item)
        self._items = kept
        return removed

    def close(self) -> None:
        """Stop taking messages; the sender finishes what is queued, then stops."""
        self._closed = True
        self._lot.unpark_all()

    async def drain_to(self, ws: WebSocketLike) -> None:
        """Send everything, in order, until closed and empty (ConnectionGone propagates)."""
        while True:
            while not self._items:
                if self._closed:
                    return
                await self._lot.park()
            item = self._items.popleft()
            await ws.send(item.payload)
            if item.speech_id is not None:
                self.sent_audio += 1


# -- network sink ---------------------------------------------------------------------------


@attrs.define(slots=True, eq=False)
class Segment:
    """One reply as the sink sees it."""

    speech_id: str
    started_at: float
    sent: int = 0  # samples handed to the outbox (sound and under-run silence)
    next_pts: float = 0.0  # where the reply's next frame continues
    ack: int | None = None  # samples the peer confirmed played
    ack_at: float = 0.0
    marks_sent: int = 0


class NetworkSink(AudioSink):
    """Base of the browser and Twilio sinks: segments, pacing, clear (module docs).

    Subclasses implement `_open_segment`, `_send_audio`, `_close_segment` and
    `_clear_segment`, which put messages on `outbox`.
    """

    paced = True

    def __init__(
        self,
        sample_rate: int,
        outbox: Outbox,
        *,
        frame_duration: float = 0.02,
        end_after: float = 3.0,
    ) -> None:
        super().__init__(sample_rate, 1)
        self.outbox = outbox
        self.frame_duration = frame_duration
        self.end_after = end_after
        self.segment: Segment | None = None
        self.played_positions: dict[str, int] = {}  # speech id -> samples the peer played
        self.segments_started = 0
        self.segments_cleared = 0
        self.acks = 0
        self._last_end = 0.0  # trio time the last written frame finishes playing
        self._count = 0
        self._lot = trio.lowlevel.ParkingLot()

    @property
    def rate(self) -> int:
        assert self.sample_rate is not None
        return self.sample_rate

    async def _write(self, frame: AudioFrame) -> None:
        now = trio.current_time()
        n = frame.samples_per_channel
        tolerance = 0.5 / self.rate
        seg = self.segment
        sound = bool(np.any(frame.data))
        if seg is not None:
            starts_new = frame.pts <= tolerance and sound and seg.sent > 0
            jumped = frame.pts > tolerance and abs(frame.pts - seg.next_pts) > tolerance
            if starts_new or jumped:
                self._end_segment()
                seg = None
        if seg is None:
            self._count += 1
            seg = Segment(f"sp_{self._count}", now, next_pts=frame.pts)
            self.segment = seg
            self.segments_started += 1
            self._open_segment(seg)
            self._lot.unpark_all()
        if frame.pts > tolerance or abs(frame.pts - seg.next_pts) <= tolerance:
            seg.next_pts = frame.pts + n / self.rate  # sound of the reply, not under-run silence
        self._send_audio(seg, frame)
        seg.sent += n
        self._last_end = max(now, self._last_end) + n / self.rate
        await trio.lowlevel.checkpoint()

    def clear(self) -> int:
        seg = self.segment
        if seg is None:
            return 0
        now = trio.current_time()
        unsent = self.outbox.withdraw(seg.speech_id)
        sent = seg.sent - unsent
        if seg.ack is not None:
            estimate = seg.ack + round((now - seg.ack_at) * self.rate)
        else:
            estimate = round((now - seg.started_at) * self.rate)
        played = max(0, min(sent, estimate))
        self.segment = None
        self.segments_cleared += 1
        self._clear_segment(seg, played)
        return seg.sent - played

    def acknowledge(self, speech_id: str, samples: int) -> None:
        """The peer reports it has played `samples` of `speech_id` (authoritative)."""
        self.acks += 1
        previous = self.played_positions.get(speech_id, 0)
        self.played_positions[speech_id] = max(previous, samples)
        seg = self.segment
        if seg is not None and seg.speech_id == speech_id:
            seg.ack = max(seg.ack or 0, samples)
            seg.ack_at = trio.current_time()

    def reply_finished(self) -> None:
        """The session says the reply playing now is over: close its segment."""
        self._end_segment()

    async def watch_segment_end(self) -> None:
        """Close a segment once the playout stopped writing for `end_after` seconds."""
        while True:
            if self.segment is None:
                await self._lot.park()
                continue
            due = self._last_end + self.end_after
            if trio.current_time() >= due:
                self._end_segment()
            else:
                await trio.sleep_until(due)

    def _end_segment(self) -> None:
        seg, self.segment = self.segment, None
        if seg is not None:
            self._close_segment(seg)

    # -- for subclasses ----------------------------------------------------------------

    def _open_segment(self, seg: Segment) -> None:  # noqa: B027 - optional hook
        """A reply starts (before its first frame is sent)."""

    def _send_audio(self, seg: Segment, frame: AudioFrame) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _send_audio")  # abstract

    def _close_segment(self, seg: Segment) -> None:  # noqa: B027 - optional hook
        """All audio of the reply has been sent."""

    def _clear_segment(self, seg: Segment, played: int) -> None:  # noqa: B027
        """The reply was interrupted; its unsent audio is already withdrawn."""


# -- connection runner ----------------------------------------------------------------------


ReceiveLoop: TypeAlias = Callable[[], Awaitable[None]]
StatisticsCallback: TypeAlias = Callable[[TransportStatistics], None]


def transport_statistics(source: NetworkSource, sink: NetworkSink) -> TransportStatistics:
    """The counters of one connection so far (see `TransportStatistics`)."""
    return TransportStatistics(
        frames_in=source.frames_received,
        dropped_in=source.statistics().dropped,
        frames_out=sink.outbox.sent_audio,
        dropped_out=sink.outbox.dropped_audio,
        segments=sink.segments_started,
        cleared=sink.segments_cleared,
        acks=sink.acks,
    )


async def run_session_over_socket(
    ws: WebSocketLike,
    session: AgentSession,
    agent: Agent | None,
    source: NetworkSource,
    sink: NetworkSink,
    receive_loop: ReceiveLoop,
    *,
    close_timeout: float,
    on_finished: StatisticsCallback | None = None,
) -> int:
    """Run `session` with `source` / `sink` until the receive loop or the session ends.

    Returns the close code to use: normal, or internal error when the session failed.
    The session is always closed (bounded by `close_timeout`) before this returns, and
    what was already queued for the peer is flushed (bounded too). `on_finished` then
    gets the connection's counters (its exceptions are logged).
    """
    outbox = sink.outbox
    receiving = trio.CancelScope()
    sender_done = trio.Event()

    def on_close(_event: object) -> None:
        receiving.cancel()  # the session ended on its own: so does the connection

    def on_transcribed(event: Any) -> None:
        if event.is_final:
            sink.reply_finished()

    session.on("close", on_close)
    session.on("agent_transcribed", on_transcribed)
    try:
        async with trio.open_nursery() as nursery:

            async def send_all() -> None:
                try:
                    await outbox.drain_to(ws)
                except ConnectionGone:
                    receiving.cancel()  # nobody hears us any more: end the session
                finally:
                    sender_done.set()

            nursery.start_soon(send_all)
            nursery.start_soon(sink.watch_segment_end)
            await nursery.start(session.run, source, sink, agent)
            with receiving:
                try:
                    await receive_loop()
                except ConnectionGone:
                    pass
            source.end()
            with trio.move_on_after(close_timeout):
                await session.aclose()
            outbox.close()
            with trio.move_on_after(close_timeout):
                await sender_done.wait()
            nursery.cancel_scope.cancel()
    except Exception:
        logger.exception("session failed")
        code = CLOSE_INTERNAL_ERROR
    else:
        code = CLOSE_NORMAL
    finally:
        session.off("close", on_close)
        session.off("agent_transcribed", on_transcribed)
        if on_finished is not None:
            try:
                on_finished(transport_statistics(source, sink))
            except Exception:
                logger.exception("on_finished callback failed")
    return code


async def close_quietly(ws: WebSocketLike, code: int, reason: str = "") -> None:
    """Close the socket; a peer already gone is not an error."""
    with trio.move_on_after(1.0) as scope:
        scope.shield = True
        try:
            await ws.close(code, reason)
        except (ConnectionGone, trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        except Exception:
            logger.debug("closing the socket failed", exc_info=True)
