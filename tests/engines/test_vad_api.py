"""VAD interface: the segmentation state machine on scripted probabilities, the stream
contract, metrics, and the energy FakeVAD. Virtual time only."""

from __future__ import annotations

import numpy as np
import pytest
import trio

from voxtrio.audio.frame import AudioFrame
from voxtrio.engines.fake import FakeVAD, ScriptedVAD, tone
from voxtrio.engines.metrics import VADMetrics
from voxtrio.engines.vad import VADEvent, VADEventType, VADOptions

W = 512 / 16_000  # 32 ms windows


def windows(count: int, rate: int = 16_000, size: int = 512) -> list[AudioFrame]:
    """One frame per window, each filled with its index (to trace frames through events)."""
    return [
        AudioFrame.from_array(np.full(size, i, np.int16), rate, pts=i * size / rate)
        for i in range(count)
    ]


async def run_vad(vad: ScriptedVAD | FakeVAD, frames: list[AudioFrame]) -> list[VADEvent]:
    async with vad.stream() as stream:
        for f in frames:
            stream.push_frame(f)
        stream.end_input()
        return [e async for e in stream]


def boundaries(events: list[VADEvent]) -> list[VADEvent]:
    return [e for e in events if e.type is not VADEventType.INFERENCE_DONE]


def ids(frames: tuple[AudioFrame, ...]) -> list[int]:
    return [int(f.data[0, 0]) for f in frames]


async def test_start_needs_min_speech_and_end_needs_min_silence(
    autojump_clock: trio.abc.Clock,
) -> None:
    # 10 silent windows, one speech blip (too short), silence, 10 speech, 20 silence.
    probs = [0.0] * 10 + [0.9] + [0.0] * 5 + [0.9] * 10 + [0.0] * 20
    opts = VADOptions(min_speech_duration=0.05, min_silence_duration=0.3,
                      prefix_padding_duration=0.0)
    vad = ScriptedVAD(probs, options=opts)
    events = boundaries(await run_vad(vad, windows(len(probs))))
    assert [e.type for e in events] == [VADEventType.START_OF_SPEECH, VADEventType.END_OF_SPEECH]
    start, end = events
    # speech starts at window 16; min 0.05 s needs 2 windows -> fires after window 17
    assert start.samples_index == 18 * 512
    assert start.timestamp == pytest.approx(18 * W)
    assert start.speech_duration == pytest.approx(2 * W)
    # silence from window 26; 0.3 s needs 10 windows -> fires after window 35
    assert end.samples_index == 36 * 512
    assert end.silence_duration == pytest.approx(10 * W)
    assert end.speech_duration == pytest.approx(10 * W)
    assert ids(end.frames) == list(range(16, 36))  # speech + trailing silence, no padding


async def test_prefix_padding_is_prepended(autojump_clock: trio.abc.Clock) -> None:
    probs = [0.0] * 30 + [1.0] * 5 + [0.0] * 30
    opts = VADOptions(min_speech_duration=0.05, min_silence_duration=0.2,
                      prefix_padding_duration=0.32)  # 10 windows
    events = boundaries(await run_vad(ScriptedVAD(probs, options=opts), windows(len(probs))))
    start, end = events
    assert ids(start.frames) == list(range(20, 32))  # 10 padding windows + the 2 speech ones
    assert ids(end.frames)[:12] == list(range(20, 32))
    assert ids(end.frames)[-1] == 30 + 5 + 7 - 1  # through the 7th silent window (0.2 s)


async def test_padding_is_clipped_at_stream_start(autojump_clock: trio.abc.Clock) -> None:
    probs = [0.0] * 3 + [1.0] * 4 + [0.0] * 30
    opts = VADOptions(prefix_padding_duration=0.5, min_silence_duration=0.1)
    start, _ = boundaries(await run_vad(ScriptedVAD(probs, options=opts), windows(len(probs))))
    assert ids(start.frames) == [0, 1, 2, 3, 4]


async def test_hysteresis_keeps_speech_between_thresholds(autojump_clock: trio.abc.Clock) -> None:
    # 0.45 is below activation (0.5) but above deactivation (0.35): it stays speech.
    probs = [0.9] * 5 + [0.45] * 30 + [0.0] * 30
    opts = VADOptions(min_silence_duration=0.2)
    events = boundaries(await run_vad(ScriptedVAD(probs, options=opts), windows(len(probs))))
    assert [e.type for e in events] == [VADEventType.START_OF_SPEECH, VADEventType.END_OF_SPEECH]
    assert events[1].speech_duration == pytest.approx(35 * W)


async def test_end_is_placed_after_the_last_confident_window(
    autojump_clock: trio.abc.Clock,
) -> None:
    # A noisy decay after the last word: 0.45 and 0.40 keep speech going (>= 0.35), but
    # speech is said to end after the last window >= activation (0.7, window 14).
    probs = [0.0] * 5 + [0.95] * 9 + [0.7, 0.45, 0.40, 0.2] + [0.05] * 20
    opts = VADOptions(min_silence_duration=0.2, prefix_padding_duration=0.0)  # 7 windows
    start, end = boundaries(await run_vad(ScriptedVAD(probs, options=opts), windows(len(probs))))
    assert end.samples_index == (17 + 7) * 512  # hysteresis: silence runs from window 17
    assert end.timestamp - end.silence_duration == pytest.approx(15 * W)
    assert start.timestamp - start.speech_duration == pytest.approx(5 * W)
    assert end.speech_duration == pytest.approx(12 * W)  # hysteresis windows still count
    assert ids(end.frames) == list(range(5, 24))  # audio up to the event, as before


async def test_end_placement_at_flush_and_with_a_higher_exit_threshold(
    autojump_clock: trio.abc.Clock,
) -> None:
    # Flushed mid-trail: the end is still the last confident window.
    vad = ScriptedVAD([0.9] * 6 + [0.4] * 3)
    async with vad.stream() as stream:
        for f in windows(9):
            stream.push_frame(f)
        stream.flush()
        stream.end_input()
        end = boundaries([e async for e in stream])[-1]
    assert end.type is VADEventType.END_OF_SPEECH
    assert end.timestamp - end.silence_duration == pytest.approx(6 * W)
    # deactivation above activation: confident means >= the higher one (0.8)
    probs = [0.9] * 6 + [0.6] * 2 + [0.0] * 20
    opts = VADOptions(activation_threshold=0.5, deactivation_threshold=0.8,
                      min_silence_duration=0.2, prefix_padding_duration=0.0)
    _, end = boundaries(await run_vad(ScriptedVAD(probs, options=opts), windows(len(probs))))
    assert end.timestamp - end.silence_duration == pytest.approx(6 * W)
    assert end.silence_duration >= 0.2
    # a start run between the two thresholds: the end is never placed before it
    probs = [0.0] * 4 + [0.6] * 3 + [0.0] * 20
    start, end = boundaries(await run_vad(ScriptedVAD(probs, options=opts), windows(len(probs))))
    assert start.timestamp - start.speech_duration == pytest.approx(4 * W)
    assert end.timestamp - end.silence_duration == pytest.approx(6 * W)


async def test_probability_between_thresholds_does_not_start_speech(
    autojump_clock: trio.abc.Clock,
) -> None:
    probs = [0.45] * 40
    assert boundaries(await run_vad(ScriptedVAD(probs), windows(len(probs)))) == []


async def test_inference_done_per_window_with_probability(autojump_clock: trio.abc.Clock) -> None:
    probs = [0.1, 0.7, 0.8, 0.2]
    events = await run_vad(ScriptedVAD(probs), windows(4))
    done = [e for e in events if e.type is VADEventType.INFERENCE_DONE]
    assert [e.probability for e in done] == pytest.approx(probs)
    assert [ids(e.frames) for e in done] == [[0], [1], [2], [3]]
    assert [e.speaking for e in done] == [False, False, True, True]
    # INFERENCE_DONE precedes the START_OF_SPEECH its window caused
    kinds = [e.type for e in events]
    assert kinds.index(VADEventType.START_OF_SPEECH) == 3


async def test_flush_ends_speech_and_resets(autojump_clock: trio.abc.Clock) -> None:
    vad = ScriptedVAD([1.0] * 10 + [0.0] * 3 + [1.0] * 10)
    async with vad.stream() as stream:
        for f in windows(10):
            stream.push_frame(f)
        stream.flush()
        for f in windows(23)[10:]:
            stream.push_frame(f)
        stream.end_input()
        events = boundaries([e async for e in stream])
    assert [e.type for e in events] == [VADEventType.START_OF_SPEECH, VADEventType.END_OF_SPEECH,
                                        VADEventType.START_OF_SPEECH, VADEventType.END_OF_SPEECH]


async def test_arbitrary_frame_sizes_are_windowed(autojump_clock: trio.abc.Clock) -> None:
    vad = ScriptedVAD([0.0] * 100)
    audio = np.zeros(16_000, np.int16)
    async with vad.stream() as stream:
        for chunk in np.array_split(audio, 37):
            stream.push_frame(AudioFrame.from_array(chunk, 16_000))
        stream.end_input()
        done = [e async for e in stream]
    assert len(done) == 16_000 // 512
    assert vad.windows_scored == 16_000 // 512


async def test_input_is_resampled_and_downmixed(autojump_clock: trio.abc.Clock) -> None:
    vad = ScriptedVAD([0.0] * 100)
    stereo = np.zeros((48_000, 2), np.int16)
    async with vad.stream() as stream:
        for chunk in np.array_split(stereo, 50):
            stream.push_frame(AudioFrame(chunk, 48_000))
        stream.end_input()
        events = [e async for e in stream]
    assert all(f.sample_rate == 16_000 and f.num_channels == 1
               for e in events for f in e.frames)
    assert abs(vad.windows_scored - 16_000 // 512) <= 1


async def test_metrics_about_once_a_second(autojump_clock: trio.abc.Clock) -> None:
    vad = ScriptedVAD([0.0] * 200, inference_delay=0.001)
    got: list[VADMetrics] = []
    vad.on("metrics_collected", got.append)
    await run_vad(vad, windows(94))  # ~3 s of audio; 31 windows per second
    assert len(got) == 3
    assert all(m.inference_count == 31 for m in got)
    assert got[0].inference_duration_total == pytest.approx(0.031)


async def test_energy_fake_vad_finds_tone(autojump_clock: trio.abc.Clock) -> None:
    rate = 16_000
    silence = np.zeros(rate, np.int16)
    speech = tone(300, rate, rate)
    audio = np.concatenate([silence, speech, silence])
    vad = FakeVAD(options=VADOptions(prefix_padding_duration=0.0))
    frames = [AudioFrame.from_array(c, rate) for c in np.split(audio, 150)]
    events = boundaries(await run_vad(vad, frames))
    start, end = events
    assert start.timestamp == pytest.approx(1.0 + 0.06, abs=0.021)
    assert end.timestamp == pytest.approx(2.0 + 0.56, abs=0.021)


def test_options_validate() -> None:
    with pytest.raises(ValueError, match="activation_threshold"):
        VADOptions(activation_threshold=1.5)
    with pytest.raises(ValueError, match="min_silence_duration"):
        VADOptions(min_silence_duration=-1)
    assert VADOptions().exit_threshold == pytest.approx(0.35)
    assert VADOptions(deactivation_threshold=0.2).exit_threshold == 0.2


async def test_update_options_applies_to_running_stream(autojump_clock: trio.abc.Clock) -> None:
    probs = [1.0] * 5 + [0.0] * 40
    vad = ScriptedVAD(probs)
    vad.update_options(min_silence_duration=0.1)
    events = boundaries(await run_vad(vad, windows(len(probs))))
    assert events[1].samples_index == (5 + 4) * 512


async def test_max_buffered_speech_caps_utterance(autojump_clock: trio.abc.Clock) -> None:
    probs = [1.0] * 100 + [0.0] * 30
    opts = VADOptions(prefix_padding_duration=0.0, max_buffered_speech=0.64,
                      min_silence_duration=0.1)
    start, end = boundaries(await run_vad(ScriptedVAD(probs, options=opts), windows(len(probs))))
    assert len(end.frames) == 20  # 0.64 s of 32 ms windows
    assert end.speech_duration == pytest.approx(100 * W)  # durations still count it all
