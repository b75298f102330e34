"""StreamAdapter: a batch STT + a VAD behave as a streaming STT. Virtual time only."""

from __future__ import annotations

import numpy as np
import pytest
import trio

from voxtrio.audio.frame import AudioFrame
from voxtrio.engines.errors import APIConnectOptions, APIStatusError
from voxtrio.engines.fake import FakeSTT, FakeVAD, tone
from voxtrio.engines.metrics import STTMetrics
from voxtrio.engines.stream_adapter import StreamAdapter
from voxtrio.engines.stt import SpeechEvent, SpeechEventType
from voxtrio.engines.vad import VADOptions

RATE = 16_000


def speech_audio(pattern: list[tuple[str, float]]) -> list[AudioFrame]:
    """Frames of 20 ms: ("s", secs) of tone, ("-", secs) of silence, in order."""
    parts = [tone(300, round(secs * RATE), RATE) if kind == "s" else
             np.zeros(round(secs * RATE), np.int16) for kind, secs in pattern]
    audio = np.concatenate(parts)
    return [AudioFrame.from_array(c, RATE) for c in np.split(audio, len(audio) // 320)]


def make(**stt_kwargs: object) -> tuple[StreamAdapter, FakeSTT]:
    batch = FakeSTT(streaming=False, interim_results=False, **stt_kwargs)  # type: ignore[arg-type]
    vad = FakeVAD(options=VADOptions(min_silence_duration=0.3, prefix_padding_duration=0.1))
    return StreamAdapter(stt=batch, vad=vad), batch


async def run(adapter: StreamAdapter, frames: list[AudioFrame]) -> list[SpeechEvent]:
    async with adapter.stream() as stream:
        for f in frames:  # paced like a microphone
            stream.push_frame(f)
            await trio.sleep(f.duration)
        stream.end_input()
        return [e async for e in stream]


async def test_one_recognize_per_utterance(autojump_clock: trio.abc.Clock) -> None:
    texts = iter(["first utterance", "second one"])
    adapter, batch = make(recognize_text=lambda frame: next(texts))
    assert adapter.capabilities.streaming and not adapter.capabilities.interim_results
    events = await run(adapter, speech_audio([("-", 0.5), ("s", 1.0), ("-", 0.8),
                                              ("s", 0.6), ("-", 0.8)]))
    assert [(e.type, e.text) for e in events] == [
        (SpeechEventType.START_OF_SPEECH, ""),
        (SpeechEventType.END_OF_SPEECH, ""),
        (SpeechEventType.FINAL_TRANSCRIPT, "first utterance"),
        (SpeechEventType.START_OF_SPEECH, ""),
        (SpeechEventType.END_OF_SPEECH, ""),
        (SpeechEventType.FINAL_TRANSCRIPT, "second one"),
    ]
    assert len(batch.recognize_calls) == 2
    # each call got the utterance with its prefix padding and trailing silence
    first = batch.recognize_calls[0]
    assert first.duration == pytest.approx(0.1 + 1.0 + 0.3, abs=0.05)


async def test_empty_transcripts_are_skipped(autojump_clock: trio.abc.Clock) -> None:
    adapter, batch = make(recognize_text="   ")
    events = await run(adapter, speech_audio([("s", 0.5), ("-", 0.5)]))
    assert [e.type for e in events] == [SpeechEventType.START_OF_SPEECH,
                                        SpeechEventType.END_OF_SPEECH]
    assert len(batch.recognize_calls) == 1


async def test_flush_cuts_the_utterance(autojump_clock: trio.abc.Clock) -> None:
    adapter, batch = make(recognize_text="partial")
    async with adapter.stream() as stream:
        for f in speech_audio([("s", 0.5)]):
            stream.push_frame(f)
        stream.flush()
        with trio.fail_after(2):
            async for event in stream:
                if event.type is SpeechEventType.FINAL_TRANSCRIPT:
                    break
    assert event.text == "partial"


async def test_metrics_and_errors_forwarded(autojump_clock: trio.abc.Clock) -> None:
    adapter, batch = make(recognize_text="hello")
    metrics: list[STTMetrics] = []
    adapter.on("metrics_collected", metrics.append)
    await run(adapter, speech_audio([("s", 0.5), ("-", 0.5)]))
    assert len(metrics) == 1 and not metrics[0].streamed


async def test_recognize_failure_ends_stream_with_error(autojump_clock: trio.abc.Clock) -> None:
    adapter, batch = make(recognize_errors=[APIStatusError("denied", status_code=403)])
    errors: list[BaseException] = []
    adapter.on("error", errors.append)
    async with adapter.stream(conn_options=APIConnectOptions(max_retry=2)) as stream:
        for f in speech_audio([("s", 0.5), ("-", 0.5)]):
            stream.push_frame(f)
        stream.end_input()
        with pytest.raises(APIStatusError, match="denied"):
            async for _ in stream:
                pass
    assert len(batch.recognize_calls) == 1  # 4xx: not retried, and the stream not restarted
    assert len(errors) == 1  # reported once, not once per layer
