"""The STT actor: audio frames in, `SpeechEvent`s out, across engine failures.

    out_tx, out_rx = open_mailbox(64)
    stt_ref = await spawn(nursery, STTActor(PocketsphinxSTT(), out_tx), name="stt")
    stt_ref.tell_nowait(frame)
    async for item in out_rx:              # SpeechEvent, or EngineError on a failure
        ...

Contract:
- The actor owns one `RecognizeStream` at a time. Data: `AudioFrame`, `EndOfAudio` (the
  stream finishes; the actor returns after its last event). Control: `FlushAudio`
  (segment boundary), `Stop`.
- Inside the stream, retryable errors are retried per `conn_options` first. When the
  stream still fails (retries exhausted, a non-retryable error, a crashed worker), the
  actor sends `EngineError(recoverable=True)` to `output`, waits `restart_delay`, and
  opens a new stream. No accepted frame is lost on the way: the frames the old stream
  never read (`take_pending_input`) and the frames told while no stream is up go to a
  replay buffer of `replay_capacity` frames (oldest dropped beyond that, counted in
  `replay_dropped`), which is pushed into the new stream first, in order. Audio the
  old engine had already consumed but not yet transcribed is gone with it.
- A stream that ends by itself before `EndOfAudio` is reopened the same way.
- More than `max_restarts` restarts within `restart_window` seconds: the actor sends
  `EngineError(recoverable=False)` and raises the error (its supervisor decides).
- `STTMetrics` go to `metrics` (see `engine_messages`). Output is sent with `await send`.
"""

from __future__ import annotations

from collections import deque

import trio

from voxtrio.actors.engine_messages import EndOfAudio, EngineError, FlushAudio, MetricsPublisher
from voxtrio.audio.frame import AudioFrame
from voxtrio.core.actor import Actor, ActorContext
from voxtrio.core.mailbox import MailboxSender
from voxtrio.engines.errors import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions, unwrap_error
from voxtrio.engines.metrics import AgentMetrics
from voxtrio.engines.stt import STT, RecognizeStream, SpeechEvent

__all__ = ["STTActor", "STTOutput"]

STTOutput = SpeechEvent | EngineError


class _Prepared:
    """A frame taken back from a failed stream: already at the engine's rate."""

    __slots__ = ("frame",)

    def __init__(self, frame: AudioFrame) -> None:
        self.frame = frame


class STTActor(Actor):
    """Keeps a recognition stream running (see the module docstring)."""

    def __init__(
        self,
        stt: STT,
        output: MailboxSender[STTOutput],
        *,
        metrics: MailboxSender[AgentMetrics] | None = None,
        language: str | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        replay_capacity: int = 500,
        restart_delay: float = 0.5,
        max_restarts: int = 5,
        restart_window: float = 60.0,
    ) -> None:
        if replay_capacity < 1:
            raise ValueError(f"replay_capacity must be at least 1 frame, got {replay_capacity}")
        self.stt = stt
        self.output = output
        self.language = language
        self.conn_options = conn_options
        self.replay_capacity = replay_capacity
        self.restart_delay = restart_delay
        self.max_restarts = max_restarts
        self.restart_window = restart_window
        self.metrics = MetricsPublisher(metrics, "stt")
        self.restarts = 0
        self.replay_dropped = 0
        self._replay: deque[AudioFrame | _Prepared | FlushAudio] = deque()
        self._stream: RecognizeStream | None = None
        self._restart_times: deque[float] = deque()
        self._input_ended = False

    async def run(self, ctx: ActorContext) -> None:
        self.stt.on("metrics_collected", self.metrics)
        try:
            async with trio.open_nursery() as nursery:
                done = trio.Event()
                await nursery.start(self._keep_stream, ctx, done)
                async for msg in ctx.messages():
                    if isinstance(msg, AudioFrame):
                        self._push(msg)
                    elif isinstance(msg, FlushAudio):
                        self._flush()
                    elif isinstance(msg, EndOfAudio):
                        self._end_input()
                        await done.wait()
                        break
                    else:
                        ctx.log.warning("STTActor ignores %r", msg)
                nursery.cancel_scope.cancel()
        finally:
            self.stt.off("metrics_collected", self.metrics)

    @property
    def buffered_frames(self) -> int:
        """Frames waiting in the replay buffer (while no stream is up)."""
        return sum(1 for item in self._replay if not isinstance(item, FlushAudio))

    # -- input side (the message loop) ---------------------------------------------

    def _push(self, frame: AudioFrame) -> None:
        stream = self._stream
        if stream is not None and stream.accepting_input:
            stream.push_frame(frame)
        else:
            self._buffer([frame])

    def _flush(self) -> None:
        stream = self._stream
        if stream is not None and stream.accepting_input:
            stream.flush()
        else:
            self._replay.append(FlushAudio())

    def _end_input(self) -> None:
        self._input_ended = True
        stream = self._stream
        if stream is not None and stream.accepting_input:
            stream.end_input()

    def _buffer(self, frames: list[AudioFrame]) -> None:
        self._replay.extend(frames)
        while len(self._replay) > self.replay_capacity:
            self._replay.popleft()
            self.replay_dropped += 1

    # -- the stream keeper ---------------------------------------------------------

    async def _keep_stream(
        self,
        ctx: ActorContext,
        done: trio.Event,
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        try:
            while True:
                error = await self._run_stream(ctx, task_status)
                task_status = trio.TASK_STATUS_IGNORED
                if error is None and self._input_ended:
                    return
                if error is None:
                    # The engine ended the stream by itself while audio keeps coming:
                    # reopen it (counted like a failure, so a stream that ends at once
                    # cannot spin).
                    error = RuntimeError(f"{self.stt.label} stream ended before its input")
                now = trio.current_time()
                self._restart_times.append(now)
                while self._restart_times and self._restart_times[0] < now - self.restart_window:
                    self._restart_times.popleft()
                if len(self._restart_times) > self.max_restarts:
                    await self.output.send(
                        EngineError(source="stt", error=error, recoverable=False, at=now)
                    )
                    raise error
                self.restarts += 1
                ctx.log.warning(
                    "STT stream failed (%s); restart %d in %.2f s, %d frames waiting",
                    error, self.restarts, self.restart_delay, self.buffered_frames,
                )
                await self.output.send(
                    EngineError(source="stt", error=error, recoverable=True, at=now)
                )
                await trio.sleep(self.restart_delay)
        finally:
            done.set()

    async def _run_stream(
        self, ctx: ActorContext, task_status: trio.TaskStatus[None]
    ) -> BaseException | None:
        """Run one stream to its end; return its failure (None: ended normally)."""
        stream = self.stt.stream(language=self.language, conn_options=self.conn_options)
        error: BaseException | None = None
        async with stream:
            while self._replay:  # replay first, in order, before any new frame
                item = self._replay.popleft()
                if isinstance(item, FlushAudio):
                    stream.flush()
                elif isinstance(item, _Prepared):
                    stream.replay_frame(item.frame)
                else:
                    stream.push_frame(item)
            if self._input_ended:
                stream.end_input()
            self._stream = stream
            task_status.started()
            try:
                async for event in stream:
                    await self.output.send(event)
            except Exception as exc:
                # From here on the message loop buffers: this stream takes no more audio.
                self._stream = None
                error = unwrap_error(exc)
            self._stream = None
        if error is not None:
            # Frames the failed stream accepted but never read go first, before newer ones.
            pending: list[AudioFrame | _Prepared | FlushAudio] = [
                _Prepared(frame) for frame in stream.take_pending_input()
            ]
            self._replay = deque(pending + list(self._replay))
            while len(self._replay) > self.replay_capacity:
                self._replay.popleft()
                self.replay_dropped += 1
        return error
