"""The shared machinery of streams that take audio in and give events out.

    async with stt.stream() as stream:       # also VADStream
        stream.push_frame(frame)             # sync; never blocks
        stream.end_input()
        async for event in stream:
            ...

`RecognizeStream` (STT) and `VADStream` (VAD) are both an `AudioInputStream`. This
module holds their common contract so the two behave alike:

- **An owner is required.** trio has no free-floating tasks, so the engine task runs in
  a nursery: `async with x.stream() as stream:` opens one for you; code that already
  has a nursery uses `await nursery.start(stream.run)` and calls `await stream.aclose()`
  when done. Iterating a stream that was never started raises `RuntimeError` (asyncio
  frameworks start the task in the constructor; trio cannot).
- **Input is sync and bounded.** `push_frame` never blocks (it is called from audio
  paths that must not wait); frames go into a mailbox of `input_capacity` items with the
  `drop_oldest` policy: an engine that falls that far behind loses the OLDEST audio, the
  drop is counted (`dropped_frames`) and logged once. A `flush()` marker shares the
  mailbox, so it too can be dropped, but only by an engine already seconds late.
- **Rate and channels.** All frames of a stream must share one sample rate and channel
  count (`ValueError` naming both values otherwise). Frames are down-mixed to mono
  and/or resampled to the engine's rate when the engine asks for it.
- **Errors.** Misuse (push after `end_input()`, any input after `aclose()`) raises
  `RuntimeError` naming the stream class. An engine failure ends the iteration by raising
  the failure from `async for` (after any events sent before it); retryable `APIError`s
  are retried first per `APIConnectOptions` (see `_main`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, Generic, TypeVar

import attrs
import numpy as np
import trio

from voxtrio.audio.frame import AudioFrame
from voxtrio.core.mailbox import MailboxReceiver, MailboxSender, open_mailbox
from voxtrio.engines.errors import APIConnectOptions, APIError, unwrap_error

__all__ = ["AudioInputStream", "Flush", "StreamStatistics"]

logger = logging.getLogger("voxtrio.engines")

E = TypeVar("E")
S = TypeVar("S", bound="AudioInputStream[Any]")


@attrs.frozen(slots=True)
class Flush:
    """Marker in a stream's input: the current segment ends here (`stream.flush()`)."""


FLUSH = Flush()


@attrs.frozen(slots=True)
class StreamStatistics:
    """Counters of one stream's input side."""

    frames_pushed: int
    frames_dropped: int
    input_buffered: int
    input_capacity: int
    attempts: int


class AudioInputStream(Generic[E]):
    """Base of audio-in / events-out streams. Subclasses implement `_run()`.

    Inside `_run`, read `self._input` (a mailbox receiver of `AudioFrame` and `Flush`;
    it ends with `trio.EndOfChannel` / the end of `async for` after `end_input()`) and
    send events with `await self._send_event(event)`. `_run` is called again on a
    retryable `APIError` and continues with the same input.
    """

    def __init__(
        self,
        *,
        conn_options: APIConnectOptions,
        sample_rate: int | None = None,
        mono: bool = False,
        input_capacity: int = 500,
        event_capacity: int = 64,
    ) -> None:
        self._conn_options = conn_options
        self._needed_rate = sample_rate
        self._mono = mono
        self._input_tx: MailboxSender[AudioFrame | Flush]
        self._input: MailboxReceiver[AudioFrame | Flush]
        self._input_tx, self._input = open_mailbox(input_capacity, "drop_oldest")
        self._event_tx: MailboxSender[E]
        self._event_rx: MailboxReceiver[E]
        self._event_tx, self._event_rx = open_mailbox(event_capacity)
        self._pushed_rate = 0
        self._pushed_channels = 0
        self._resampler: Any = None  # voxtrio.audio.resample.AudioResampler, built on need
        self._frames_pushed = 0
        self._warned_drop = False
        self._input_ended = False
        self._closed = False
        self._started = False
        self._scope: trio.CancelScope | None = None
        self._done = trio.Event()
        self._error: BaseException | None = None
        self._attempts = 0
        self._retries = 0
        self._started_at = 0.0
        self._leftover: list[AudioFrame | Flush] = []
        self._nursery_cm: Any = None

    # -- input (sync, never blocks) ------------------------------------------------

    def push_frame(self, frame: AudioFrame) -> None:
        """Queue `frame` for the engine (resampled/down-mixed as the engine needs)."""
        self._check_input_open()
        if self._pushed_rate and frame.sample_rate != self._pushed_rate:
            raise ValueError(
                "frames must share one sample rate: "
                f"got {self._pushed_rate} Hz, then {frame.sample_rate} Hz"
            )
        if self._pushed_channels and frame.num_channels != self._pushed_channels:
            raise ValueError(
                "frames must share one channel count: "
                f"got {self._pushed_channels}, then {frame.num_channels}"
            )
        self._pushed_rate = frame.sample_rate
        self._pushed_channels = frame.num_channels
        if self._mono and frame.num_channels > 1:
            frame = _downmix(frame)
        if self._needed_rate and frame.sample_rate != self._needed_rate:
            if self._resampler is None:
                from voxtrio.audio.resample import AudioResampler

                self._resampler = AudioResampler(
                    frame.sample_rate, self._needed_rate, frame.num_channels
                )
            for out in self._resampler.push(frame):
                self._put(out)
        else:
            self._put(frame)

    def flush(self) -> None:
        """End the current segment: the engine finalizes what it heard so far."""
        self._check_input_open()
        if self._resampler is not None:
            for out in self._resampler.flush():
                self._put(out)
        self._put(FLUSH)

    def end_input(self) -> None:
        """`flush()`, then accept no more input; iteration ends once the engine is done."""
        self.flush()
        self._input_ended = True
        self._input_tx.close()

    # -- lifecycle -----------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run the engine task here (for `await nursery.start(stream.run)`).

        Returns when the engine is done or the stream is closed; never raises the
        engine's failure (that comes out of the iterator).
        """
        if self._started:
            raise RuntimeError(f"{self._name()} was already started; start a stream once")
        self._started = True
        self._started_at = trio.current_time()
        try:
            with trio.CancelScope() as scope:
                self._scope = scope
                if self._closed:
                    scope.cancel()
                task_status.started()
                await self._main()
        finally:
            self._event_tx.close()
            self._done.set()

    async def aclose(self) -> None:
        """Stop the engine at once and discard pending events (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._input_ended = True
        self._input_tx.close()
        # Keep what the engine never read, for callers that replay it elsewhere.
        while True:
            try:
                self._leftover.append(self._input.receive_nowait())
            except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
                break
        if self._resampler is not None:
            self._leftover.extend(self._resampler.flush())  # the filter's tail, if any
        self._input.close()
        if self._scope is not None:
            self._scope.cancel()
        self._event_rx.close()
        if self._started:
            await self._done.wait()
        else:
            await trio.lowlevel.checkpoint()

    async def __aenter__(self: S) -> S:
        cm = trio.open_nursery()
        nursery = await cm.__aenter__()
        try:
            await nursery.start(self.run)
        except BaseException:
            if not await cm.__aexit__(*sys.exc_info()):
                raise
        self._nursery_cm = cm
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        cm, self._nursery_cm = self._nursery_cm, None
        try:
            await self.aclose()
        finally:
            if cm is not None:
                # The engine task never raises (its failure goes to the iterator), so the
                # nursery has nothing to add: keep the body's exception as it is instead
                # of letting the nursery wrap it in an ExceptionGroup.
                await cm.__aexit__(None, None, None)
        return None

    # -- output --------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[E]:
        return self

    async def __anext__(self) -> E:
        if not self._started and not self._closed:
            raise RuntimeError(
                f"{self._name()} is not running: use `async with engine.stream() as s:` "
                "or `await nursery.start(s.run)` before iterating"
            )
        try:
            return await self._event_rx.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError):
            if self._error is not None and not self._closed:
                error, self._error = self._error, None
                raise error from None
            raise StopAsyncIteration from None

    # -- introspection -------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True after `aclose()`."""
        return self._closed

    @property
    def input_ended(self) -> bool:
        """True after `end_input()` or `aclose()`: `push_frame` would raise."""
        return self._input_ended

    @property
    def accepting_input(self) -> bool:
        """True while `push_frame` will be accepted (and the engine has not failed)."""
        return not self._input_ended and not self._done.is_set()

    @property
    def dropped_frames(self) -> int:
        """Input items dropped because the engine fell `input_capacity` items behind."""
        return self._input_tx.statistics().dropped

    @property
    def start_time(self) -> float:
        """trio time when the engine task started (0.0 before)."""
        return self._started_at

    def statistics(self) -> StreamStatistics:
        stats = self._input_tx.statistics()
        return StreamStatistics(
            frames_pushed=self._frames_pushed,
            frames_dropped=stats.dropped,
            input_buffered=stats.buffered,
            input_capacity=stats.capacity,
            attempts=self._attempts,
        )

    def replay_frame(self, frame: AudioFrame) -> None:
        """Push a frame taken with `take_pending_input()` from an earlier stream of the
        same engine. It is already at the engine's rate, so it skips the rate check and
        the resampler (and does not fix the stream's input rate)."""
        self._check_input_open()
        if self._needed_rate and frame.sample_rate != self._needed_rate:
            raise ValueError(
                f"replayed frames must be at the engine's rate: got {frame.sample_rate} Hz, "
                f"expected {self._needed_rate} Hz"
            )
        self._put(frame)

    def take_pending_input(self) -> list[AudioFrame]:
        """After `aclose()`: the frames the engine never read, oldest first.

        An owner that restarts a failed stream replays them into the next one with
        `replay_frame`, so audio accepted by the old stream is not lost (its resampler's
        tail included). The frames are as the engine would have read them: down-mixed
        and resampled. Each call returns them once.
        """
        pending = [item for item in self._leftover if isinstance(item, AudioFrame)]
        self._leftover = []
        return pending

    # -- for subclasses --------------------------------------------------------------

    async def _run(self) -> None:
        raise NotImplementedError  # abstract

    async def _send_event(self, event: E) -> None:
        """Hand `event` to the consumer (waits while the consumer is `event_capacity` behind)."""
        try:
            await self._event_tx.send(event)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            # Only aclose() closes the consumer's end, and it cancels this task too:
            # wait for that cancellation instead of failing the engine.
            await trio.sleep_forever()

    def _reset_retries(self) -> None:
        """Call when the engine made progress: the retry budget starts over."""
        self._retries = 0

    def _label(self) -> str:
        return self._name()

    async def _main(self) -> None:
        """Run `_run()`, retrying retryable `APIError`s up to `max_retry` times.

        The budget is per stream (reset by `_reset_retries`, which STT streams call on
        each final transcript); the waits follow `APIConnectOptions.interval_for_retry`.
        """
        while True:
            self._attempts += 1
            try:
                await self._run()
                return
            except Exception as raised:
                exc = unwrap_error(raised)
                if not isinstance(exc, APIError):  # an engine bug: surface it, never retry
                    self._fail(exc)
                    return
                opts = self._conn_options
                if not exc.retryable or self._retries >= opts.max_retry:
                    if exc.retryable and opts.max_retry:
                        exc.add_note(f"gave up after {self._retries + 1} attempts")
                    self._fail(exc)
                    return
                delay = opts.interval_for_retry(self._retries)
                self._retries += 1
                logger.warning(
                    "%s failed (%s); retry %d of %d in %.2f s",
                    self._label(), exc, self._retries, opts.max_retry, delay,
                )
                await trio.sleep(delay)

    def _fail(self, exc: BaseException) -> None:
        self._error = exc
        logger.debug("%s failed: %r", self._label(), exc)

    # -- private -------------------------------------------------------------------

    def _put(self, item: AudioFrame | Flush) -> None:
        if isinstance(item, AudioFrame):
            self._frames_pushed += 1
        try:
            self._input_tx.send_nowait(item)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise RuntimeError(f"{self._name()} is closed") from None
        # statistics() builds an object: look at it every 64 pushes, not on each one.
        if (
            not self._warned_drop
            and not self._frames_pushed & 63
            and self._input_tx.statistics().dropped
        ):
            self._warned_drop = True
            logger.warning(
                "%s: the engine is %d items behind; dropping the oldest audio",
                self._label(), self._input_tx.statistics().capacity,
            )

    def _check_input_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"{self._name()} is closed")
        if self._input_ended:
            raise RuntimeError(f"{self._name()} input ended: end_input() was called")

    def _name(self) -> str:
        cls = type(self)
        return f"{cls.__module__}.{cls.__qualname__}"


def _downmix(frame: AudioFrame) -> AudioFrame:
    mono = frame.data.astype(np.int32).mean(axis=1).astype(np.int16)
    return AudioFrame.from_array(mono, frame.sample_rate, 1, frame.pts)
