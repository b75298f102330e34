"""STT interface: the RecognizeStream contract, retries, metrics, batch recognize.

Rules: virtual time only (`autojump_clock`); fakes from voxtrio.engines.fake.
"""

from __future__ import annotations

import numpy as np
import pytest
import trio

from voxtrio.audio.frame import AudioFrame
from voxtrio.engines.errors import (
    APIConnectionError,
    APIConnectOptions,
    APIStatusError,
    APITimeoutError,
)
from voxtrio.engines.fake import FakeSpeech, FakeSTT
from voxtrio.engines.metrics import STTMetrics
from voxtrio.engines.stt import (
    STT,
    RecognizeStream,
    SpeechEvent,
    SpeechEventType,
    STTCapabilities,
)

FAST = APIConnectOptions(max_retry=3, retry_interval=1.0)


def frames(seconds: float, rate: int = 16_000, ms: int = 20, start: float = 0.0) -> list[AudioFrame]:
    n = rate * ms // 1000
    count = round(seconds * 1000 / ms)
    return [
        AudioFrame.from_array(np.full(n, 1000, np.int16), rate, pts=start + i * ms / 1000)
        for i in range(count)
    ]


async def collect(stream: RecognizeStream) -> list[SpeechEvent]:
    return [event async for event in stream]


async def test_stream_transcribes_script(autojump_clock: trio.abc.Clock) -> None:
    stt = FakeSTT(speeches=[FakeSpeech("book a table for two", 0.2, 1.0, stt_delay=0.4)])
    async with stt.stream() as stream:
        for f in frames(1.2):
            stream.push_frame(f)
        stream.end_input()
        events = await collect(stream)
    types = [e.type for e in events]
    assert types == [
        SpeechEventType.START_OF_SPEECH,
        SpeechEventType.END_OF_SPEECH,
        SpeechEventType.INTERIM_TRANSCRIPT,
        SpeechEventType.FINAL_TRANSCRIPT,
        SpeechEventType.RECOGNITION_USAGE,
    ]
    assert events[2].text == "book a"
    assert events[3].text == "book a table for two"
    assert events[3].alternatives[0].start_time == 0.2


async def test_push_after_end_input_raises_naming_class(autojump_clock: trio.abc.Clock) -> None:
    async with FakeSTT().stream() as stream:
        stream.end_input()
        with pytest.raises(RuntimeError, match=r"FakeSTTStream input ended"):
            stream.push_frame(frames(0.02)[0])
        with pytest.raises(RuntimeError, match="input ended"):
            stream.flush()


async def test_closed_stream_raises_naming_class(autojump_clock: trio.abc.Clock) -> None:
    async with FakeSTT().stream() as stream:
        pass
    with pytest.raises(RuntimeError, match=r"voxtrio\.engines\.fake\.FakeSTTStream is closed"):
        stream.push_frame(frames(0.02)[0])
    with pytest.raises(RuntimeError, match="is closed"):
        stream.end_input()
    assert [e async for e in stream] == []


async def test_sample_rate_change_is_value_error_naming_both(autojump_clock: trio.abc.Clock) -> None:
    async with FakeSTT().stream() as stream:
        stream.push_frame(frames(0.02, rate=16_000)[0])
        with pytest.raises(ValueError, match="got 16000 Hz, then 48000 Hz"):
            stream.push_frame(frames(0.02, rate=48_000)[0])


async def test_iterating_unstarted_stream_says_how_to_start(autojump_clock: trio.abc.Clock) -> None:
    stream = FakeSTT().stream()
    with pytest.raises(RuntimeError, match="async with"):
        await stream.__anext__()


async def test_frames_are_resampled_to_engine_rate(autojump_clock: trio.abc.Clock) -> None:
    stt = FakeSTT(sample_rate=16_000)
    async with stt.stream() as stream:
        for f in frames(1.0, rate=48_000):
            stream.push_frame(f)
        stream.end_input()
        await collect(stream)
    assert {f.sample_rate for f in stt.frames_received} == {16_000}
    total = sum(f.samples_per_channel for f in stt.frames_received)
    assert abs(total - 16_000) <= 320  # same length as a one-shot conversion, within a frame


async def test_nursery_start_form(autojump_clock: trio.abc.Clock) -> None:
    stt = FakeSTT(speeches=[FakeSpeech("hello there", 0.0, 0.5)])
    async with trio.open_nursery() as nursery:
        stream = stt.stream()
        await nursery.start(stream.run)
        for f in frames(0.6):
            stream.push_frame(f)
        stream.end_input()
        finals = [e.text async for e in stream if e.type is SpeechEventType.FINAL_TRANSCRIPT]
        await stream.aclose()
    assert finals == ["hello there"]


async def test_retry_then_success(autojump_clock: trio.abc.Clock) -> None:
    stt = FakeSTT(
        speeches=[FakeSpeech("still here", 0.1, 0.5)],
        errors=[APIConnectionError("socket reset"), APIConnectionError("socket reset")],
    )
    start = trio.current_time()
    async with stt.stream(conn_options=FAST) as stream:
        for f in frames(0.6):
            stream.push_frame(f)
        stream.end_input()
        events = await collect(stream)
    assert stt.stream_attempts == 3
    assert [e.text for e in events if e.type is SpeechEventType.FINAL_TRANSCRIPT] == ["still here"]
    # waits: 0.1 s before the first retry, retry_interval before the second, then stt_delay
    assert trio.current_time() - start == pytest.approx(0.1 + 1.0 + 0.2)


async def test_retry_exhaustion_surfaces_error_from_iterator(
    autojump_clock: trio.abc.Clock,
) -> None:
    errors = [APIStatusError("overloaded", status_code=503) for _ in range(5)]
    stt = FakeSTT(errors=errors)
    seen: list[BaseException] = []
    stt.on("error", seen.append)
    async with stt.stream(conn_options=APIConnectOptions(max_retry=2)) as stream:
        stream.push_frame(frames(0.02)[0])
        with pytest.raises(APIStatusError) as info:
            await collect(stream)
    assert stt.stream_attempts == 3
    assert info.value.status_code == 503
    assert "gave up after 3 attempts" in info.value.__notes__[0]
    assert seen == [info.value]


async def test_non_retryable_4xx_is_not_retried(autojump_clock: trio.abc.Clock) -> None:
    stt = FakeSTT(errors=[APIStatusError("bad key", status_code=401)] * 4)
    async with stt.stream(conn_options=FAST) as stream:
        stream.push_frame(frames(0.02)[0])
        with pytest.raises(APIStatusError, match="bad key"):
            await collect(stream)
    assert stt.stream_attempts == 1


@pytest.mark.parametrize(("status", "retryable"), [(400, False), (404, False), (408, True),
                                                   (429, True), (500, True), (503, True)])
def test_status_error_retryable_classification(status: int, retryable: bool) -> None:
    assert APIStatusError(status_code=status).retryable is retryable


async def test_error_mid_stream_after_events_keeps_events(autojump_clock: trio.abc.Clock) -> None:
    stt = FakeSTT(
        speeches=[FakeSpeech("first", 0.0, 0.2, stt_delay=0.0)],
        errors=[ValueError("engine bug")],
        error_after=0.5,
    )
    async with stt.stream(conn_options=FAST) as stream:
        audio = frames(0.6)
        for f in audio[:15]:
            stream.push_frame(f)
        await trio.sleep(1.0)
        for f in audio[15:]:
            stream.push_frame(f)
        got: list[SpeechEvent] = []
        with pytest.raises(ValueError, match="engine bug"):
            async for event in stream:
                got.append(event)
    assert stt.stream_attempts == 1  # not an APIError: a bug, never retried
    assert "first" in [e.text for e in got]


async def test_metrics_on_every_usage_event(autojump_clock: trio.abc.Clock) -> None:
    stt = FakeSTT(
        speeches=[FakeSpeech("one", 0.1, 0.4), FakeSpeech("two words", 0.6, 1.3)],
    )
    metrics: list[STTMetrics] = []
    stt.on("metrics_collected", metrics.append)
    async with stt.stream() as stream:
        for f in frames(1.5):
            stream.push_frame(f)
        stream.end_input()
        usage = [e for e in await collect(stream) if e.type is SpeechEventType.RECOGNITION_USAGE]
    assert len(metrics) == len(usage) == 2
    assert [m.audio_duration for m in metrics] == pytest.approx([0.3, 0.7])
    assert all(m.streamed and m.label == "fake_stt" and m.error is None for m in metrics)
    assert [m.request_id for m in metrics] == [e.request_id for e in usage]


async def test_flush_ends_speech_in_progress(autojump_clock: trio.abc.Clock) -> None:
    stt = FakeSTT(speeches=[FakeSpeech("cut short", 0.0, 5.0, stt_delay=0.1)])
    async with stt.stream() as stream:
        for f in frames(0.5):
            stream.push_frame(f)
        stream.flush()
        with trio.fail_after(1):
            async for event in stream:
                if event.type is SpeechEventType.FINAL_TRANSCRIPT:
                    break
    assert event.text == "cut short"


async def test_bounded_input_drops_oldest_and_counts(autojump_clock: trio.abc.Clock) -> None:
    stt = FakeSTT()
    stream = stt.stream()  # not started: nothing consumes input
    pushed = frames(12.0)  # 600 frames, capacity 500
    for f in pushed:
        stream.push_frame(f)
    assert stream.dropped_frames == 100
    async with stream:
        stream.end_input()
        await collect(stream)
    assert stt.frames_received[0].pts == pytest.approx(pushed[100].pts)  # oldest were dropped
    assert stt.frames_received[-1].pts == pytest.approx(pushed[-1].pts)


async def test_take_pending_input_after_close(autojump_clock: trio.abc.Clock) -> None:
    stream = FakeSTT().stream()
    pushed = frames(0.1)
    for f in pushed:
        stream.push_frame(f)
    await stream.aclose()
    assert stream.take_pending_input() == pushed
    assert stream.take_pending_input() == []


# -- batch recognize ------------------------------------------------------------------


async def test_recognize_merges_resamples_and_emits_metrics(autojump_clock: trio.abc.Clock) -> None:
    stt = FakeSTT(recognize_text="turn on the lights", recognize_delay=0.3)
    metrics: list[STTMetrics] = []
    stt.on("metrics_collected", metrics.append)
    event = await stt.recognize(frames(1.0, rate=8_000))
    assert event.type is SpeechEventType.FINAL_TRANSCRIPT
    assert event.text == "turn on the lights"
    (frame,) = stt.recognize_calls
    assert frame.sample_rate == 16_000
    assert frame.duration == pytest.approx(1.0, abs=0.01)
    (m,) = metrics
    assert m.duration == pytest.approx(0.3)
    assert m.audio_duration == pytest.approx(1.0, abs=0.01)
    assert not m.streamed and m.request_id == event.request_id


async def test_recognize_retries_then_succeeds(autojump_clock: trio.abc.Clock) -> None:
    stt = FakeSTT(recognize_text="ok", recognize_errors=[APITimeoutError()])
    event = await stt.recognize(frames(0.2), conn_options=FAST)
    assert event.text == "ok"
    assert len(stt.recognize_calls) == 2


async def test_recognize_timeout_is_api_timeout(autojump_clock: trio.abc.Clock) -> None:
    stt = FakeSTT(recognize_text="late", recognize_delay=5.0)
    metrics: list[STTMetrics] = []
    stt.on("metrics_collected", metrics.append)
    opts = APIConnectOptions(max_retry=1, timeout=1.0, retry_interval=0.5)
    with pytest.raises(APITimeoutError):
        await stt.recognize(frames(0.2), conn_options=opts)
    assert len(stt.recognize_calls) == 2
    assert metrics[-1].error is not None


async def test_recognize_4xx_not_retried(autojump_clock: trio.abc.Clock) -> None:
    stt = FakeSTT(recognize_errors=[APIStatusError("forbidden", status_code=403)] * 3)
    with pytest.raises(APIStatusError):
        await stt.recognize(frames(0.2), conn_options=FAST)
    assert len(stt.recognize_calls) == 1


async def test_batch_only_stt_stream_points_to_adapter() -> None:
    class Batch(STT):
        def __init__(self) -> None:
            super().__init__(capabilities=STTCapabilities(streaming=False, interim_results=False))

    with pytest.raises(NotImplementedError, match="StreamAdapter"):
        Batch().stream()


async def test_retry_budget_starts_over_after_a_final(autojump_clock: trio.abc.Clock) -> None:
    stt = FakeSTT(
        speeches=[FakeSpeech("hi", 0.35, 0.4, stt_delay=0.0)],
        interim_results=False,
        errors=[APIConnectionError("flaky"), APIConnectionError("flaky")],
        error_after=0.3,
    )
    async with stt.stream(conn_options=APIConnectOptions(max_retry=1)) as stream:
        for f in frames(1.0):
            stream.push_frame(f)
            await trio.sleep(0.02)
        stream.end_input()
        finals = [e.text async for e in stream if e.type is SpeechEventType.FINAL_TRANSCRIPT]
    # attempt 1 failed, attempt 2 produced a final then failed: with max_retry=1 that is
    # only allowed because the final restored the budget
    assert stt.stream_attempts == 3
    assert finals == ["hi"]


async def test_body_exception_is_not_wrapped_in_a_group(autojump_clock: trio.abc.Clock) -> None:
    with pytest.raises(KeyError):
        async with FakeSTT().stream():
            raise KeyError("user bug")
