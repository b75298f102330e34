"""Playout: paced output, interruption exact to the sample, queued segments, under-runs.

Rules: virtual time (`autojump_clock`) throughout; the sink is a `MemorySink` on trio's
clock (or a WAV file for the unpaced case). Audio is numbered: frame k of a segment holds
the value base + k in every sample, so a test can tell exactly which samples were heard;
silence is 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import trio

from voxtrio.actors.messages_audio import (
    PLAYBACK_EVENTS,
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
from voxtrio.actors.playout import Playout
from voxtrio.audio.frame import AudioFrame
from voxtrio.audio.sinks import MemorySink, WavFileSink
from voxtrio.audio.wav import read_wav
from voxtrio.core.actor import ActorRef, spawn
from voxtrio.core.emitter import EventEmitter
from voxtrio.core.mailbox import open_mailbox

RATE = 16_000
FRAME = 0.02
N = 320  # samples per 20 ms frame at 16 kHz
TOL = 0.0011  # the shared pacer wakes on a 1 ms grid


def frames(
    seconds: float, base: int = 1, *, rate: int = RATE, frame: float = FRAME
) -> list[AudioFrame]:
    n = round(rate * frame)
    count = round(seconds / frame)
    return [
        AudioFrame.from_array(np.full(n, base + k, np.int16), rate, pts=k * frame)
        for k in range(count)
    ]


class Harness:
    def __init__(self, nursery: trio.Nursery, sink: Any, **options: Any) -> None:
        self.nursery = nursery
        self.sink = sink
        self.emitter = EventEmitter()
        self.events: list[Any] = []
        for name in PLAYBACK_EVENTS:
            self.emitter.on(name, self.events.append)
        self.playout = Playout(sink, emitter=self.emitter, **options)
        self.ref: ActorRef

    async def start(self) -> Harness:
        self.ref = await spawn(self.nursery, self.playout, name="playout", inbox_capacity=512)
        return self

    def of(self, kind: type, speech_id: str | None = None) -> list[Any]:
        return [
            e
            for e in self.events
            if isinstance(e, kind) and (speech_id is None or e.speech_id == speech_id)
        ]

    def finished(self, speech_id: str) -> PlaybackFinished:
        (event,) = self.of(PlaybackFinished, speech_id)
        return event

    def heard_values(self) -> list[int]:
        return [int(f.data[0, 0]) for _, f in self.sink.heard]


async def test_interrupt_at_1_234_reports_exactly_what_the_sink_holds(
    autojump_clock: trio.testing.MockClock,
) -> None:
    sink = MemorySink(sample_rate=RATE)
    async with trio.open_nursery() as nursery:
        h = await Harness(nursery, sink).start()
        t0 = trio.current_time()
        h.ref.tell_nowait(PlaySegment("A", frames(3.0)))
        await trio.sleep_until(t0 + 1.234)
        h.ref.tell_control_nowait(Interrupt())
        await trio.sleep(1.0)
        stats = h.playout.statistics()
        nursery.cancel_scope.cancel()

    done = h.finished("A")
    assert done.interrupted
    # Exact to the sample: what the event reports is what reached the sink.
    assert done.played_samples == sink.num_samples == 62 * N  # frames due at 0 .. 1.22 s
    assert done.played_duration == sink.num_samples / RATE == pytest.approx(1.24)
    assert done.sample_rate == RATE
    assert np.array_equal(sink.samples()[:, 0], np.repeat(np.arange(1, 63), N))
    # Output stopped at once: nothing written after the interrupt, and the last frame
    # handed over ends within one frame period of it.
    last_write = sink.heard[-1][0] - t0
    assert last_write <= 1.234 and last_write + FRAME <= 1.234 + FRAME
    assert done.at - t0 == pytest.approx(1.234, abs=1e-9)  # reported without delay
    (started,) = h.of(PlaybackStarted, "A")
    assert started.at == pytest.approx(t0)
    assert stats.segments_interrupted == 1 and stats.samples_played == 62 * N


async def test_segment_queued_behind_an_interrupted_one_plays_normally(
    autojump_clock: trio.testing.MockClock,
) -> None:
    sink = MemorySink(sample_rate=RATE)
    async with trio.open_nursery() as nursery:
        h = await Harness(nursery, sink).start()
        t0 = trio.current_time()
        for f in frames(3.0, base=1):
            h.ref.tell_nowait(SegmentAudio("A", f))
        h.ref.tell_nowait(PlaySegment("B", frames(0.5, base=1000)))
        await trio.sleep_until(t0 + 1.234)
        h.ref.tell_control_nowait(Interrupt())
        # Late audio of the interrupted reply is discarded on sight.
        h.ref.tell_nowait(SegmentAudio("A", frames(0.02, base=5000)[0]))
        h.ref.tell_nowait(EndOfSegment("A"))
        await trio.sleep(2.0)
        stats = h.playout.statistics()
        nursery.cancel_scope.cancel()

    a, b = h.finished("A"), h.finished("B")
    assert a.interrupted and a.played_duration == pytest.approx(1.24)
    assert not b.interrupted and b.played_duration == pytest.approx(0.5)
    (b_started,) = h.of(PlaybackStarted, "B")
    assert b_started.at - t0 == pytest.approx(1.24, abs=TOL)  # right after A's last frame
    assert h.heard_values() == list(range(1, 63)) + list(range(1000, 1025))
    assert b.at - t0 == pytest.approx(1.74, abs=2 * TOL)
    assert stats.discarded_frames >= 1 + (150 - 62)
    assert 5000 not in h.heard_values()


@pytest.mark.parametrize("offset", [0.0001, 0.007, 0.0199])
async def test_interrupt_latency_is_at_most_one_frame_period(
    autojump_clock: trio.testing.MockClock, offset: float
) -> None:
    sink = MemorySink(sample_rate=RATE)
    async with trio.open_nursery() as nursery:
        h = await Harness(nursery, sink).start()
        t0 = trio.current_time()
        # 100 ms input frames: the playout cuts them to 20 ms, so it can stop mid-frame.
        h.ref.tell_nowait(PlaySegment("A", frames(2.0, frame=0.1)))
        t_int = t0 + 0.5 + offset
        await trio.sleep_until(t_int)
        h.ref.tell_control_nowait(Interrupt("A"))
        await trio.sleep(0.5)
        nursery.cancel_scope.cancel()

    last_time, last_frame = sink.heard[-1]
    assert last_time <= t_int
    audible_until = last_time + last_frame.duration
    assert audible_until - t_int <= FRAME + 1e-9
    assert h.finished("A").at == pytest.approx(t_int)
    assert h.finished("A").played_samples == sink.num_samples


async def test_underrun_plays_silence_instead_of_stalling(
    autojump_clock: trio.testing.MockClock,
) -> None:
    sink = MemorySink(sample_rate=RATE)
    audio = frames(0.4)
    async with trio.open_nursery() as nursery:
        h = await Harness(nursery, sink).start()
        t0 = trio.current_time()
        for f in audio[:10]:
            h.ref.tell_nowait(SegmentAudio("A", f))
        # The producer stalls for 0.29 s (not 0.3: audio arriving exactly when a frame is
        # due races with the silence written then, which would be a fair outcome too).
        await trio.sleep_until(t0 + 0.49)
        for f in audio[10:]:
            h.ref.tell_nowait(SegmentAudio("A", f))
        h.ref.tell_nowait(EndOfSegment("A"))
        await trio.sleep(1.5)
        stats = h.playout.statistics()
        nursery.cancel_scope.cancel()

    times = [t - t0 for t, _ in sink.heard]
    # The output clock never stopped: one 20 ms frame after another from 0.0 to the end.
    assert np.allclose(np.diff(times), FRAME, atol=TOL)
    values = h.heard_values()
    assert values[:10] == list(range(1, 11))
    assert values[10:25] == [0] * 15  # 0.2 .. 0.5 s of silence
    assert values[25:] == list(range(11, 21))  # resumed on the next frame after 0.5 s
    assert times[25] == pytest.approx(0.5, abs=TOL)
    done = h.finished("A")
    assert not done.interrupted and done.played_duration == pytest.approx(0.4)  # no silence
    assert stats.underruns == 1 and stats.silence_samples == 15 * N
    # Finished: no silence after the segment (idle="none").
    assert times[-1] == pytest.approx(0.68, abs=TOL)


async def test_back_to_back_segments_have_no_gap_and_idle_means_no_output(
    autojump_clock: trio.testing.MockClock,
) -> None:
    sink = MemorySink(sample_rate=RATE)
    async with trio.open_nursery() as nursery:
        h = await Harness(nursery, sink, position_interval=0.1).start()
        t0 = trio.current_time()
        h.ref.tell_nowait(PlaySegment("A", frames(0.3, base=1)))
        h.ref.tell_nowait(PlaySegment("B", frames(0.3, base=100)))
        await trio.sleep(5.0)
        h.ref.tell_nowait(PlaySegment("C", frames(0.1, base=200)))
        await trio.sleep(1.0)
        nursery.cancel_scope.cancel()

    times = [t - t0 for t, _ in sink.heard]
    assert np.allclose(np.diff(times[:30]), FRAME, atol=TOL)
    assert times[30] == pytest.approx(5.0, abs=TOL)  # C starts at once after idling
    assert len(times) == 35
    positions = [round(p.played_duration, 6) for p in h.of(PlaybackPosition, "A")]
    assert positions == [0.1, 0.2, 0.3]
    assert [type(e).__name__ for e in h.events if e.speech_id == "B"][0] == "PlaybackStarted"


async def test_idle_silence_keeps_a_paced_sink_fed(autojump_clock: trio.testing.MockClock) -> None:
    sink = MemorySink(sample_rate=RATE)
    async with trio.open_nursery() as nursery:
        h = await Harness(nursery, sink, idle="silence").start()
        t0 = trio.current_time()
        await trio.sleep(0.09)
        h.ref.tell_nowait(PlaySegment("A", frames(0.1)))
        await trio.sleep(0.3)
        nursery.cancel_scope.cancel()
    times = [t - t0 for t, _ in sink.heard]
    assert np.allclose(np.diff(times), FRAME, atol=TOL)
    values = h.heard_values()
    assert values[:5] == [0] * 5 and values[5:10] == [1, 2, 3, 4, 5]
    assert set(values[10:]) == {0}
    assert h.finished("A").played_duration == pytest.approx(0.1)


async def test_interrupt_before_the_audio_arrives_discards_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    sink = MemorySink(sample_rate=RATE)
    events_tx, events_rx = open_mailbox(64, "drop_oldest")
    async with trio.open_nursery() as nursery:
        h = await Harness(nursery, sink, events=events_tx).start()
        h.ref.tell_control_nowait(Interrupt("late"))
        await trio.sleep(0.1)
        h.ref.tell_nowait(PlaySegment("late", frames(0.5)))
        h.ref.tell_nowait(PlaySegment("next", frames(0.1, base=50)))
        await trio.sleep(1.0)
        nursery.cancel_scope.cancel()
    late = h.finished("late")
    assert late.interrupted and late.played_duration == 0.0 and not h.of(PlaybackStarted, "late")
    assert h.heard_values() == [50, 51, 52, 53, 54]
    # The same events also went to the events mailbox, in order.
    mailed = []
    while True:
        try:
            mailed.append(events_rx.receive_nowait())
        except trio.WouldBlock:
            break
    assert mailed == h.events


async def test_clear_queue_interrupts_everything_queued(
    autojump_clock: trio.testing.MockClock,
) -> None:
    sink = MemorySink(sample_rate=RATE)
    async with trio.open_nursery() as nursery:
        h = await Harness(nursery, sink).start()
        for name in "ABC":
            h.ref.tell_nowait(PlaySegment(name, frames(1.0)))
        await trio.sleep(0.51)
        h.ref.tell_control_nowait(Interrupt(clear_queue=True))
        await trio.sleep(1.0)
        nursery.cancel_scope.cancel()
    assert [(e.speech_id, e.interrupted) for e in h.of(PlaybackFinished)] == [
        ("A", True),
        ("B", True),
        ("C", True),
    ]
    assert sink.duration == pytest.approx(0.52)


async def test_frames_at_another_rate_are_resampled_to_the_sink(
    autojump_clock: trio.testing.MockClock,
) -> None:
    sink = MemorySink(sample_rate=RATE)
    t = np.arange(24_000) / 24_000
    tone = (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    chunks = [AudioFrame.from_array(tone[i : i + 2400], 24_000) for i in range(0, 24_000, 2400)]
    async with trio.open_nursery() as nursery:
        h = await Harness(nursery, sink).start()
        h.ref.tell_nowait(PlaySegment("tts", chunks))
        await trio.sleep(2.0)
        nursery.cancel_scope.cancel()
    assert sink.sample_rate == RATE
    assert abs(sink.num_samples - RATE) <= N
    assert h.finished("tts").played_samples == sink.num_samples
    heard = sink.samples()[:, 0].astype(float)
    spectrum = np.abs(np.fft.rfft(heard))
    peak_hz = np.argmax(spectrum) * RATE / len(heard)
    assert peak_hz == pytest.approx(440, abs=2)


async def test_unpaced_wav_sink_plays_as_fast_as_audio_comes(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    path = tmp_path / "reply.wav"
    async with trio.open_nursery() as nursery:
        h = await Harness(nursery, WavFileSink(path)).start()
        finished = trio.Event()
        h.emitter.on("playback_finished", lambda event: finished.set())
        t0 = trio.current_time()
        h.ref.tell_nowait(PlaySegment("A", frames(5.0)))
        await finished.wait()
        elapsed = trio.current_time() - t0
        await h.ref.stop()
    assert elapsed == 0.0
    rate, _, samples = read_wav(path)
    assert rate == RATE and np.array_equal(samples[:, 0], np.repeat(np.arange(1, 251), N))
    assert h.finished("A").played_duration == pytest.approx(5.0)


async def test_stop_interrupts_what_is_playing_and_exits(
    autojump_clock: trio.testing.MockClock,
) -> None:
    sink = MemorySink(sample_rate=RATE)
    async with trio.open_nursery() as nursery:
        h = await Harness(nursery, sink).start()
        h.ref.tell_nowait(PlaySegment("A", frames(2.0)))
        await trio.sleep(0.3)
        exit = await h.ref.stop(grace=1.0)
    assert exit is not None and exit.reason == "stopped"
    done = h.finished("A")
    assert done.interrupted and done.played_samples == sink.num_samples


async def test_events_default_to_the_emitter_the_actor_was_spawned_with(
    autojump_clock: trio.testing.MockClock,
) -> None:
    emitter = EventEmitter()
    seen: list[str] = []
    for name in PLAYBACK_EVENTS:
        emitter.on(name, lambda event, name=name: seen.append(name))
    sink = MemorySink(sample_rate=RATE)
    async with trio.open_nursery() as nursery:
        ref = await spawn(nursery, Playout(sink), name="playout", events=emitter)
        ref.tell_nowait(PlaySegment("A", frames(0.2)))
        await trio.sleep(1.0)
        nursery.cancel_scope.cancel()
    assert seen == ["playback_started", "playback_position", "playback_position"] + [
        "playback_finished"
    ]


async def test_mono_audio_fills_every_channel_of_a_stereo_sink(
    autojump_clock: trio.testing.MockClock,
) -> None:
    sink = MemorySink(sample_rate=RATE, num_channels=2)
    async with trio.open_nursery() as nursery:
        h = await Harness(nursery, sink).start()
        h.ref.tell_nowait(PlaySegment("A", frames(0.1)))
        await trio.sleep(0.5)
        nursery.cancel_scope.cancel()
    heard = sink.samples()
    assert heard.shape == (5 * N, 2) and np.array_equal(heard[:, 0], heard[:, 1])


async def test_queue_is_bounded_and_pushes_back_on_the_producer(
    autojump_clock: trio.testing.MockClock,
) -> None:
    sink = MemorySink(sample_rate=RATE)
    sent = 0
    async with trio.open_nursery() as nursery:
        playout = Playout(sink, max_queued=0.2)
        ref = await spawn(nursery, playout, name="playout", inbox_capacity=4)
        t0 = trio.current_time()

        async def produce() -> None:
            nonlocal sent
            for f in frames(2.0):
                await ref.tell(SegmentAudio("A", f))
                sent += 1
            await ref.tell(EndOfSegment("A"))

        nursery.start_soon(produce)
        await trio.sleep_until(t0 + 0.51)
        ahead = sent * FRAME - sink.duration
        queued = playout.statistics().queued_seconds
        await trio.sleep(3.0)
        nursery.cancel_scope.cancel()
    # At most max_queued (+ one frame) buffered, plus what the 4-slot inbox holds.
    assert queued <= 0.2 + FRAME + 1e-9
    assert ahead <= 0.2 + FRAME + 4 * FRAME + 1e-9
    assert sink.num_samples == 100 * N and not h_interrupted(sink)


def h_interrupted(sink: MemorySink) -> bool:
    return bool((sink.samples() == 0).any())  # silence would mean the queue starved


async def test_mic_to_playout_loopback_replays_the_wav_file(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    from voxtrio.actors.mic import MicReader
    from voxtrio.audio.sources import WavFileSource
    from voxtrio.audio.wav import write_wav

    original = AudioFrame.from_array((np.arange(RATE) % 2000 + 1).astype(np.int16), RATE)
    write_wav(tmp_path / "in.wav", original)
    sink = MemorySink(sample_rate=RATE)
    async with trio.open_nursery() as nursery:
        # Live audio arrives exactly at the output rate: a 40 ms jitter buffer absorbs
        # the ties between "frame arrives" and "frame due" (without it, silence may slip in).
        h = await Harness(nursery, sink, prebuffer=0.04).start()
        t0 = trio.current_time()
        mic = MicReader(WavFileSource(tmp_path / "in.wav"))
        await spawn(nursery, mic, name="mic")
        async for frame in mic.frames:
            await h.ref.tell(SegmentAudio("echo", frame))
        await h.ref.tell(EndOfSegment("echo"))
        await trio.sleep(0.5)
        nursery.cancel_scope.cancel()
    assert np.array_equal(sink.samples(), original.data)
    assert h.finished("echo").played_duration == pytest.approx(1.0)
    times = [t - t0 for t, _ in sink.heard]
    assert times[0] == pytest.approx(0.02, abs=TOL)  # started once 40 ms were queued
    assert np.allclose(np.diff(times), FRAME, atol=TOL)  # live audio in, steady audio out


async def test_pause_holds_the_reply_and_resume_continues_from_the_next_sample(
    autojump_clock: trio.testing.MockClock,
) -> None:
    sink = MemorySink(sample_rate=RATE)
    async with trio.open_nursery() as nursery:
        h = await Harness(nursery, sink).start()
        t0 = trio.current_time()
        h.ref.tell_nowait(PlaySegment("A", frames(1.0, base=1)))
        h.ref.tell_nowait(PlaySegment("B", frames(0.1, base=500)))
        await trio.sleep_until(t0 + 0.301)
        h.ref.tell_control_nowait(Pause())  # maybe the user is talking
        await trio.sleep_until(t0 + 1.001)
        held = sink.num_samples
        h.ref.tell_control_nowait(Resume("A"))  # it was only a cough
        await trio.sleep(2.0)
        stats = h.playout.statistics()
        nursery.cancel_scope.cancel()

    assert held == 16 * N  # frames due at 0.00 .. 0.30, then nothing while paused
    values = h.heard_values()
    assert values == list(range(1, 51)) + list(range(500, 505))  # nothing lost or repeated
    times = [t - t0 for t, _ in sink.heard]
    assert times[16] == pytest.approx(1.001, abs=TOL)  # resumed at once
    a = h.finished("A")
    assert not a.interrupted and a.played_duration == pytest.approx(1.0)
    assert len(h.of(PlaybackStarted, "A")) == 1 and stats.pauses == 1


async def test_interrupting_a_paused_reply_reports_what_was_heard(
    autojump_clock: trio.testing.MockClock,
) -> None:
    sink = MemorySink(sample_rate=RATE)
    async with trio.open_nursery() as nursery:
        h = await Harness(nursery, sink).start()
        h.ref.tell_control_nowait(Pause("A"))  # before its audio arrives
        h.ref.tell_nowait(PlaySegment("A", frames(1.0)))
        await trio.sleep(0.5)
        assert sink.num_samples == 0 and not h.of(PlaybackStarted)
        h.ref.tell_control_nowait(Resume())
        await trio.sleep(0.205)
        h.ref.tell_control_nowait(Pause("A"))
        await trio.sleep(0.5)
        h.ref.tell_control_nowait(Interrupt("A"))
        await trio.sleep(0.1)
        nursery.cancel_scope.cancel()
    a = h.finished("A")
    assert a.interrupted and a.played_duration == pytest.approx(0.22)
    assert a.played_samples == sink.num_samples


async def test_a_restarted_playout_reopens_its_sink_and_keeps_playing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    sink = MemorySink(sample_rate=RATE)
    async with trio.open_nursery() as nursery:
        first = await Harness(nursery, sink).start()
        first.ref.tell_nowait(PlaySegment("A", frames(0.1, base=1)))
        await trio.sleep(0.5)
        await first.ref.stop()
        second = await Harness(nursery, sink).start()  # what a supervisor restart does
        second.ref.tell_nowait(PlaySegment("B", frames(0.1, base=100)))
        await trio.sleep(0.5)
        nursery.cancel_scope.cancel()
    assert second.heard_values() == [1, 2, 3, 4, 5, 100, 101, 102, 103, 104]


class FlakySink(MemorySink):
    """A memory sink whose `fail_at`-th write raises once (a sound card hiccup)."""

    def __init__(self, fail_at: int) -> None:
        super().__init__(sample_rate=RATE)
        self.fail_at = fail_at
        self.writes = 0

    async def _write(self, frame: AudioFrame) -> None:
        self.writes += 1
        if self.writes == self.fail_at:
            raise OSError("device unplugged")
        await super()._write(frame)


async def test_crash_reports_held_replies_and_a_restart_plays_on(
    autojump_clock: trio.testing.MockClock,
) -> None:
    from voxtrio.core.supervisor import ChildSpec, Supervisor

    sink = FlakySink(fail_at=11)
    emitter = EventEmitter()
    events: list[Any] = []
    for name in PLAYBACK_EVENTS:
        emitter.on(name, events.append)
    spec = ChildSpec("playout", lambda: Playout(sink, emitter=emitter))
    async with Supervisor([spec], strategy="one_for_one") as sup:
        ref = sup.ref("playout")
        ref.tell_nowait(PlaySegment("A", frames(1.0, base=1)))
        await trio.sleep(0.5)
        ref.tell_nowait(PlaySegment("B", frames(0.1, base=100)))
        await trio.sleep(0.5)
    finished = [e for e in events if isinstance(e, PlaybackFinished)]
    assert [(e.speech_id, e.interrupted) for e in finished] == [("A", True), ("B", False)]
    assert finished[0].played_duration == pytest.approx(0.2)  # 10 frames reached the sink
    assert [int(f.data[0, 0]) for _, f in sink.heard] == list(range(1, 11)) + list(range(100, 105))


class SlowSink(MemorySink):
    """A sink whose every `every`-th write blocks for `stall` s (a congested socket)."""

    def __init__(self, *, every: int, stall: float) -> None:
        super().__init__(sample_rate=RATE)
        self.every, self.stall, self.writes = every, stall, 0

    async def write(self, frame: AudioFrame) -> None:
        self.writes += 1
        if self.writes % self.every == 0:
            await trio.sleep(self.stall)
        await super().write(frame)


async def test_slow_writes_are_caught_up_so_a_reply_does_not_drift(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Every 5th write blocks 50 ms: 2 s of audio has 20 such stalls. Restarting the
    # clock after each would end the reply 0.6 s late; catching up ends it on time.
    sink = SlowSink(every=5, stall=0.05)
    async with trio.open_nursery() as nursery:
        h = await Harness(nursery, sink).start()
        t0 = trio.current_time()
        h.ref.tell_nowait(PlaySegment("A", frames(2.0)))
        await trio.sleep(3.0)
        nursery.cancel_scope.cancel()
    times = [t - t0 for t, _ in sink.heard]
    assert h.heard_values() == list(range(1, 101))
    assert times[-1] == pytest.approx(1.98 + 0.05, abs=TOL)  # only the last stall shows
    # Never ahead of the frame's own time, never more than one stall behind it.
    assert all(-TOL <= t - k * FRAME <= 0.05 + TOL for k, t in enumerate(times))
    assert h.finished("A").played_duration == pytest.approx(2.0)


async def test_a_stall_longer_than_max_catch_up_restarts_the_clock(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # A 0.5 s stall: bursting 0.5 s of audio at once would flood the sink, so the
    # clock restarts and the rest of the reply plays 20 ms apart from there.
    sink = SlowSink(every=10, stall=0.5)
    async with trio.open_nursery() as nursery:
        h = await Harness(nursery, sink, max_catch_up=0.2).start()
        t0 = trio.current_time()
        h.ref.tell_nowait(PlaySegment("A", frames(0.36)))  # one stall, at the 10th write
        await trio.sleep(2.0)
        nursery.cancel_scope.cancel()
    times = [t - t0 for t, _ in sink.heard]
    assert len(times) == 18
    assert times[9] == pytest.approx(0.18 + 0.5, abs=TOL)
    # The clock restarts at the next write (at once), then 20 ms apart: no burst of the
    # 0.5 s that was missed.
    assert times[10] == pytest.approx(times[9], abs=TOL)
    assert np.allclose(np.diff(times[10:]), FRAME, atol=TOL)
