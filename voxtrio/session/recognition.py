"""The recognition actor: the microphone's frames into the VAD and the STT.

    recognition = RecognitionActor(frames, vad=vad, stt=stt, activity=activity_ref)

It reads the mic's drop-oldest frame mailbox, pushes every frame into a VAD stream and
an STT stream it owns, and tells the activity actor what they report (`VadSignal`,
`SttSignal`, stamped with the trio time they arrived). STT metrics go to the session's
metrics collector through the engine's `metrics_collected` event (the session
subscribes once).

At the VAD's end of speech the STT stream is flushed (`flush_stt_on_vad_end`), so a
final transcript comes as soon as the VAD is sure, not when the STT's own endpointer
(or the end of the input) decides.

If a stream fails after its own retries the actor raises, and the session supervisor
restarts it with fresh streams: the frame mailbox outlives the incarnation, so frames
that arrived meanwhile are still there to be read. When the mic's source ends, the
streams are told `end_input()`, their last events are forwarded, and the activity gets
`AudioInputEnded`.
"""

from __future__ import annotations

import logging

import trio

from voxtrio.audio.frame import AudioFrame
from voxtrio.core.actor import Actor, ActorContext, ActorRef
from voxtrio.core.mailbox import MailboxReceiver
from voxtrio.engines.stt import STT, RecognizeStream
from voxtrio.engines.vad import VAD, VADEventType, VADStream
from voxtrio.session.messages import AudioInputEnded, Crash, InjectedCrash, SttSignal, VadSignal

__all__ = ["RecognitionActor"]

logger = logging.getLogger("voxtrio.session.recognition")


class RecognitionActor(Actor):
    """See the module docstring."""

    def __init__(
        self,
        frames: MailboxReceiver[AudioFrame],
        *,
        vad: VAD | None,
        stt: STT,
        activity: ActorRef,
        language: str | None = None,
        flush_stt_on_vad_end: bool = True,
    ) -> None:
        self.frames = frames
        self.flush_stt_on_vad_end = flush_stt_on_vad_end
        self.vad = vad
        self.stt = stt
        self.activity = activity
        self.language = language

    async def run(self, ctx: ActorContext) -> None:
        async with trio.open_nursery() as nursery:
            stt_stream = self.stt.stream(language=self.language)
            await nursery.start(stt_stream.run)
            vad_stream: VADStream | None = None
            drained: list[trio.Event] = []
            if self.vad is not None:
                vad_stream = self.vad.stream()
                await nursery.start(vad_stream.run)
                vad_done = trio.Event()
                drained.append(vad_done)
                nursery.start_soon(self._forward_vad, vad_stream, stt_stream, vad_done)
            stt_done = trio.Event()
            drained.append(stt_done)
            nursery.start_soon(self._forward_stt, stt_stream, stt_done)
            nursery.start_soon(self._watch_control, ctx, nursery.cancel_scope)
            ctx.started()
            async for frame in self.frames:
                stt_stream.push_frame(frame)
                if vad_stream is not None:
                    vad_stream.push_frame(frame)
            # The source ended: let both streams finish what they heard (the VAD ends a
            # speech in progress, the STT sends its last final) before saying so.
            if vad_stream is not None:
                vad_stream.end_input()
            stt_stream.end_input()
            for done in drained:
                await done.wait()
            await self.activity.tell(AudioInputEnded(trio.current_time()))
            nursery.cancel_scope.cancel()

    async def _forward_vad(
        self, stream: VADStream, stt_stream: RecognizeStream, done: trio.Event
    ) -> None:
        async for event in stream:
            if (
                event.type is VADEventType.END_OF_SPEECH
                and self.flush_stt_on_vad_end
                and stt_stream.accepting_input
            ):
                # The VAD knows the utterance is over: have the STT finalize it now
                # instead of waiting for its own endpointer (or the end of input).
                stt_stream.flush()
            await self.activity.tell(VadSignal(event, trio.current_time()))
        done.set()

    async def _forward_stt(self, stream: RecognizeStream, done: trio.Event) -> None:
        async for event in stream:
            await self.activity.tell(SttSignal(event, trio.current_time()))
        done.set()

    async def _watch_control(self, ctx: ActorContext, scope: trio.CancelScope) -> None:
        async for msg in ctx.messages():  # ends at Stop
            if isinstance(msg, Crash):
                raise InjectedCrash(f"recognition: {msg.reason}")
        scope.cancel()
