"""The TTS actor: speech requests in, `SynthesizedAudio` out, one synthesis at a time.

    out_tx, out_rx = open_mailbox(64)
    tts_ref = await spawn(nursery, TTSActor(EspeakTTS(), out_tx), name="tts")
    tts_ref.tell_nowait(Synthesize("speech_1", "Hello there!"))
    # or streamed text (e.g. LLM deltas):
    tts_ref.tell_nowait(SynthesizeText("speech_2", "Sure, I can"))
    tts_ref.tell_nowait(SynthesizeText("speech_2", " help. What time?"))
    tts_ref.tell_nowait(EndOfText("speech_2"))
    tts_ref.tell_control_nowait(CancelSynthesis("speech_2"))      # barge-in: stop now

Contract:
- Requests are served in order, one `speech_id` at a time. `Synthesize` speaks a whole
  text (`tts.synthesize`); `SynthesizeText` deltas are spoken sentence by sentence
  (`tts.stream`) until `EndOfText` for that `speech_id`. Deltas of another speech that
  arrive meanwhile wait (up to `max_waiting` messages) until the current one ends.
- Output, in order per speech: `SynthesizedAudio` items (`speech_id` set; the last one
  `is_final` with an empty frame), then `SynthesisDone(speech_id, cancelled, error)`.
- `CancelSynthesis(speech_id)` (control, so it overtakes queued data) stops that
  synthesis at once: no further audio of it is sent, `SynthesisDone(cancelled=True)`
  follows, and queued requests of that speech are discarded on sight. Audio already in
  `output` stays there: consumers drop it by `speech_id` (generation). With no
  `speech_id` it cancels whatever is being synthesized now.
- A failed synthesis reports `EngineError(recoverable=True)` and `SynthesisDone(error=...)`
  and the actor carries on with the next request. `TTSMetrics` go to `metrics`.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import attrs
import trio

from voxtrio.actors.engine_messages import EngineError, MetricsPublisher
from voxtrio.core.actor import Actor, ActorContext, Stop
from voxtrio.core.mailbox import MailboxSender
from voxtrio.engines.errors import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions, unwrap_error
from voxtrio.engines.metrics import AgentMetrics
from voxtrio.engines.tts import TTS, SynthesizedAudio, SynthesizeStream

__all__ = [
    "CancelSynthesis",
    "EndOfText",
    "SynthesisDone",
    "Synthesize",
    "SynthesizeText",
    "TTSActor",
    "TTSOutput",
]


@attrs.frozen(slots=True)
class Synthesize:
    """Data: speak `text` as the reply `speech_id`."""

    speech_id: str
    text: str
    turn_id: str | None = None


@attrs.frozen(slots=True)
class SynthesizeText:
    """Data: one text delta of the streamed reply `speech_id`."""

    speech_id: str
    text: str
    turn_id: str | None = None


@attrs.frozen(slots=True)
class EndOfText:
    """Data: the streamed reply `speech_id` has no more text."""

    speech_id: str


@attrs.frozen(slots=True)
class CancelSynthesis:
    """Control: stop synthesizing `speech_id` now (None: whatever is in progress)."""

    speech_id: str | None = None


@attrs.frozen(slots=True, kw_only=True)
class SynthesisDone:
    """Output: the synthesis of `speech_id` ended (normally, cancelled, or failed)."""

    speech_id: str
    cancelled: bool = False
    error: BaseException | None = None
    audio_duration: float = 0.0


TTSOutput = SynthesizedAudio | SynthesisDone | EngineError
_Request = Synthesize | SynthesizeText | EndOfText


class TTSActor(Actor):
    """Serves speech requests one at a time, cancellable at once (module docstring)."""

    def __init__(
        self,
        tts: TTS,
        output: MailboxSender[TTSOutput],
        *,
        metrics: MailboxSender[AgentMetrics] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        max_waiting: int = 256,
        remember_cancelled: int = 64,
    ) -> None:
        self.tts = tts
        self.output = output
        self.conn_options = conn_options
        self.max_waiting = max_waiting
        self.metrics = MetricsPublisher(metrics, "tts")
        self._cancelled: deque[str] = deque(maxlen=remember_cancelled)
        self._current: tuple[str, trio.CancelScope] | None = None
        self._waiting: deque[_Request] = deque()

    async def run(self, ctx: ActorContext) -> None:
        self.tts.on("metrics_collected", self.metrics)
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._serve_requests, ctx)
                ctx.started()
                # Control is read by its own task so a cancel never waits behind audio.
                async for msg in ctx.control:
                    if isinstance(msg, Stop):
                        break
                    if isinstance(msg, CancelSynthesis):
                        self._cancel(msg.speech_id)
                    else:
                        ctx.log.warning("TTSActor ignores control message %r", msg)
                nursery.cancel_scope.cancel()
        finally:
            self.tts.off("metrics_collected", self.metrics)

    def _cancel(self, speech_id: str | None) -> None:
        if speech_id is None and self._current is not None:
            speech_id = self._current[0]
        if speech_id is not None and speech_id not in self._cancelled:
            self._cancelled.append(speech_id)
        if self._current is not None and speech_id in (None, self._current[0]):
            self._current[1].cancel()

    async def _next_request(self, ctx: ActorContext) -> _Request | None:
        if self._waiting:
            return self._waiting.popleft()
        try:
            msg: Any = await ctx.inbox.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError):
            return None
        return msg  # type: ignore[no-any-return]

    async def _serve_requests(self, ctx: ActorContext) -> None:
        while True:
            msg = await self._next_request(ctx)
            if msg is None:
                return
            if not isinstance(msg, Synthesize | SynthesizeText | EndOfText):
                ctx.log.warning("TTSActor ignores %r", msg)
                continue
            if msg.speech_id in self._cancelled:
                if isinstance(msg, Synthesize):
                    await self.output.send(SynthesisDone(speech_id=msg.speech_id, cancelled=True))
                continue
            if isinstance(msg, EndOfText):
                continue  # end of a speech that never had text (or was already spoken)
            await self._speak(ctx, msg)

    async def _speak(self, ctx: ActorContext, first: Synthesize | SynthesizeText) -> None:
        speech_id = first.speech_id
        produced = 0.0
        error: BaseException | None = None
        with trio.CancelScope() as scope:
            self._current = (speech_id, scope)
            try:
                if isinstance(first, Synthesize):
                    async with self.tts.synthesize(
                        first.text,
                        conn_options=self.conn_options,
                        speech_id=speech_id,
                        turn_id=first.turn_id,
                    ) as chunked:
                        async for audio in chunked:
                            produced += audio.frame.duration
                            await self.output.send(audio)
                else:
                    async with self.tts.stream(
                        conn_options=self.conn_options, speech_id=speech_id, turn_id=first.turn_id
                    ) as stream, trio.open_nursery() as nursery:
                        stream.push_text(first.text)
                        nursery.start_soon(self._feed_text, ctx, stream, speech_id)
                        async for audio in stream:
                            produced += audio.frame.duration
                            await self.output.send(audio)
            except Exception as exc:
                error = unwrap_error(exc)
            finally:
                self._current = None
        cancelled = scope.cancelled_caught
        if error is not None:
            ctx.log.warning("synthesis of %s failed: %s", speech_id, error)
            await self.output.send(
                EngineError(
                    source="tts",
                    error=error,
                    recoverable=True,
                    at=trio.current_time(),
                    speech_id=speech_id,
                )
            )
        await self.output.send(
            SynthesisDone(
                speech_id=speech_id, cancelled=cancelled, error=error, audio_duration=produced
            )
        )

    async def _feed_text(self, ctx: ActorContext, stream: SynthesizeStream, speech_id: str) -> None:
        """Pass the deltas of `speech_id` on; park other speeches' requests for later."""
        parked, self._waiting = self._waiting, deque()
        while parked:  # deltas of this speech parked behind an earlier one come first
            item = parked.popleft()
            if isinstance(item, SynthesizeText) and item.speech_id == speech_id:
                await stream.send_text(item.text)
            elif isinstance(item, EndOfText) and item.speech_id == speech_id:
                stream.end_input()
                self._waiting.extend(parked)
                return
            else:
                self._waiting.append(item)
        while True:
            try:
                msg: Any = await ctx.inbox.receive()
            except (trio.EndOfChannel, trio.ClosedResourceError):
                stream.end_input()
                return
            if isinstance(msg, SynthesizeText) and msg.speech_id == speech_id:
                await stream.send_text(msg.text)
            elif isinstance(msg, EndOfText) and msg.speech_id == speech_id:
                stream.end_input()
                return
            else:
                if len(self._waiting) >= self.max_waiting:
                    raise RuntimeError(
                        f"{self.max_waiting} requests are waiting behind streamed speech "
                        f"{speech_id!r}: send EndOfText({speech_id!r}) when its text is done"
                    )
                self._waiting.append(msg)
