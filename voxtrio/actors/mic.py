"""The microphone actor: reads an audio source and feeds a drop-oldest mailbox.

    mic = MicReader(WavFileSource("question.wav"), capacity=50)
    ref = await spawn(nursery, mic, name="mic")      # returns once the source is open
    async for frame in mic.frames:                    # ends at the end of the source
        ...

Contract:

- `MicReader(source, output=None, *, capacity=50)`: frames go to `output` (a
  `MailboxSender`) or, without one, to a new ``drop_oldest`` mailbox of `capacity`
  frames whose receiving end is `mic.frames`. Under a supervisor, create the mailbox
  once with `open_frame_mailbox()` and give every incarnation the same sender and the
  same source: a reopened source resumes where it stopped.
- Sending never waits: live audio must not stall behind a slow consumer. On a full
  ``drop_oldest`` mailbox the oldest frame is dropped (the newest always survives);
  drops are counted (`statistics().frames_dropped`, always exact), noticed within
  0.1 s, logged as a warning at most once per `report_interval` seconds, and emitted as
  a `MicFramesDropped` event (the last one when the source ends). An
  `output` with another overflow policy works too; if its send would block, the new
  frame is dropped and counted instead.
- `ctx.started()` is called once the source is open: a failure to open it (no sound
  card, missing PortAudio, missing file) is raised from `spawn`.
- At the end of the source the actor closes `output` (unless `close_output=False`), so
  the consumer's `async for` ends; then it returns. A `Stop` on the control inbox ends it
  early, without closing `output`. If every receiver of `output` is closed, the actor
  returns quietly.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import attrs
import trio

from voxtrio.actors.messages_audio import EVENT_MIC_FRAMES_DROPPED, MicFramesDropped
from voxtrio.audio.frame import AudioFrame
from voxtrio.audio.sources import AudioSource
from voxtrio.core.actor import Actor, ActorContext
from voxtrio.core.emitter import EventEmitter
from voxtrio.core.mailbox import MailboxReceiver, MailboxSender, MailboxStatistics, open_mailbox

__all__ = ["MicReader", "MicStatistics", "open_frame_mailbox"]

logger = logging.getLogger("voxtrio.actors.mic")

#: Default mailbox size: 50 frames of 20 ms, one second of audio.
DEFAULT_CAPACITY = 50
#: How often (trio seconds) the reader looks for new drops; reports are rarer still
#: (`report_interval`).
DROP_CHECK_INTERVAL = 0.1


def open_frame_mailbox(
    capacity: int = DEFAULT_CAPACITY,
) -> tuple[MailboxSender[AudioFrame], MailboxReceiver[AudioFrame]]:
    """A ``drop_oldest`` mailbox for live audio frames: ``tx, rx = open_frame_mailbox(50)``."""
    return open_mailbox(capacity, "drop_oldest")


@attrs.frozen(slots=True)
class MicStatistics:
    """Counters of one `MicReader`.

    `frames_read`: frames taken from the source; `frames_sent`: frames handed to the
    output mailbox; `frames_dropped`: frames lost because the consumer fell behind (by
    the mailbox's drop policy, or refused by a full blocking mailbox); `source_dropped`:
    frames the source itself lost (a device buffer overflowing).
    """

    frames_read: int
    frames_sent: int
    frames_dropped: int
    source_dropped: int


class MicReader(Actor):
    """Reads `source` and sends its frames to the consumer (see the module docs)."""

    def __init__(
        self,
        source: AudioSource,
        output: MailboxSender[AudioFrame] | None = None,
        *,
        capacity: int = DEFAULT_CAPACITY,
        report_interval: float = 1.0,
        close_output: bool = True,
        emitter: EventEmitter | None = None,
    ) -> None:
        if not report_interval >= 0:
            raise ValueError(f"report_interval must be >= 0 seconds, got {report_interval}")
        self.source = source
        self._frames: MailboxReceiver[AudioFrame] | None = None
        if output is None:
            output, self._frames = open_frame_mailbox(capacity)
        elif output.statistics().overflow != "drop_oldest":
            logger.info(
                "MicReader output mailbox uses overflow=%r; 'drop_oldest' keeps the newest "
                "audio when the consumer is slow",
                output.statistics().overflow,
            )
        self.output = output
        self.report_interval = report_interval
        self.close_output = close_output
        self._emitter = emitter
        self._ctx: ActorContext | None = None
        self._read = 0
        self._sent = 0
        self._refused = 0  # frames a full blocking output refused
        self._reported = 0  # drops already reported
        self._last_report: float | None = None

    @property
    def frames(self) -> MailboxReceiver[AudioFrame]:
        """The consumer's end of the mailbox the reader created (no `output` given)."""
        if self._frames is None:
            raise RuntimeError(
                "this MicReader sends to the output mailbox it was given; read from that "
                "mailbox's receiver"
            )
        return self._frames

    def statistics(self) -> MicStatistics:
        """Frames read, sent and dropped so far."""
        return MicStatistics(
            frames_read=self._read,
            frames_sent=self._sent,
            frames_dropped=self._dropped(self._mailbox_stats()),
            source_dropped=self.source.statistics().dropped,
        )

    async def run(self, ctx: ActorContext) -> None:
        self._ctx = ctx
        async with self.source as source:
            ctx.started()
            ctx.log.debug("reading %r", source)
            ended = False
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._watch_control, ctx, nursery.cancel_scope)
                ended = await self._pump(source)
                nursery.cancel_scope.cancel()
        self._report(final=True)
        if ended and self.close_output:
            await self.output.aclose()
        stats = self.statistics()
        ctx.log.info(
            "mic finished: %d frames read, %d sent, %d dropped",
            stats.frames_read,
            stats.frames_sent,
            stats.frames_dropped,
        )

    async def _pump(self, source: AudioSource) -> bool:
        """Move frames until the source ends (True) or the consumer is gone (False)."""
        output = self.output
        next_check = -math.inf
        async for frame in source:
            self._read += 1
            try:
                output.send_nowait(frame)
            except trio.WouldBlock:
                self._refused += 1  # a "block" mailbox is full: drop the new frame
            except trio.BrokenResourceError:
                logger.info("mic: every consumer closed its mailbox; stopping")
                return False
            else:
                self._sent += 1
            now = trio.current_time()
            if now >= next_check:  # reading the mailbox counters costs more than a send
                next_check = now + DROP_CHECK_INTERVAL
                self._report(final=False)
        return True

    async def _watch_control(self, ctx: ActorContext, scope: trio.CancelScope) -> None:
        async for msg in ctx.messages():  # ends at Stop
            if msg is not None:
                ctx.log.debug("mic ignores message %r", msg)
        scope.cancel()

    def _report(self, *, final: bool) -> None:
        dropped = self._dropped(self._mailbox_stats())
        new = dropped - self._reported
        if new <= 0:
            return
        now = trio.current_time()
        last = self._last_report
        if not final and last is not None and now - last < self.report_interval:
            return
        self._reported = dropped
        self._last_report = now
        logger.warning(
            "mic: the consumer is behind, dropped %d frame(s) (%d in total); the oldest "
            "audio is lost first",
            new,
            dropped,
        )
        self._emit(EVENT_MIC_FRAMES_DROPPED, MicFramesDropped(new, dropped, now))

    def _emit(self, name: str, event: Any) -> None:
        try:
            if self._emitter is not None:
                self._emitter.emit(name, event)
            elif self._ctx is not None:
                self._ctx.emit(name, event)
        except Exception:  # a misconfigured emitter must not kill the mic
            logger.exception("mic: could not emit %r", name)

    def _mailbox_stats(self) -> MailboxStatistics | None:
        try:
            return self.output.statistics()
        except Exception:
            return None

    def _dropped(self, stats: MailboxStatistics | None) -> int:
        return self._refused + (stats.dropped if stats is not None else 0)
