"""Scripted engines on trio's clock, for tests of everything above the engines.

    stt = FakeSTT(speeches=[FakeSpeech("book a table", start_time=0.5, end_time=1.7)])
    vad = FakeVAD()                                 # energy threshold, fast
    tts = FakeTTS(ttfb=0.2, seconds_per_char=0.05)  # a 440 Hz tone of the text's length

All waiting is `trio.sleep`, so under `autojump_clock` a 30-second conversation runs in
milliseconds and always the same way. Failure injection: `errors=[...]` makes attempt
n (stream attempt, recognize call, synthesis) raise `errors[n]`; `None` entries mean
"this attempt succeeds". The fakes record what they received (`frames_received`,
`recognize_calls`, `synthesized`, `stream_attempts`) for assertions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import attrs
import numpy as np
import numpy.typing as npt
import trio

from voxtrio.audio.frame import AudioFrame
from voxtrio.core.misc import shortuuid
from voxtrio.engines.errors import APIConnectOptions
from voxtrio.engines.stt import (
    STT,
    Flush,
    RecognitionUsage,
    RecognizeStream,
    SpeechData,
    SpeechEvent,
    SpeechEventType,
    STTCapabilities,
)
from voxtrio.engines.tts import TTS, AudioOutput
from voxtrio.engines.vad import VAD, VADOptions

__all__ = [
    "FakeSTT",
    "FakeSTTStream",
    "FakeSpeech",
    "FakeTTS",
    "FakeTTSResponse",
    "FakeVAD",
    "ScriptedVAD",
    "tone",
]

_DEFAULT_OPTIONS = APIConnectOptions()


@attrs.frozen(slots=True)
class FakeSpeech:
    """One scripted utterance: `text` spoken from `start_time` to `end_time` (seconds of
    audio from the stream's first frame); its final transcript comes `stt_delay`
    seconds (trio time) after the audio reached `end_time`, an interim with its first
    two words at half that delay."""

    text: str
    start_time: float
    end_time: float
    stt_delay: float = 0.2
    language: str = "en"
    confidence: float = 1.0


class FakeSTT(STT):
    """A scripted STT, streaming (`stream()`) and batch (`recognize()`).

    Streams: the script runs on the audio clock (seconds of audio consumed so far, kept
    across retries): START_OF_SPEECH when the audio reaches a speech's start, END_OF_SPEECH
    at its end, then (on trio's clock) INTERIM, FINAL and RECOGNITION_USAGE.
    `flush()` ends a speech in progress early. With `errors`, attempt n raises
    `errors[n]` once `error_after` seconds of audio were consumed in that attempt.

    Batch: `recognize()` waits `recognize_delay` and returns `recognize_text` (a string,
    or a function of the audio frame); `recognize_errors[n]` fails call n.
    """

    def __init__(
        self,
        *,
        speeches: Sequence[FakeSpeech] = (),
        streaming: bool = True,
        interim_results: bool = True,
        sample_rate: int | None = 16_000,
        errors: Sequence[BaseException | None] = (),
        error_after: float = 0.0,
        recognize_text: str | Callable[[AudioFrame], str] = "",
        recognize_delay: float = 0.1,
        recognize_errors: Sequence[BaseException | None] = (),
        label: str = "fake_stt",
    ) -> None:
        super().__init__(
            capabilities=STTCapabilities(streaming=streaming, interim_results=interim_results),
            sample_rate=sample_rate,
            label=label,
        )
        self.speeches = list(speeches)
        self.errors = list(errors)
        self.error_after = error_after
        self.recognize_text = recognize_text
        self.recognize_delay = recognize_delay
        self.recognize_errors = list(recognize_errors)
        self.stream_attempts = 0
        self.streams_opened = 0
        self.frames_received: list[AudioFrame] = []
        self.recognize_calls: list[AudioFrame] = []

    def stream(
        self,
        *,
        language: str | None = None,
        conn_options: APIConnectOptions = _DEFAULT_OPTIONS,
    ) -> FakeSTTStream:
        if not self.capabilities.streaming:
            return super().stream(language=language, conn_options=conn_options)  # type: ignore[return-value]
        self.streams_opened += 1
        return FakeSTTStream(stt=self, conn_options=conn_options, language=language)

    async def _recognize_impl(
        self, frame: AudioFrame, *, language: str | None, conn_options: APIConnectOptions
    ) -> SpeechEvent:
        call = len(self.recognize_calls)
        self.recognize_calls.append(frame)
        await trio.sleep(self.recognize_delay)
        if call < len(self.recognize_errors) and self.recognize_errors[call] is not None:
            raise self.recognize_errors[call]  # type: ignore[misc]
        text = self.recognize_text(frame) if callable(self.recognize_text) else self.recognize_text
        return SpeechEvent(
            SpeechEventType.FINAL_TRANSCRIPT,
            request_id=shortuuid("req_"),
            alternatives=[SpeechData(language or "en", text, 0.0, frame.duration, 1.0)],
        )


class FakeSTTStream(RecognizeStream):
    """The stream of `FakeSTT` (see there)."""

    def __init__(self, *, stt: FakeSTT, conn_options: APIConnectOptions, language: str | None):
        super().__init__(stt=stt, conn_options=conn_options, language=language)
        self._fake = stt
        self._position = 0.0  # seconds of audio consumed, across attempts
        self._next = 0  # index of the next speech not yet finished
        self._started_speech = False
        self._last_done: trio.Event | None = None

    async def _run(self) -> None:
        fake = self._fake
        attempt = fake.stream_attempts
        fake.stream_attempts += 1
        error = fake.errors[attempt] if attempt < len(fake.errors) else None
        consumed = 0.0
        async with trio.open_nursery() as nursery:
            if error is not None and fake.error_after <= 0:
                raise error
            async for item in self._input:
                if isinstance(item, Flush):
                    if self._started_speech:
                        await self._end_speech(nursery)
                    continue
                fake.frames_received.append(item)
                self._position += item.duration
                consumed += item.duration
                await self._advance(nursery)
                if error is not None and consumed >= fake.error_after - 1e-9:
                    raise error

    async def _advance(self, nursery: trio.Nursery) -> None:
        speeches = self._fake.speeches
        while self._next < len(speeches):
            speech = speeches[self._next]
            if not self._started_speech:
                if self._position < speech.start_time - 1e-9:
                    return
                self._started_speech = True
                await self._send_event(SpeechEvent(SpeechEventType.START_OF_SPEECH))
            if self._position < speech.end_time - 1e-9:
                return
            await self._end_speech(nursery)

    async def _end_speech(self, nursery: trio.Nursery) -> None:
        speech = self._fake.speeches[self._next]
        self._next += 1
        self._started_speech = False
        await self._send_event(SpeechEvent(SpeechEventType.END_OF_SPEECH))
        # Transcripts come out in speech order even when audio arrives faster than real time.
        previous, self._last_done = self._last_done, trio.Event()
        nursery.start_soon(self._transcribe, speech, previous, self._last_done)

    async def _transcribe(
        self, speech: FakeSpeech, previous: trio.Event | None, done: trio.Event
    ) -> None:
        try:
            if previous is not None:
                await previous.wait()
            await self._transcribe_one(speech)
        finally:
            done.set()

    async def _transcribe_one(self, speech: FakeSpeech) -> None:
        request_id = shortuuid("req_")
        language = self.language or speech.language

        def data(text: str) -> list[SpeechData]:
            return [SpeechData(language, text, speech.start_time, speech.end_time, speech.confidence)]

        if self._fake.capabilities.interim_results:
            await trio.sleep(speech.stt_delay / 2)
            first_words = " ".join(speech.text.split()[:2])
            await self._send_event(
                SpeechEvent(SpeechEventType.INTERIM_TRANSCRIPT, request_id, data(first_words))
            )
            await trio.sleep(speech.stt_delay / 2)
        else:
            await trio.sleep(speech.stt_delay)
        await self._send_event(
            SpeechEvent(SpeechEventType.FINAL_TRANSCRIPT, request_id, data(speech.text))
        )
        await self._send_event(
            SpeechEvent(
                SpeechEventType.RECOGNITION_USAGE,
                request_id,
                recognition_usage=RecognitionUsage(speech.end_time - speech.start_time),
            )
        )


class FakeVAD(VAD):
    """Energy VAD: a window is speech when its RMS is at least `threshold` (full scale 1).

    Fast and exact on synthetic audio (tones vs silence); 20 ms windows at 16 kHz.
    """

    def __init__(
        self,
        *,
        threshold: float = 0.02,
        sample_rate: int = 16_000,
        window_size: int = 320,
        options: VADOptions | None = None,
        label: str = "fake_vad",
    ) -> None:
        super().__init__(
            sample_rate=sample_rate, window_size=window_size, options=options, label=label
        )
        self.threshold = threshold

    async def probability(self, window: npt.NDArray[np.float32]) -> float:
        rms = float(np.sqrt(np.mean(np.square(window, dtype=np.float64))))
        return 1.0 if rms >= self.threshold else 0.0


class ScriptedVAD(VAD):
    """Returns the given probabilities, one per window, then `after` (state machine tests)."""

    def __init__(
        self,
        probabilities: Sequence[float],
        *,
        after: float = 0.0,
        sample_rate: int = 16_000,
        window_size: int = 512,
        options: VADOptions | None = None,
        inference_delay: float = 0.0,
    ) -> None:
        super().__init__(
            sample_rate=sample_rate, window_size=window_size, options=options, label="scripted_vad"
        )
        self._probabilities = list(probabilities)
        self._after = after
        self._inference_delay = inference_delay
        self.windows_scored = 0

    async def probability(self, window: npt.NDArray[np.float32]) -> float:
        index = self.windows_scored
        self.windows_scored += 1
        if self._inference_delay:
            await trio.sleep(self._inference_delay)
        return self._probabilities[index] if index < len(self._probabilities) else self._after


@attrs.frozen(slots=True)
class FakeTTSResponse:
    """Per-text override of `FakeTTS` timings (None: the FakeTTS default)."""

    audio_duration: float | None = None
    ttfb: float | None = None


class FakeTTS(TTS):
    """Synthesizes a tone whose length follows the text.

    Audio: `audio_duration` seconds (default `seconds_per_char * len(text)`) of a
    `frequency` Hz tone in `chunk_duration` chunks; the first chunk comes after `ttfb`
    seconds, each further one after `chunk_duration * realtime_factor` (0: at once).
    `responses` overrides timings per exact text. `errors[n]` fails synthesis attempt n,
    after `error_after_chunks` chunks (0: before any audio).
    """

    def __init__(
        self,
        *,
        sample_rate: int = 24_000,
        ttfb: float = 0.1,
        audio_duration: float | None = None,
        seconds_per_char: float = 0.05,
        chunk_duration: float = 0.1,
        realtime_factor: float = 0.0,
        frequency: float = 440.0,
        responses: Mapping[str, FakeTTSResponse] | None = None,
        errors: Sequence[BaseException | None] = (),
        error_after_chunks: int = 0,
        label: str = "fake_tts",
    ) -> None:
        super().__init__(sample_rate=sample_rate, label=label)
        self.ttfb = ttfb
        self.audio_duration = audio_duration
        self.seconds_per_char = seconds_per_char
        self.chunk_duration = chunk_duration
        self.realtime_factor = realtime_factor
        self.frequency = frequency
        self.responses = dict(responses or {})
        self.errors = list(errors)
        self.error_after_chunks = error_after_chunks
        self.synthesized: list[str] = []
        self.attempts = 0

    def duration_for(self, text: str) -> float:
        """Seconds of audio this fake makes for `text`."""
        response = self.responses.get(text)
        if response is not None and response.audio_duration is not None:
            return response.audio_duration
        if self.audio_duration is not None:
            return self.audio_duration
        return self.seconds_per_char * len(text)

    async def _synthesize_impl(
        self, text: str, output: AudioOutput, *, conn_options: APIConnectOptions
    ) -> None:
        attempt = self.attempts
        self.attempts += 1
        self.synthesized.append(text)
        error = self.errors[attempt] if attempt < len(self.errors) else None
        response = self.responses.get(text)
        ttfb = response.ttfb if response is not None and response.ttfb is not None else self.ttfb
        if error is not None and self.error_after_chunks <= 0:
            raise error
        await trio.sleep(ttfb)
        total = round(self.duration_for(text) * self.sample_rate)
        chunk = max(1, round(self.chunk_duration * self.sample_rate))
        done = 0
        chunks = 0
        while done < total:
            n = min(chunk, total - done)
            samples = tone(self.frequency, n, self.sample_rate, offset=done)
            await output.push(AudioFrame.from_array(samples, self.sample_rate))
            done += n
            chunks += 1
            if error is not None and chunks >= self.error_after_chunks:
                raise error
            if done < total and self.realtime_factor:
                await trio.sleep(n / self.sample_rate * self.realtime_factor)


def tone(
    frequency: float, samples: int, sample_rate: int, *, amplitude: float = 0.3, offset: int = 0
) -> npt.NDArray[np.int16]:
    """`samples` int16 samples of a sine; `offset` continues the phase of a longer tone."""
    t = (np.arange(samples) + offset) / sample_rate
    return (np.sin(2 * np.pi * frequency * t) * amplitude * 32767).astype(np.int16)
