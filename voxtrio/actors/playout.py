"""The playout actor: plays agent replies on a sink, stops at once when interrupted.

    sink = MemorySink(sample_rate=24_000)
    playout = Playout(sink)
    ref = await spawn(nursery, playout, name="playout", events=emitter)
    ref.tell_nowait(PlaySegment("speech_1", frames))         # or SegmentAudio + EndOfSegment
    ...
    ref.tell_control_nowait(Interrupt())                      # barge-in
    # emitter: playback_started(PlaybackStarted), playback_position(PlaybackPosition),
    #          playback_finished(PlaybackFinished(speech_id, interrupted, played_duration))

Segments. Data messages (`SegmentAudio`, `EndOfSegment`, `PlaySegment`) carry a
`speech_id`; all the audio of one `speech_id` is a segment. Segments play one after the
other, in the order their first message arrived, back to back with no gap when the next
one is ready in time. A segment is finished when its `EndOfSegment` arrived and all its
audio was played — on a paced sink when its last sample has been heard, at the end of
its last frame — or when the data inbox closes (then the actor plays out what it holds
and returns).

Pacing. On a paced sink (`sink.paced`: memory and device sinks) the output runs on
trio's clock: frames are cut to at most `frame_duration` (20 ms) and each is written when
it is due, continuing the clock of the previous write; the first frame after an idle
period is written at once. When the output falls behind (a late wake-up under load, a
sink write that blocked), the frames due meanwhile are written at once to catch up, up
to `max_catch_up` (0.2 s) behind; further behind, the clock restarts at now. On an unpaced sink (WAV files) frames are written as soon as
they are available.

Under-runs. If a segment has started but its next audio has not arrived when due, a
paced sink gets `frame_duration` of silence instead, so the output never stalls
(`statistics().underruns`); the audio resumes within one frame period once it arrives.
Silence is not counted in `played_duration`. Idle output — no segment in progress — is
no output at all (`idle="none"`, the default), or continuous silence with
`idle="silence"` for sinks that need a steady stream (a telephony socket); a finished
segment never leaves silence running under `idle="none"`. Audio relayed live (a mic or
a network stream paced at the output rate) arrives just in time, so any jitter would
under-run: `prebuffer=0.04` holds the start of each segment until 40 ms of it are queued
(or its end arrived), a small jitter buffer. The default, 0, starts at the first frame,
which suits synthesized speech (it arrives faster than real time).

Interruption. `Interrupt(speech_id=None)` on the control inbox (`tell_control`) is
handled before any queued data: the segment's writes stop at once (no frame of it is
written after the interrupt is received, so output stops within one frame period: the
last frame already handed over), the rest of it is discarded, the sink's not-yet-audible
buffer is cleared (`sink.clear()`), and `PlaybackFinished(interrupted=True)` reports
`played_duration` exact to the sample that reached the sink. Data that arrives later
for an interrupted (or finished) `speech_id` is discarded on sight: its id works as a
generation number, so no mailbox is ever flushed. Segments queued behind an interrupted
one play normally (use `clear_queue=True` to drop them too). An interrupt naming a
`speech_id` that has not arrived yet reports it finished (interrupted, 0.0 s) at once and
discards its audio when it comes. `Stop` interrupts everything and returns.

Pause and resume. `Pause(speech_id=None)` (control) holds a segment where it is, for a
possible false interruption: nothing of it is written (the output idles; what the sink
already holds, at most a frame, still plays), segments behind it wait, and its audio
keeps queueing. `Resume` continues it from the next sample (no `PlaybackStarted` again);
`Interrupt` ends it with the exact `played_duration`. A paused segment whose audio was
all played finishes normally.

Events go to the `emitter` passed to `Playout(...)`, or else to the emitter the actor was
spawned with (`ctx.emit`: the session supervisor's), and also to `events`, a mailbox the
session can read (sent without waiting; a full "block" mailbox loses the event and logs
it). Names are `playback_started`, `playback_position` (every `position_interval`
seconds of played audio; None for none) and `playback_finished`, each with one
argument, the event object.

Formats. Frames whose rate differs from the sink's are resampled (soxr, one stream per
segment); mono is copied to every channel of a multi-channel sink and multi-channel is
averaged down to a mono one; other channel layouts are logged and discarded. A sink
without a rate adopts the first frame's. Queued audio is bounded by `max_queued`
seconds: beyond it the actor stops reading its inbox (back-pressure on the producer),
except while the playing segment is starved, and it then drops (and counts) frames of
later segments past twice that bound.

Failure. If the actor crashes (a sink error), it first reports every segment it held as
finished (interrupted, with what was played), so nobody waits forever; a supervisor's
next incarnation reopens the same sink and plays what arrives next. Audio of those
segments still in the inbox then plays as new segments (the new incarnation does not
know the old one's ids).
"""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from typing import Any, Literal

import attrs
import numpy as np
import numpy.typing as npt
import trio

from voxtrio.actors.messages_audio import (
    EVENT_PLAYBACK_FINISHED,
    EVENT_PLAYBACK_POSITION,
    EVENT_PLAYBACK_STARTED,
    EndOfSegment,
    Interrupt,
    Pause,
    PlaybackFinished,
    PlaybackPosition,
    PlaybackStarted,
    PlaySegment,
    Resume,
    SegmentAudio,
)
from voxtrio.audio.frame import AudioFrame
from voxtrio.audio.resample import AudioResampler
from voxtrio.audio.sinks import AudioSink
from voxtrio.core.actor import Actor, ActorContext, Stop
from voxtrio.core.emitter import EventEmitter
from voxtrio.core.mailbox import MailboxSender
from voxtrio.core.pacing import sleep_until

__all__ = ["Playout", "PlayoutStatistics"]

logger = logging.getLogger("voxtrio.actors.playout")

Int16Array = npt.NDArray[np.int16]
IdleMode = Literal["none", "silence"]

#: How many closed (finished or interrupted) speech ids are remembered, to discard late data.
CLOSED_IDS_REMEMBERED = 1024


@attrs.frozen(slots=True)
class PlayoutStatistics:
    """Counters of one `Playout`.

    `samples_played` counts segment audio written to the sink (per channel, at the sink's
    rate); `silence_samples` the silence written during under-runs and idle time;
    `underruns` how many times a started segment ran dry; `discarded_frames` frames
    thrown away because their segment was interrupted or already finished;
    `dropped_frames` frames dropped because the queue overflowed.
    """

    segments_started: int
    segments_finished: int
    segments_interrupted: int
    frames_written: int
    samples_played: int
    silence_samples: int
    underruns: int
    discarded_frames: int
    dropped_frames: int
    queued_seconds: float
    pauses: int = 0


class Playout(Actor):
    """Plays queued segments on `sink` (see the module docs)."""

    def __init__(
        self,
        sink: AudioSink,
        *,
        frame_duration: float = 0.02,
        position_interval: float | None = 0.1,
        idle: IdleMode = "none",
        prebuffer: float = 0.0,
        max_queued: float = 60.0,
        max_catch_up: float = 0.2,
        emitter: EventEmitter | None = None,
        events: MailboxSender[Any] | None = None,
    ) -> None:
        if not frame_duration > 0:
            raise ValueError(f"frame_duration must be > 0 seconds, got {frame_duration}")
        if position_interval is not None and not position_interval >= 0:
            raise ValueError(f"position_interval must be >= 0 or None, got {position_interval}")
        if idle not in ("none", "silence"):
            raise ValueError(f"idle must be 'none' or 'silence', got {idle!r}")
        if not max_queued > 0:
            raise ValueError(f"max_queued must be > 0 seconds, got {max_queued}")
        if not 0 <= prebuffer < max_queued:
            raise ValueError(f"prebuffer must be >= 0 and below max_queued, got {prebuffer}")
        if not max_catch_up >= 0:
            raise ValueError(f"max_catch_up must be >= 0 seconds, got {max_catch_up}")
        self.sink = sink
        self.frame_duration = frame_duration
        self.position_interval = position_interval
        self.idle: IdleMode = idle
        self.prebuffer = prebuffer
        self.max_queued = max_queued
        self.max_catch_up = max_catch_up
        self._emitter = emitter
        self._events = events
        self._ctx: ActorContext | None = None

        self._rate: int | None = None  # output rate: the sink's, or the first frame's
        self._queue: deque[_Segment] = deque()
        self._by_id: dict[str, _Segment] = {}
        self._closed_ids: OrderedDict[str, None] = OrderedDict()
        self._queued_samples = 0
        self._pending: deque[Interrupt | Pause | Resume | Stop] = deque()
        self._paused_ids: OrderedDict[str, None] = OrderedDict()  # paused before arriving
        self._data_closed = False
        self._stopping = False

        # Output clock (paced sinks): the next write is due at origin + clock / rate.
        self._origin: float | None = None
        self._clock = 0

        # The writer sleeps until a due time (no wake-up needed: control is applied by the
        # control task meanwhile) or parks in `_idle_lot` waiting for audio. While it is
        # inside `sink.write`, control messages wait in `_pending` so that the frame in
        # flight is accounted for first.
        self._idle_lot = trio.lowlevel.ParkingLot()
        self._writing = False
        self._sink: AudioSink | None = None
        self._scope: trio.CancelScope | None = None
        self._space = trio.lowlevel.ParkingLot()  # the data reader waits for queue room

        self._stats = _Counters()

    # -- public ------------------------------------------------------------------------

    def statistics(self) -> PlayoutStatistics:
        """Counters of what was played, discarded and dropped so far."""
        c = self._stats
        rate = self._rate or 1
        return PlayoutStatistics(
            segments_started=c.segments_started,
            segments_finished=c.segments_finished,
            segments_interrupted=c.segments_interrupted,
            frames_written=c.frames_written,
            samples_played=c.samples_played,
            silence_samples=c.silence_samples,
            underruns=c.underruns,
            discarded_frames=c.discarded_frames,
            dropped_frames=c.dropped_frames,
            queued_seconds=self._queued_samples / rate,
            pauses=c.pauses,
        )

    @property
    def current(self) -> tuple[str, float] | None:
        """(speech_id, seconds played) of the segment playing now, or None."""
        if not self._queue or not self._queue[0].started:
            return None
        seg = self._queue[0]
        return seg.speech_id, seg.played / self._out_rate()

    # -- actor -----------------------------------------------------------------------------

    async def run(self, ctx: ActorContext) -> None:
        self._ctx = ctx
        async with self.sink as sink:
            self._rate = sink.sample_rate
            ctx.started()
            self._sink = sink
            try:
                async with trio.open_nursery() as nursery:
                    self._scope = nursery.cancel_scope
                    nursery.start_soon(self._read_control, ctx)
                    nursery.start_soon(self._read_data, ctx)
                    await self._write_loop(sink)
                    nursery.cancel_scope.cancel()
            except Exception:
                # Crashing (a supervisor may restart us): whoever waits for these replies
                # must still hear that they ended, and how much of them was played.
                for seg in list(self._queue):
                    self._remove(seg)
                    self._stats.segments_interrupted += 1
                    self._emit_finished(seg.speech_id, interrupted=True, played=seg.played)
                raise

    # -- control ---------------------------------------------------------------------------

    async def _read_control(self, ctx: ActorContext) -> None:
        async for msg in ctx.control:
            if not isinstance(msg, (Interrupt, Pause, Resume, Stop)):
                logger.warning("playout: ignoring unknown control message %r", msg)
                continue
            self._pending.append(msg)
            if self._writing:
                continue  # the writer applies it as soon as the frame in flight is counted
            assert self._sink is not None
            self._apply_control(self._sink)
            if self._stopping and self._scope is not None:
                self._scope.cancel()  # the writer is asleep, holding nothing: end it
                return
            self._idle_lot.unpark_all()  # a segment behind the interrupted one may be ready

    def _apply_control(self, sink: AudioSink) -> None:
        while self._pending:
            msg = self._pending.popleft()
            if isinstance(msg, Stop):
                self._stopping = True
                for seg in list(self._queue):
                    self._cancel(seg, sink)
                return
            if isinstance(msg, (Pause, Resume)):
                self._set_paused(msg.speech_id, isinstance(msg, Pause))
                continue
            if msg.speech_id is None:
                if self._queue:
                    self._cancel(self._queue[0], sink)
            else:
                target = self._by_id.get(msg.speech_id)
                if target is not None:
                    self._cancel(target, sink)
                elif msg.speech_id not in self._closed_ids:
                    # Not arrived yet: close it now so its audio is discarded on arrival.
                    self._remember_closed(msg.speech_id)
                    self._stats.segments_interrupted += 1
                    self._emit_finished(msg.speech_id, interrupted=True, played=0)
            if msg.clear_queue:
                for seg in list(self._queue):
                    self._cancel(seg, sink)

    def _set_paused(self, speech_id: str | None, paused: bool) -> None:
        if speech_id is None:
            seg = self._queue[0] if self._queue else None
        else:
            seg = self._by_id.get(speech_id)
            if seg is None:
                if paused and speech_id not in self._closed_ids:
                    self._paused_ids[speech_id] = None
                    while len(self._paused_ids) > CLOSED_IDS_REMEMBERED:
                        self._paused_ids.popitem(last=False)
                elif not paused:
                    self._paused_ids.pop(speech_id, None)
                return
        if seg is not None and seg.paused != paused:
            seg.paused = paused
            self._stats.pauses += paused

    def _cancel(self, seg: _Segment, sink: AudioSink) -> None:
        """Drop `seg` (interrupted) and report exactly what of it reached the sink."""
        played = seg.played
        if seg is self._queue[0] and seg.started:
            # Whatever the sink still buffers of our last writes will never be heard.
            played = max(0, played - sink.clear())
        self._stats.discarded_frames += len(seg.chunks)
        self._remove(seg)
        self._stats.segments_interrupted += 1
        self._emit_finished(seg.speech_id, interrupted=True, played=played)

    # -- data ------------------------------------------------------------------------------

    async def _read_data(self, ctx: ActorContext) -> None:
        limit_seconds = self.max_queued
        try:
            while True:
                while self._over(limit_seconds) and not self._starved():
                    await self._space.park()
                msg = await ctx.inbox.receive()
                # Control before data: a control message that arrived at the same moment
                # (its task is already runnable) is applied before this data.
                await trio.lowlevel.cancel_shielded_checkpoint()
                self._accept(msg)
        except (trio.EndOfChannel, trio.ClosedResourceError):
            self._data_closed = True
            self._idle_lot.unpark_all()

    def _accept(self, msg: Any) -> None:
        if isinstance(msg, SegmentAudio):
            self._accept_frames(msg.speech_id, (msg.frame,), end=False)
        elif isinstance(msg, EndOfSegment):
            self._accept_frames(msg.speech_id, (), end=True)
        elif isinstance(msg, PlaySegment):
            self._accept_frames(msg.speech_id, msg.frames, end=True)
        else:
            logger.warning("playout: ignoring unknown data message %r", msg)

    def _accept_frames(self, speech_id: str, frames: tuple[AudioFrame, ...], *, end: bool) -> None:
        if speech_id in self._closed_ids:
            self._stats.discarded_frames += len(frames)
            return
        seg = self._by_id.get(speech_id)
        if seg is None:
            paused = speech_id in self._paused_ids
            self._paused_ids.pop(speech_id, None)
            seg = _Segment(speech_id, paused=paused)
            self._queue.append(seg)
            self._by_id[speech_id] = seg
        elif seg.ended:
            logger.warning("playout: audio for %r after its EndOfSegment; discarded", speech_id)
            self._stats.discarded_frames += len(frames)
            return
        for frame in frames:
            if seg is not self._queue[0] and self._over(2 * self.max_queued):
                self._stats.dropped_frames += 1
                continue
            try:
                data = self._convert(seg, frame)
            except ValueError as exc:  # a producer's mistake must not silence the agent
                logger.error("playout: discarding a frame of %r: %s", speech_id, exc)
                self._stats.discarded_frames += 1
                continue
            self._add_chunks(seg, data)
        if end:
            if seg.resampler is not None:
                for out in seg.resampler.flush():
                    self._add_chunks(seg, out.data)
            seg.ended = True
        if seg is self._queue[0] or end:
            self._idle_lot.unpark_all()

    def _convert(self, seg: _Segment, frame: AudioFrame) -> Int16Array:
        rate = self._out_rate(frame)
        channels = self.sink.num_channels
        data = frame.data
        if frame.num_channels != channels:
            if frame.num_channels == 1:
                data = np.repeat(data, channels, axis=1)
            elif channels == 1:
                mean = data.astype(np.int32).sum(axis=1, keepdims=True) / frame.num_channels
                data = np.rint(mean).astype(np.int16)
            else:
                raise ValueError(
                    f"cannot play a {frame.num_channels}-channel frame on a {channels}-channel "
                    "sink: remix it first (voxtrio.audio.mix)"
                )
        if frame.sample_rate == rate:
            return data
        if seg.resampler is None or seg.resampler.in_rate != frame.sample_rate:
            if seg.resampler is not None:  # the rate changed mid-segment: drain the old one
                for out in seg.resampler.flush():
                    self._add_chunks(seg, out.data)
            seg.resampler = AudioResampler(frame.sample_rate, rate, channels)
        pieces = seg.resampler.push(AudioFrame(data, frame.sample_rate, frame.pts))
        if not pieces:
            return np.zeros((0, channels), dtype=np.int16)
        if len(pieces) == 1:
            return pieces[0].data
        return np.concatenate([p.data for p in pieces])

    def _add_chunks(self, seg: _Segment, data: Int16Array) -> None:
        step = self._chunk_samples()
        for start in range(0, data.shape[0], step):
            chunk = data[start : start + step]
            seg.chunks.append(chunk)
            seg.queued += chunk.shape[0]
            self._queued_samples += chunk.shape[0]

    # -- writing -----------------------------------------------------------------------------

    async def _write_loop(self, sink: AudioSink) -> None:
        paced = sink.paced
        while True:
            self._apply_control(sink)
            if self._stopping:
                return
            seg = self._queue[0] if self._queue else None
            if seg is not None and seg.paused and (seg.chunks or not seg.ended):
                seg = None  # held: the output idles until Resume or Interrupt
                if self._data_closed:
                    # Shutting down (the inbox closed): a held reply ends interrupted.
                    self._cancel(self._queue[0], sink)
                    continue
            if seg is None:
                if self._data_closed:
                    return
                if paced and self.idle == "silence":
                    if not await self._sleep_until_due():
                        await self._write_silence(sink)
                else:
                    await self._park_idle()
                continue
            if seg.chunks:
                if paced and not seg.started and not self._prebuffered(seg):
                    await self._park_idle()  # hold the start until enough is queued
                elif not (paced and await self._sleep_until_due()):
                    # Let a control message that arrived with this wake-up (its task is
                    # already runnable) go first, then write only if nothing changed.
                    await trio.lowlevel.cancel_shielded_checkpoint()
                    if self._queue and self._queue[0] is seg and seg.chunks and not seg.paused:
                        await self._write_chunk(sink, seg)
                continue
            if seg.ended or self._data_closed:
                # Finished when its last sample has been heard, not merely handed over.
                if not (paced and seg.started and await self._sleep_until_due()):
                    self._finish(seg)
                continue
            # The segment has no audio yet, or ran dry (under-run).
            if paced and (seg.started or self.idle == "silence"):
                if not await self._sleep_until_due():
                    if seg.started and not seg.starving:
                        seg.starving = True
                        self._stats.underruns += 1
                    await self._write_silence(sink)
            else:
                await self._park_idle()

    async def _park_idle(self) -> None:
        # The output stops here: the next write starts a fresh clock (at once) instead
        # of catching up on the idle time.
        self._origin = None
        await self._idle_lot.park()

    async def _write_chunk(self, sink: AudioSink, seg: _Segment) -> None:
        chunk = seg.chunks.popleft()
        n = chunk.shape[0]
        seg.queued -= n
        self._queued_samples -= n
        self._space.unpark_all()
        rate = self._out_rate()
        frame = AudioFrame(chunk, rate, seg.played / rate)
        self._start_clock()
        self._writing = True
        try:
            await sink.write(frame)
        finally:
            self._writing = False
        # The frame reached the sink: account for it before anything else can run.
        self._clock += n
        now = trio.current_time()
        seg.starving = False
        self._stats.frames_written += 1
        self._stats.samples_played += n
        before = seg.played
        seg.played += n
        if not seg.started:
            seg.started = True
            self._stats.segments_started += 1
            self._emit(EVENT_PLAYBACK_STARTED, PlaybackStarted(seg.speech_id, now))
        interval = self.position_interval
        if interval is not None:
            step = max(1, round(interval * rate))
            if seg.played // step != before // step or interval == 0:
                self._emit(
                    EVENT_PLAYBACK_POSITION,
                    PlaybackPosition(seg.speech_id, seg.played / rate, now),
                )

    async def _write_silence(self, sink: AudioSink) -> None:
        """Write one frame period of silence (the caller waited until it was due)."""
        rate = self._out_rate()
        n = self._chunk_samples()
        silence = np.zeros((n, sink.num_channels), dtype=np.int16)
        self._start_clock()
        self._writing = True
        try:
            await sink.write(AudioFrame(silence, rate, 0.0))
        finally:
            self._writing = False
        self._clock += n
        self._stats.silence_samples += n

    def _finish(self, seg: _Segment) -> None:
        self._remove(seg)
        self._stats.segments_finished += 1
        self._emit_finished(seg.speech_id, interrupted=False, played=seg.played)

    # -- clock and waiting -----------------------------------------------------------------

    def _due(self) -> float:
        """When the next write is due: continuing the running clock, or now."""
        now = trio.current_time()
        if self._origin is None or self._rate is None:
            return now
        due = self._origin + self._clock / self._rate
        if due < now - self.max_catch_up:
            # Stalled for longer than we may catch up on (a long GC pause, a sink that
            # blocked): restart the clock at now rather than bursting.
            self._origin = None
            return now
        # A late wake-up or a slow write: the frames due meanwhile go out at once, so
        # the lateness does not add up over a reply (a network client would hear the
        # reply drift later and later).
        return due

    def _start_clock(self) -> None:
        if self._origin is None:
            self._origin = trio.current_time()
            self._clock = 0

    async def _sleep_until_due(self) -> bool:
        """Sleep until the next write is due; False (without sleeping) if it is due now.

        After a sleep the caller re-examines everything: control messages may have been
        applied meanwhile.
        """
        due = self._due()
        if due <= trio.current_time():
            return False
        await sleep_until(due)
        return True

    # -- bookkeeping --------------------------------------------------------------------------

    def _remove(self, seg: _Segment) -> None:
        for chunk in seg.chunks:
            self._queued_samples -= chunk.shape[0]
        seg.chunks.clear()
        self._queue.remove(seg)
        self._by_id.pop(seg.speech_id, None)
        self._remember_closed(seg.speech_id)
        self._space.unpark_all()

    def _remember_closed(self, speech_id: str) -> None:
        self._closed_ids[speech_id] = None
        while len(self._closed_ids) > CLOSED_IDS_REMEMBERED:
            self._closed_ids.popitem(last=False)

    def _prebuffered(self, seg: _Segment) -> bool:
        if self.prebuffer <= 0 or seg.ended or self._data_closed:
            return True
        return seg.queued >= self.prebuffer * self._out_rate() - 0.5

    def _over(self, seconds: float) -> bool:
        return self._queued_samples > seconds * self._out_rate()

    def _starved(self) -> bool:
        return bool(self._queue) and not self._queue[0].chunks and not self._queue[0].ended

    def _out_rate(self, frame: AudioFrame | None = None) -> int:
        if self._rate is None:
            if frame is None:
                return self.sink.sample_rate or 16_000
            self._rate = self.sink.sample_rate or frame.sample_rate
        return self._rate

    def _chunk_samples(self) -> int:
        return max(1, round(self.frame_duration * self._out_rate()))

    def _emit_finished(self, speech_id: str, *, interrupted: bool, played: int) -> None:
        rate = self._out_rate()
        event = PlaybackFinished(
            speech_id, interrupted, played / rate, trio.current_time(), played, rate
        )
        self._emit(EVENT_PLAYBACK_FINISHED, event)

    def _emit(self, name: str, event: Any) -> None:
        try:
            if self._emitter is not None:
                self._emitter.emit(name, event)
            elif self._ctx is not None:
                self._ctx.emit(name, event)
        except Exception:  # a misconfigured emitter must not stop the audio
            logger.exception("playout: could not emit %r", name)
        if self._events is not None:
            try:
                self._events.send_nowait(event)
            except trio.WouldBlock:
                logger.error("playout: events mailbox is full; lost %r", event)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                self._events = None  # nobody listens any more


@attrs.define(slots=True, eq=False)
class _Segment:
    speech_id: str
    chunks: deque[Int16Array] = attrs.Factory(deque)
    ended: bool = False
    started: bool = False
    starving: bool = False
    paused: bool = False
    played: int = 0  # samples per channel of this segment written to the sink
    queued: int = 0  # samples per channel of this segment waiting in `chunks`
    resampler: AudioResampler | None = None


@attrs.define(slots=True)
class _Counters:
    segments_started: int = 0
    segments_finished: int = 0
    segments_interrupted: int = 0
    frames_written: int = 0
    samples_played: int = 0
    silence_samples: int = 0
    underruns: int = 0
    discarded_frames: int = 0
    dropped_frames: int = 0
    pauses: int = 0
