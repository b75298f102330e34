"""The trio loop stays responsive while all three default engines work (real time).

A ~20 s track (every speech fixture, short gaps) goes through silero VAD and
pocketsphinx STT in real time while espeak synthesizes sentence after sentence.
LoopLagMonitor samples how late a 10 ms timer fires: p99 must stay <= 5 ms. The same
run scores the STT on the whole fixture set: WER <= 10 %.

On a shared CI box other processes delay the loop too (measured here: an idle trio
loop had p99 1-7 ms at load average 4-5 on 2 cores), so two figures are checked:
- the lateness the trio thread itself spent computing (per 10 ms tick: the smaller of
  the lateness and the thread's CPU time over the tick; OS preemption does not count):
  p99 <= 5 ms, strictly;
- LoopLagMonitor's wall-clock p99 <= 5 ms when the box is quiet (load average below
  half the cores and the idle loop's p99, measured just before, under 2 ms); on a
  loaded box other processes decide the wall-clock figure, so it must then only stay
  under 20 ms. A blocking engine (pocketsphinx in a thread: p99 ~80 ms) fails both.
"""

from __future__ import annotations

import os
import time

import trio

from voxtrio.audio.frame import AudioFrame
from voxtrio.core.loop_lag import open_loop_lag_monitor
from voxtrio.engines.espeak import EspeakTTS
from voxtrio.engines.pocketsphinx import PocketSphinxSTT
from voxtrio.engines.silero import SileroVAD
from voxtrio.engines.stt import SpeechEventType
from voxtrio.engines.vad import VADEventType
from voxtrio.testing.speech import (
    compose_speech,
    load_speech_fixtures,
    split_frames,
    word_error_rate,
)

SPEED = 1.0  # real time: a live utterance


async def test_loop_lag_p99_stays_under_5_ms_while_vad_stt_and_tts_work() -> None:
    fixtures = load_speech_fixtures()
    parts: list[float | AudioFrame] = [0.3]
    for fixture in fixtures:
        parts += [fixture.frame, 0.5]
    track, _ = compose_speech(parts)
    assert 18.0 < track.duration < 25.0
    frames = split_frames(track, 0.02)

    async with PocketSphinxSTT() as stt, EspeakTTS() as tts:
        vad = SileroVAD()
        with trio.fail_after(30):
            await stt.prewarm()
            await tts.prewarm()
            async with open_loop_lag_monitor(interval=0.01) as idle_monitor:
                await trio.sleep(2.0)
                baseline = idle_monitor.statistics()
        heard: list[str] = []
        own_lag: list[float] = []
        utterances = 0
        spoken = 0.0
        with trio.fail_after(75):
            async with (
                open_loop_lag_monitor(interval=0.01, window=100_000) as monitor,
                stt.stream(input_capacity=4000) as stt_stream,
                vad.stream(input_capacity=4000) as vad_stream,
                trio.open_nursery() as nursery,
            ):

                async def feed() -> None:
                    for frame in frames:
                        stt_stream.push_frame(frame)
                        vad_stream.push_frame(frame)
                        await trio.sleep(0.02 / SPEED)
                    stt_stream.end_input()
                    vad_stream.end_input()

                async def listen() -> None:
                    nonlocal utterances
                    async for event in vad_stream:
                        utterances += event.type is VADEventType.END_OF_SPEECH

                async def speak() -> None:
                    # Consumed like a playout would, but at SPEED times real time.
                    nonlocal spoken
                    while True:
                        for fixture in fixtures:
                            async with tts.synthesize(fixture.text) as synthesis:
                                async for audio in synthesis:
                                    spoken += audio.frame.duration
                                    await trio.sleep(audio.frame.duration / SPEED)

                async def tick() -> None:
                    while True:
                        started, cpu = trio.current_time(), time.thread_time()
                        await trio.sleep(0.01)
                        late = trio.current_time() - started - 0.01
                        own_lag.append(min(late, time.thread_time() - cpu))

                nursery.start_soon(feed)
                nursery.start_soon(listen)
                nursery.start_soon(speak)
                nursery.start_soon(tick)
                async for event in stt_stream:
                    if event.type is SpeechEventType.FINAL_TRANSCRIPT:
                        heard.append(event.text)
                stats = monitor.statistics()
                nursery.cancel_scope.cancel()

    quiet = os.getloadavg()[0] < (os.cpu_count() or 1) / 2 and baseline.p99 < 0.002
    bound = 0.005 if quiet else 0.020
    own_p99 = sorted(own_lag)[int(0.99 * (len(own_lag) - 1))]
    print(
        f"trio-thread-attributable lag p99 {own_p99 * 1e3:.2f} ms; "
        f"idle loop lag p99 {baseline.p99 * 1e3:.2f} ms (bound {bound * 1e3:.1f} ms); "
        f"loop lag while engines worked: p50 {stats.p50 * 1e3:.2f} ms, "
        f"p99 {stats.p99 * 1e3:.2f} ms, max {stats.max * 1e3:.2f} ms "
        f"({stats.samples} samples); tts spoke {spoken:.0f} s"
    )
    assert stats.samples > 500 and len(own_lag) > 500
    assert own_p99 <= 0.005
    assert stats.p99 <= bound
    assert spoken > track.duration * 0.8  # the TTS really worked alongside
    assert utterances == len(fixtures)
    wer = word_error_rate([" ".join(f.text for f in fixtures)], [" ".join(heard)])
    print(f"pocketsphinx WER over {len(fixtures)} fixtures: {wer:.1%}")
    assert wer <= 0.10, heard
