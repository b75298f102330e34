"""TTS interface: one-shot synthesis, sentence streaming, retries, metrics, the sentence
tokenizer. Virtual time only."""

from __future__ import annotations

import pytest
import trio

from voxtrio.engines.errors import APIConnectionError, APIConnectOptions, APIStatusError
from voxtrio.engines.fake import FakeTTS, FakeTTSResponse
from voxtrio.engines.metrics import TTSMetrics
from voxtrio.engines.tokenize import SentenceTokenizer, split_sentences
from voxtrio.engines.tts import SynthesizedAudio


def metrics_of(tts: FakeTTS) -> list[TTSMetrics]:
    got: list[TTSMetrics] = []
    tts.on("metrics_collected", got.append)
    return got


async def test_synthesize_streams_chunks_then_final_marker(autojump_clock: trio.abc.Clock) -> None:
    tts = FakeTTS(ttfb=0.25, audio_duration=0.45, chunk_duration=0.1, sample_rate=24_000)
    metrics = metrics_of(tts)
    async with tts.synthesize("Hello there.", speech_id="speech_1") as stream:
        items = [a async for a in stream]
    audio = [a for a in items if not a.is_final]
    assert [round(a.frame.duration, 3) for a in audio] == [0.1, 0.1, 0.1, 0.1, 0.05]
    assert [a.frame.pts for a in audio] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    assert items[-1].is_final and items[-1].frame.samples_per_channel == 0
    assert audio[0].delta_text == "Hello there." and audio[1].delta_text == ""
    assert {a.speech_id for a in items} == {"speech_1"}
    (m,) = metrics
    assert m.ttfb == pytest.approx(0.25)
    assert m.duration == pytest.approx(0.25)
    assert m.audio_duration == pytest.approx(0.45)
    assert m.characters_count == len("Hello there.")
    assert not m.streamed and not m.cancelled and m.speech_id == "speech_1"


async def test_ttfb_and_duration_with_slow_engine(autojump_clock: trio.abc.Clock) -> None:
    tts = FakeTTS(ttfb=0.1, audio_duration=1.0, chunk_duration=0.1, realtime_factor=0.5)
    metrics = metrics_of(tts)
    async with tts.synthesize("x") as stream:
        frame = await stream.collect()
    assert frame.duration == pytest.approx(1.0)
    assert metrics[0].ttfb == pytest.approx(0.1)
    assert metrics[0].duration == pytest.approx(0.1 + 0.9 * 0.5)


async def test_leaving_early_cancels_and_reports(autojump_clock: trio.abc.Clock) -> None:
    tts = FakeTTS(ttfb=0.1, audio_duration=5.0, realtime_factor=1.0)
    metrics = metrics_of(tts)
    async with tts.synthesize("a long answer") as stream:
        async for audio in stream:
            if audio.frame.pts >= 0.2:
                break
    assert trio.current_time() < 1.0
    (m,) = metrics
    assert m.cancelled and m.audio_duration == pytest.approx(0.3)


async def test_retry_before_audio_then_success(autojump_clock: trio.abc.Clock) -> None:
    tts = FakeTTS(errors=[APIConnectionError("reset")], audio_duration=0.2)
    async with tts.synthesize("hi", conn_options=APIConnectOptions(max_retry=2)) as stream:
        frame = await stream.collect()
    assert frame.duration == pytest.approx(0.2)
    assert tts.attempts == 2


async def test_error_after_audio_is_not_retried(autojump_clock: trio.abc.Clock) -> None:
    tts = FakeTTS(errors=[APIConnectionError("reset")], error_after_chunks=1, audio_duration=1)
    metrics = metrics_of(tts)
    async with tts.synthesize("hi") as stream:
        got: list[SynthesizedAudio] = []
        with pytest.raises(APIConnectionError):
            async for audio in stream:
                got.append(audio)
    assert len(got) == 1 and tts.attempts == 1
    assert metrics[0].error is not None and not metrics[0].cancelled


async def test_non_retryable_status_fails_at_once(autojump_clock: trio.abc.Clock) -> None:
    tts = FakeTTS(errors=[APIStatusError("no voice", status_code=422)] * 3)
    async with tts.synthesize("hi") as stream:
        with pytest.raises(APIStatusError, match="no voice"):
            await stream.collect()
    assert tts.attempts == 1


async def test_timeout_bounds_time_to_first_audio(autojump_clock: trio.abc.Clock) -> None:
    tts = FakeTTS(ttfb=3.0)
    opts = APIConnectOptions(max_retry=0, timeout=1.0)
    async with tts.synthesize("hi", conn_options=opts) as stream:
        with pytest.raises(APIConnectionError, match="no audio within 1.0 s"):
            await stream.collect()
    assert trio.current_time() == pytest.approx(1.0)


async def test_stream_speaks_sentence_by_sentence(autojump_clock: trio.abc.Clock) -> None:
    tts = FakeTTS(ttfb=0.1, seconds_per_char=0.01)
    metrics = metrics_of(tts)
    first_audio_at = None
    async with tts.stream(speech_id="s1") as stream:
        stream.push_text("Hello there, how are")
        stream.push_text(" you today? I am")
        await trio.sleep(1.0)  # the LLM is slow: the first sentence must not wait for it
        assert tts.synthesized == ["Hello there, how are you today?"]
        stream.push_text(" fine, thanks for asking.")
        stream.end_input()
        items = []
        async for audio in stream:
            if first_audio_at is None:
                first_audio_at = trio.current_time()
            items.append(audio)
    assert tts.synthesized == ["Hello there, how are you today?", "I am fine, thanks for asking."]
    deltas = [a.delta_text for a in items if a.delta_text]
    assert deltas == tts.synthesized
    assert [a.is_final for a in items].count(True) == 1 and items[-1].is_final
    (m,) = metrics
    assert m.streamed and m.speech_id == "s1"
    assert m.ttfb == pytest.approx(0.1)
    assert m.characters_count == sum(len(s) for s in tts.synthesized)
    assert m.audio_duration == pytest.approx(0.01 * m.characters_count)


async def test_stream_flush_makes_segments(autojump_clock: trio.abc.Clock) -> None:
    tts = FakeTTS(seconds_per_char=0.01)
    metrics = metrics_of(tts)
    async with tts.stream() as stream:
        stream.push_text("First part")
        stream.flush()
        stream.push_text("Second part")
        stream.end_input()
        items = [a async for a in stream]
    finals = [a for a in items if a.is_final]
    assert len(finals) == 2 and finals[0].segment_id != finals[1].segment_id
    assert [m.segment_id for m in metrics] == [f.segment_id for f in finals]
    assert tts.synthesized == ["First part", "Second part"]


async def test_stream_input_contract(autojump_clock: trio.abc.Clock) -> None:
    tts = FakeTTS()
    async with tts.stream() as stream:
        stream.end_input()
        with pytest.raises(RuntimeError, match=r"SynthesizeStream input ended"):
            stream.push_text("late")
    with pytest.raises(RuntimeError, match="is closed"):
        stream.push_text("later")


async def test_push_text_when_full_says_to_await(autojump_clock: trio.abc.Clock) -> None:
    from voxtrio.engines.tts import SynthesizeStream

    stream = SynthesizeStream(FakeTTS(), text_capacity=2)
    stream.push_text("a")
    stream.push_text("b")
    with pytest.raises(RuntimeError, match="send_text"):
        stream.push_text("c")


async def test_per_text_responses(autojump_clock: trio.abc.Clock) -> None:
    tts = FakeTTS(responses={"yes": FakeTTSResponse(audio_duration=0.3, ttfb=0.5)})
    metrics = metrics_of(tts)
    async with tts.synthesize("yes") as stream:
        frame = await stream.collect()
    assert frame.duration == pytest.approx(0.3)
    assert metrics[0].ttfb == pytest.approx(0.5)


# -- sentence tokenizer -------------------------------------------------------------


def test_split_sentences_handles_abbreviations_and_numbers() -> None:
    text = "Hello there, Dr. Smith. It is 3.5 degrees outside! Is it? e.g. this one. Bye"
    assert split_sentences(text) == [
        "Hello there, Dr. Smith.",
        "It is 3.5 degrees outside!",
        "Is it?",
        "e.g. this one.",
        "Bye",
    ]


def test_short_sentences_are_joined() -> None:
    assert SentenceTokenizer(min_sentence_len=20).tokenize("Hi. I am Ana. Nice to meet you.") == [
        "Hi. I am Ana. Nice to meet you.",
    ]
    assert SentenceTokenizer(min_sentence_len=8).tokenize("Hi. I am Ana. Nice to meet you.") == [
        "Hi. I am Ana.",
        "Nice to meet you.",
    ]


def test_streamed_split_waits_for_whitespace() -> None:
    stream = SentenceTokenizer(min_sentence_len=0).stream()
    assert stream.push("It costs 3.") == []
    assert stream.push("5 euros. Then") == ["It costs 3.5 euros."]
    assert stream.push(" more\n\nNew paragraph") == ["Then more"]
    assert stream.flush() == ["New paragraph"]
    assert stream.flush() == []


@pytest.mark.parametrize("cuts", [1, 2, 3, 5, 7, 11])
def test_streamed_split_equals_whole_split(cuts: int) -> None:
    text = "Mr. Brown arrived at 9.30 today. He said: \"Hello!\" Then he left... Fine? Yes."
    tokenizer = SentenceTokenizer(min_sentence_len=10)
    stream = tokenizer.stream()
    out: list[str] = []
    step = max(1, len(text) // cuts)
    for i in range(0, len(text), step):
        out += stream.push(text[i : i + step])
    out += stream.flush()
    assert out == tokenizer.tokenize(text)
    assert " ".join(out) == " ".join(text.split())


async def test_body_exception_is_not_wrapped_in_a_group(autojump_clock: trio.abc.Clock) -> None:
    with pytest.raises(KeyError):
        async with FakeTTS().synthesize("hi"):
            raise KeyError("user bug")


async def test_stream_failure_surfaces_plain_error(autojump_clock: trio.abc.Clock) -> None:
    tts = FakeTTS(errors=[APIStatusError("no voice", status_code=422)])
    errors: list[BaseException] = []
    tts.on("error", errors.append)
    async with tts.stream() as stream:
        stream.push_text("Hello there. How are you?")
        stream.end_input()
        with pytest.raises(APIStatusError, match="no voice"):
            async for _ in stream:
                pass
    assert len(errors) == 1 and isinstance(errors[0], APIStatusError)
