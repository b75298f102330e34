"""Engine actors (VAD, STT, TTS) with fake engines on virtual time.

Rules: `autojump_clock` everywhere; frames are told at microphone pace (20 ms of trio
time per 20 ms frame) unless a test says otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import trio

from voxtrio.actors.engine_messages import EndOfAudio, EngineError, FlushAudio
from voxtrio.actors.stt import STTActor
from voxtrio.actors.tts import (
    CancelSynthesis,
    EndOfText,
    SynthesisDone,
    Synthesize,
    SynthesizeText,
    TTSActor,
)
from voxtrio.actors.vad import VADActor
from voxtrio.audio.frame import AudioFrame
from voxtrio.core.actor import spawn
from voxtrio.core.mailbox import MailboxReceiver, open_mailbox
from voxtrio.engines.errors import APIConnectionError, APIConnectOptions
from voxtrio.engines.fake import FakeSpeech, FakeSTT, FakeTTS, FakeTTSResponse, FakeVAD, tone
from voxtrio.engines.metrics import STTMetrics, TTSMetrics, VADMetrics
from voxtrio.engines.stt import SpeechEvent, SpeechEventType
from voxtrio.engines.tts import SynthesizedAudio
from voxtrio.engines.vad import VADEventType

RATE = 16_000
NO_RETRY = APIConnectOptions(max_retry=0)


def mic_frames(seconds: float, *, speech: tuple[float, float] | None = None) -> list[AudioFrame]:
    n = round(seconds * 50)
    out = []
    for i in range(n):
        t = i * 0.02
        loud = speech is not None and speech[0] <= t < speech[1]
        data = tone(300, 320, RATE, offset=i * 320) if loud else np.zeros(320, np.int16)
        out.append(AudioFrame.from_array(data, RATE, pts=t))
    return out


def drain(rx: MailboxReceiver[Any]) -> list[Any]:
    items = []
    while True:
        try:
            items.append(rx.receive_nowait())
        except (trio.WouldBlock, trio.EndOfChannel):
            return items


# -- VAD ------------------------------------------------------------------------------


async def test_vad_actor_emits_speech_boundaries_and_metrics(
    autojump_clock: trio.abc.Clock,
) -> None:
    out_tx, out_rx = open_mailbox(512)
    metrics_tx, metrics_rx = open_mailbox(64, overflow="drop_oldest")
    actor = VADActor(FakeVAD(), out_tx, metrics=metrics_tx, inference_events=False)
    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, actor, name="vad")
        for frame in mic_frames(3.0, speech=(1.0, 2.0)):
            await ref.tell(frame)
            await trio.sleep(0.02)
        await ref.tell(EndOfAudio())
        await ref.wait_exit()
    events = drain(out_rx)
    assert [e.type for e in events] == [VADEventType.START_OF_SPEECH, VADEventType.END_OF_SPEECH]
    assert events[0].timestamp == pytest.approx(1.06, abs=0.021)
    metrics = drain(metrics_rx)
    assert len(metrics) == 3 and all(isinstance(m, VADMetrics) for m in metrics)


async def test_vad_actor_flush_control_ends_speech(autojump_clock: trio.abc.Clock) -> None:
    out_tx, out_rx = open_mailbox(512)
    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, VADActor(FakeVAD(), out_tx, inference_events=False), name="v")
        for frame in mic_frames(0.5, speech=(0.0, 1.0)):
            await ref.tell(frame)
            await trio.sleep(0.02)
        await ref.tell_control(FlushAudio())
        with trio.fail_after(1):
            first = await out_rx.receive()
            second = await out_rx.receive()
        await ref.stop()
    assert (first.type, second.type) == (VADEventType.START_OF_SPEECH, VADEventType.END_OF_SPEECH)


# -- STT ------------------------------------------------------------------------------


async def test_stt_actor_restarts_stream_without_losing_frames(
    autojump_clock: trio.abc.Clock,
) -> None:
    stt = FakeSTT(
        # positions are per stream: the second stream starts at the replayed frame 10
        speeches=[FakeSpeech("after the restart", 0.5, 1.0, stt_delay=0.1)],
        errors=[APIConnectionError("worker died")],
        error_after=0.2,
    )
    out_tx, out_rx = open_mailbox(64)
    metrics_tx, metrics_rx = open_mailbox(64, overflow="drop_oldest")
    actor = STTActor(stt, out_tx, metrics=metrics_tx, conn_options=NO_RETRY, restart_delay=0.5)
    frames = mic_frames(2.0)
    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, actor, name="stt")
        for frame in frames:
            await ref.tell(frame)
            await trio.sleep(0.02)
        await ref.tell(EndOfAudio())
        await ref.wait_exit()
    outputs = drain(out_rx)
    errors = [o for o in outputs if isinstance(o, EngineError)]
    assert len(errors) == 1 and errors[0].recoverable
    assert isinstance(errors[0].error, APIConnectionError)
    finals = [o.text for o in outputs
              if isinstance(o, SpeechEvent) and o.type is SpeechEventType.FINAL_TRANSCRIPT]
    assert finals == ["after the restart"]
    assert stt.streams_opened == 2 and actor.restarts == 1
    # every frame told reached the engine exactly once, in order
    assert [f.pts for f in stt.frames_received] == [f.pts for f in frames]
    assert actor.replay_dropped == 0
    assert any(isinstance(m, STTMetrics) for m in drain(metrics_rx))


async def test_stt_actor_replay_buffer_is_bounded(autojump_clock: trio.abc.Clock) -> None:
    stt = FakeSTT(errors=[APIConnectionError("down")], error_after=0.02)
    out_tx, out_rx = open_mailbox(64)
    actor = STTActor(stt, out_tx, conn_options=NO_RETRY, restart_delay=2.0, replay_capacity=50)
    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, actor, name="stt")
        for frame in mic_frames(1.5):
            await ref.tell(frame)
            await trio.sleep(0.02)
        await ref.tell(EndOfAudio())
        await ref.wait_exit()
    # 1.5 s = 75 frames; the first was consumed by the failing stream; during the 2 s
    # outage the remaining 74 were buffered in a 50-frame buffer: the 24 oldest dropped
    assert actor.replay_dropped == 24
    assert len(stt.frames_received) == 1 + 50
    assert stt.frames_received[-1].pts == pytest.approx(1.48)


async def test_stt_actor_gives_up_after_max_restarts(autojump_clock: trio.abc.Clock) -> None:
    stt = FakeSTT(errors=[APIConnectionError("down")] * 10)
    out_tx, out_rx = open_mailbox(64)
    actor = STTActor(stt, out_tx, conn_options=NO_RETRY, max_restarts=2, restart_delay=0.1)
    with pytest.raises(BaseExceptionGroup) as info:
        async with trio.open_nursery() as nursery:
            await spawn(nursery, actor, name="stt")
            await trio.sleep(10)
    assert info.group_contains(APIConnectionError)
    errors = [o for o in drain(out_rx) if isinstance(o, EngineError)]
    assert [e.recoverable for e in errors] == [True, True, False]


# -- TTS ------------------------------------------------------------------------------


async def test_tts_actor_synthesizes_in_order(autojump_clock: trio.abc.Clock) -> None:
    tts = FakeTTS(seconds_per_char=0.02)
    out_tx, out_rx = open_mailbox(256)
    metrics_tx, metrics_rx = open_mailbox(64)
    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, TTSActor(tts, out_tx, metrics=metrics_tx), name="tts")
        await ref.tell(Synthesize("s1", "First reply."))
        await ref.tell(Synthesize("s2", "Second reply."))
        done = []
        async for item in out_rx:
            if isinstance(item, SynthesisDone):
                done.append(item)
                if len(done) == 2:
                    break
        await ref.stop()
    assert [(d.speech_id, d.cancelled, d.error) for d in done] == [("s1", False, None),
                                                                    ("s2", False, None)]
    assert done[0].audio_duration == pytest.approx(0.02 * len("First reply."))
    metrics = drain(metrics_rx)
    assert [m.speech_id for m in metrics] == ["s1", "s2"]
    assert all(isinstance(m, TTSMetrics) for m in metrics)


async def test_tts_actor_cancel_stops_synthesis_at_once(autojump_clock: trio.abc.Clock) -> None:
    tts = FakeTTS(ttfb=0.1, audio_duration=10.0, chunk_duration=0.1, realtime_factor=1.0,
                  responses={"Next.": FakeTTSResponse(audio_duration=0.1)})
    out_tx, out_rx = open_mailbox(8)
    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, TTSActor(tts, out_tx), name="tts")
        await ref.tell(Synthesize("long", "a very long answer"))
        await ref.tell(Synthesize("long", "queued part of the same reply"))
        await ref.tell(Synthesize("next", "Next."))
        got: list[Any] = []
        while len(got) < 3:
            got.append(await out_rx.receive())
        cancelled_at = trio.current_time()
        await ref.tell_control(CancelSynthesis("long"))
        rest: list[Any] = []
        done_at: list[float] = []
        async for item in out_rx:
            rest.append(item)
            if isinstance(item, SynthesisDone):
                done_at.append(trio.current_time())
            if isinstance(item, SynthesisDone) and item.speech_id == "next":
                break
        await ref.stop()
    dones = [i for i in rest if isinstance(i, SynthesisDone)]
    assert [(d.speech_id, d.cancelled) for d in dones] == [("long", True), ("long", True),
                                                           ("next", False)]
    long_audio = [i for i in got + rest if isinstance(i, SynthesizedAudio) and i.speech_id == "long"]
    # at most what was already produced when the cancel came (one chunk may be in flight)
    assert sum(a.frame.duration for a in long_audio) <= 0.3 + 1e-9
    assert dones[0].audio_duration <= 0.3 + 1e-9
    assert tts.synthesized == ["a very long answer", "Next."]  # queued request discarded
    assert done_at[0] == cancelled_at  # the cancel took no (virtual) time at all


async def test_tts_actor_streamed_text_waits_for_end(autojump_clock: trio.abc.Clock) -> None:
    tts = FakeTTS(seconds_per_char=0.01)
    out_tx, out_rx = open_mailbox(256)
    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, TTSActor(tts, out_tx), name="tts")
        await ref.tell(SynthesizeText("s1", "Sure, I can help with"))
        await ref.tell(Synthesize("s2", "Another reply."))  # must wait for s1's end
        await ref.tell(SynthesizeText("s1", " that today. What time"))
        await trio.sleep(1.0)
        await ref.tell(SynthesizeText("s1", " works for you?"))
        await ref.tell(EndOfText("s1"))
        done = []
        async for item in out_rx:
            if isinstance(item, SynthesisDone):
                done.append(item.speech_id)
                if len(done) == 2:
                    break
        await ref.stop()
    assert done == ["s1", "s2"]
    assert tts.synthesized == ["Sure, I can help with that today.", "What time works for you?",
                               "Another reply."]


async def test_tts_actor_failure_is_reported_and_actor_continues(
    autojump_clock: trio.abc.Clock,
) -> None:
    tts = FakeTTS(errors=[APIConnectionError("espeak crashed")], audio_duration=0.2)
    out_tx, out_rx = open_mailbox(64)
    actor = TTSActor(tts, out_tx, conn_options=NO_RETRY)
    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, actor, name="tts")
        await ref.tell(Synthesize("s1", "fails"))
        await ref.tell(Synthesize("s2", "works"))
        items: list[Any] = []
        async for item in out_rx:
            items.append(item)
            if isinstance(item, SynthesisDone) and item.speech_id == "s2":
                break
        await ref.stop()
    errors = [i for i in items if isinstance(i, EngineError)]
    assert len(errors) == 1 and errors[0].speech_id == "s1" and errors[0].recoverable
    dones = [i for i in items if isinstance(i, SynthesisDone)]
    assert dones[0].error is errors[0].error and dones[1].error is None


async def test_stt_actor_reopens_a_stream_that_ended_by_itself(
    autojump_clock: trio.abc.Clock,
) -> None:
    from voxtrio.engines.fake import FakeSTTStream

    class QuittingStream(FakeSTTStream):
        async def _run(self) -> None:
            count = 0
            async for _ in self._input:
                count += 1
                if count == 10:
                    return  # e.g. the server closed the session

    class QuittingSTT(FakeSTT):
        def stream(self, *, language: str | None = None,
                   conn_options: APIConnectOptions = NO_RETRY) -> FakeSTTStream:
            self.streams_opened += 1
            return QuittingStream(stt=self, conn_options=conn_options, language=language)

    stt = QuittingSTT()
    out_tx, out_rx = open_mailbox(64)
    actor = STTActor(stt, out_tx, restart_delay=0.1)
    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, actor, name="stt")
        for frame in mic_frames(1.0):
            await ref.tell(frame)
            await trio.sleep(0.02)
        await ref.tell(EndOfAudio())
        with trio.fail_after(5):
            await ref.wait_exit()
    assert stt.streams_opened >= 4
    assert all(isinstance(o, EngineError) and o.recoverable for o in drain(out_rx))


async def test_stt_actor_replays_frames_the_failed_stream_never_read(
    autojump_clock: trio.abc.Clock,
) -> None:
    # A burst of frames: most are still queued inside the stream when its engine fails.
    stt = FakeSTT(errors=[APIConnectionError("worker died")], error_after=0.2)
    out_tx, out_rx = open_mailbox(64)
    actor = STTActor(stt, out_tx, conn_options=NO_RETRY, restart_delay=0.5)
    frames = mic_frames(2.0)
    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, actor, name="stt", inbox_capacity=200)
        for frame in frames:
            ref.tell_nowait(frame)
        ref.tell_nowait(EndOfAudio())
        with trio.fail_after(5):
            await ref.wait_exit()
    assert actor.restarts == 1
    assert [f.pts for f in stt.frames_received] == [f.pts for f in frames]


async def test_stt_actor_replay_works_across_resampling(autojump_clock: trio.abc.Clock) -> None:
    # 48 kHz microphone, 16 kHz engine: frames taken back from the failed stream are
    # already resampled and must not trip the new stream's rate check.
    stt = FakeSTT(sample_rate=16_000, errors=[APIConnectionError("worker died")],
                  error_after=0.2)
    out_tx, out_rx = open_mailbox(64)
    actor = STTActor(stt, out_tx, conn_options=NO_RETRY, restart_delay=0.5)
    frames = [AudioFrame.from_array(tone(300, 960, 48_000, offset=i * 960), 48_000, pts=i * 0.02)
              for i in range(100)]
    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, actor, name="stt", inbox_capacity=200)
        for frame in frames[:50]:
            ref.tell_nowait(frame)
        await trio.sleep(0.1)  # the stream fails; these 48 kHz frames arrive meanwhile
        for frame in frames[50:]:
            ref.tell_nowait(frame)
        ref.tell_nowait(EndOfAudio())
        with trio.fail_after(5):
            await ref.wait_exit()
    assert actor.restarts == 1
    assert {f.sample_rate for f in stt.frames_received} == {16_000}
    received = sum(f.samples_per_channel for f in stt.frames_received)
    assert received == pytest.approx(2.0 * 16_000, abs=16 * 20)  # within 20 ms
