"""The VAD actor: audio frames in, `VADEvent`s out.

    events_tx, events_rx = open_mailbox(256, overflow="drop_oldest")
    vad_ref = await spawn(nursery, VADActor(SileroVAD(), events_tx), name="vad")
    vad_ref.tell_nowait(frame)                       # data: AudioFrame
    async for event in events_rx: ...                # START_OF_SPEECH / END_OF_SPEECH / ...

Contract: the actor owns one `VADStream` of its engine for its whole life. Data
messages: `AudioFrame` (pushed to the stream) and `EndOfAudio` (the stream finishes; the
actor returns after the last event). Control: `FlushAudio` (hard segment boundary: a
speech in progress ends now), `Stop`. Events go to `output` with `await send`: the
output's overflow policy decides what a slow consumer costs (drop_oldest is usual).
With `inference_events=False` only START/END_OF_SPEECH are forwarded (INFERENCE_DONE
comes ~31 times a second with silero). `VADMetrics` go to `metrics` (see
`engine_messages`). A VAD failure is raised (the supervisor restarts the actor): a VAD
is local computation, so there is nothing to reconnect.
"""

from __future__ import annotations

import trio

from voxtrio.actors.engine_messages import EndOfAudio, FlushAudio, MetricsPublisher
from voxtrio.audio.frame import AudioFrame
from voxtrio.core.actor import Actor, ActorContext
from voxtrio.core.mailbox import MailboxSender
from voxtrio.engines.metrics import AgentMetrics
from voxtrio.engines.vad import VAD, VADEvent, VADStream

__all__ = ["VADActor"]


class VADActor(Actor):
    """Segments the audio it is told into VAD events (see the module docstring)."""

    def __init__(
        self,
        vad: VAD,
        output: MailboxSender[VADEvent],
        *,
        metrics: MailboxSender[AgentMetrics] | None = None,
        inference_events: bool = True,
    ) -> None:
        self.vad = vad
        self.output = output
        self.inference_events = inference_events
        self.metrics = MetricsPublisher(metrics, "vad")
        self.frames_received = 0

    async def run(self, ctx: ActorContext) -> None:
        self.vad.on("metrics_collected", self.metrics)
        try:
            stream = self.vad.stream(inference_events=self.inference_events)
            async with stream, trio.open_nursery() as nursery:
                forwarder_done = trio.Event()
                nursery.start_soon(self._forward, stream, forwarder_done)
                ctx.started()
                async for msg in ctx.messages():
                    if isinstance(msg, AudioFrame):
                        self.frames_received += 1
                        stream.push_frame(msg)
                    elif isinstance(msg, FlushAudio):
                        stream.flush()
                    elif isinstance(msg, EndOfAudio):
                        stream.end_input()
                        await forwarder_done.wait()
                        break
                    else:
                        ctx.log.warning("VADActor ignores %r", msg)
                nursery.cancel_scope.cancel()
        finally:
            self.vad.off("metrics_collected", self.metrics)

    async def _forward(self, stream: VADStream, done: trio.Event) -> None:
        try:
            async for event in stream:
                await self.output.send(event)
        finally:
            done.set()
