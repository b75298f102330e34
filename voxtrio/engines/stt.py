"""Speech-to-text: the `STT` base class, its streaming form, and the events they produce.

    event = await stt.recognize(frames)                  # one utterance -> one SpeechEvent
    print(event.alternatives[0].text)

    async with stt.stream(language="en") as stream:      # live audio -> events
        stream.push_frame(frame)                         # sync, never blocks
        ...
        stream.end_input()
        async for event in stream:
            if event.type is SpeechEventType.FINAL_TRANSCRIPT:
                print(event.alternatives[0].text)

Adding an engine: subclass `STT`, pass `STTCapabilities`, implement `_recognize_impl`
(batch) and, for streaming engines, override `stream()` to return a `RecognizeStream`
subclass whose `_run()` reads `self._input` and sends events with `_send_event`.

Contract:
- `recognize()` merges and resamples the buffer to `stt.sample_rate`, runs one attempt
  under `conn_options.timeout` (an `APITimeoutError` when it expires), retries
  retryable `APIError`s up to `max_retry` times on trio's clock, and emits one
  `STTMetrics` per call through `stt.on("metrics_collected", ...)` (with `error` set
  when the call finally failed, then the error is raised and also emitted as "error").
- `stream()` must be entered (`async with`) or started (`await nursery.start(s.run)`)
  before it is iterated: the engine task needs an owner in trio (see `_audio_stream`).
  Inside the stream, retryable `APIError`s restart `_run()` (the budget starts over
  after each final transcript); after the last attempt the error is raised from
  `async for`. Every `RECOGNITION_USAGE` event produces one `STTMetrics(streamed=True)`.
- Engines without streaming raise `NotImplementedError` from `stream()`: wrap them in
  `StreamAdapter(stt, vad)`.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import TypeAlias

import attrs
import trio

from voxtrio.audio.frame import AudioFrame
from voxtrio.core.emitter import EventEmitter
from voxtrio.core.misc import shortuuid
from voxtrio.engines._audio_stream import FLUSH, AudioInputStream, Flush, StreamStatistics
from voxtrio.engines._emits import EmitsEvents
from voxtrio.engines.errors import (
    DEFAULT_API_CONNECT_OPTIONS,
    APIConnectOptions,
    APIError,
    APITimeoutError,
    unwrap_error,
)
from voxtrio.engines.metrics import STTMetrics

__all__ = [
    "FLUSH",
    "AudioBuffer",
    "Flush",
    "RecognitionUsage",
    "RecognizeStream",
    "STT",
    "STTCapabilities",
    "SpeechData",
    "SpeechEvent",
    "SpeechEventType",
    "StreamStatistics",
]

logger = logging.getLogger("voxtrio.stt")

AudioBuffer: TypeAlias = AudioFrame | Sequence[AudioFrame]


@enum.unique
class SpeechEventType(enum.StrEnum):
    START_OF_SPEECH = "start_of_speech"
    """The user started speaking (engines without it send it with the first interim)."""
    INTERIM_TRANSCRIPT = "interim_transcript"
    """A transcript that may still change."""
    FINAL_TRANSCRIPT = "final_transcript"
    """A transcript that will not change for its stretch of audio."""
    RECOGNITION_USAGE = "recognition_usage"
    """How much audio the engine billed/consumed (produces an `STTMetrics`)."""
    END_OF_SPEECH = "end_of_speech"
    """The user stopped speaking."""


@attrs.frozen(slots=True)
class SpeechData:
    """One transcript hypothesis; times are seconds from the stream's start."""

    language: str
    text: str
    start_time: float = 0.0
    end_time: float = 0.0
    confidence: float = 0.0  # in [0, 1]


@attrs.frozen(slots=True)
class RecognitionUsage:
    audio_duration: float


def _to_data_tuple(items: Iterable[SpeechData]) -> tuple[SpeechData, ...]:
    return tuple(items)


@attrs.frozen(slots=True)
class SpeechEvent:
    """What an STT heard. `alternatives` is best-first; `text` is the best one's text."""

    type: SpeechEventType
    request_id: str = ""
    alternatives: tuple[SpeechData, ...] = attrs.field(default=(), converter=_to_data_tuple)
    recognition_usage: RecognitionUsage | None = None

    @property
    def text(self) -> str:
        return self.alternatives[0].text if self.alternatives else ""


@attrs.frozen(slots=True)
class STTCapabilities:
    streaming: bool
    interim_results: bool


class STT(EmitsEvents):
    """Base class of speech-to-text engines (see the module docstring).

        class MySTT(STT):
            def __init__(self) -> None:
                super().__init__(capabilities=STTCapabilities(streaming=False,
                                 interim_results=False), sample_rate=16_000)

            async def _recognize_impl(self, frame, *, language, conn_options):
                with real_work():  # voxtrio.core.fast_clock: `voxtrio run --fast` waits
                    text = await trio.to_thread.run_sync(self._decode, frame.to_bytes())
                return SpeechEvent(SpeechEventType.FINAL_TRANSCRIPT,
                                   alternatives=[SpeechData(language or "en", text)])

    `sample_rate` is the rate the engine wants (None: whatever it is given); audio is
    resampled to it before it reaches `_recognize_impl` or a stream's `_run`.
    Events: "metrics_collected" (`STTMetrics`), "error" (the exception of a call that
    finally failed).
    """

    def __init__(
        self,
        *,
        capabilities: STTCapabilities,
        sample_rate: int | None = None,
        label: str | None = None,
    ) -> None:
        self._capabilities = capabilities
        self._sample_rate = sample_rate
        self._label = label or f"{type(self).__module__}.{type(self).__name__}"
        self._events = EventEmitter(valid_events=("metrics_collected", "error"))

    @property
    def label(self) -> str:
        return self._label

    @property
    def capabilities(self) -> STTCapabilities:
        return self._capabilities

    @property
    def sample_rate(self) -> int | None:
        """The sample rate the engine wants (None: any)."""
        return self._sample_rate

    async def recognize(
        self,
        buffer: AudioBuffer,
        *,
        language: str | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> SpeechEvent:
        """Transcribe one utterance (see the module docstring for retries and metrics)."""
        frame = prepare_buffer(buffer, self._sample_rate)
        retries = 0
        while True:
            started = trio.current_time()
            try:
                with trio.move_on_after(conn_options.timeout or float("inf")) as scope:
                    event = await self._recognize_impl(
                        frame, language=language, conn_options=conn_options
                    )
                if scope.cancelled_caught:
                    raise APITimeoutError(
                        f"{self._label} gave no transcript within {conn_options.timeout} s"
                    )
            except Exception as raised:
                exc = unwrap_error(raised)
                if not isinstance(exc, APIError):
                    raise exc from exc.__cause__
                if not exc.retryable or retries >= conn_options.max_retry:
                    if exc.retryable and conn_options.max_retry:
                        exc.add_note(f"gave up after {retries + 1} attempts")
                    self._emit_metrics(frame, trio.current_time() - started, "", exc)
                    self.emit("error", exc)
                    raise exc from exc.__cause__
                delay = conn_options.interval_for_retry(retries)
                retries += 1
                logger.warning(
                    "%s recognize failed (%s); retry %d of %d in %.2f s",
                    self._label, exc, retries, conn_options.max_retry, delay,
                )
                await trio.sleep(delay)
                continue
            self._emit_metrics(frame, trio.current_time() - started, event.request_id, None)
            return event

    def stream(
        self,
        *,
        language: str | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> RecognizeStream:
        """A live recognition stream; enter it with `async with` before use."""
        raise NotImplementedError(  # abstract: a streaming engine overrides stream()
            f"{self._label} does not stream: wrap it, e.g. StreamAdapter(stt, vad), "
            "to get a stream from a batch STT"
        )

    async def aclose(self) -> None:
        """Release the engine's resources (worker processes, connections)."""

    async def __aenter__(self) -> STT:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _recognize_impl(
        self, frame: AudioFrame, *, language: str | None, conn_options: APIConnectOptions
    ) -> SpeechEvent:
        """Transcribe `frame` (one merged frame at `self.sample_rate`); one attempt."""
        raise NotImplementedError(f"{self._label} does not implement batch recognition")  # abstract

    def _emit_metrics(
        self, frame: AudioFrame, duration: float, request_id: str, error: BaseException | None
    ) -> None:
        self.emit(
            "metrics_collected",
            STTMetrics(
                label=self._label,
                request_id=request_id,
                duration=duration,
                audio_duration=frame.duration,
                streamed=False,
                error=None if error is None else str(error),
            ),
        )


class RecognizeStream(AudioInputStream[SpeechEvent]):
    """A live recognition: frames in, `SpeechEvent`s out (see `_audio_stream` for the
    shared contract: owner, bounded input, rate checks, errors from the iterator).

        class MyStream(RecognizeStream):
            async def _run(self) -> None:
                async for item in self._input:
                    if isinstance(item, Flush):
                        await self._send_event(SpeechEvent(SpeechEventType.FINAL_TRANSCRIPT, ...))
                    else:
                        decoder.feed(item)

    `sample_rate` (default: the STT's) is the rate `_run` receives; frames pushed at
    another rate are resampled on the way in. `input_capacity` bounds the pending input
    (items, roughly 20 ms frames: 500 is 10 s), `event_capacity` the undelivered events.
    """

    def __init__(
        self,
        *,
        stt: STT,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        sample_rate: int | None = None,
        language: str | None = None,
        input_capacity: int = 500,
        event_capacity: int = 64,
    ) -> None:
        super().__init__(
            conn_options=conn_options,
            sample_rate=sample_rate if sample_rate is not None else stt.sample_rate,
            input_capacity=input_capacity,
            event_capacity=event_capacity,
        )
        self._stt = stt
        self._language = language
        self.request_id = shortuuid("stt_")

    @property
    def stt(self) -> STT:
        return self._stt

    @property
    def language(self) -> str | None:
        return self._language

    @property
    def conn_options(self) -> APIConnectOptions:
        return self._conn_options

    async def _send_event(self, event: SpeechEvent) -> None:
        if event.type is SpeechEventType.FINAL_TRANSCRIPT:
            self._reset_retries()
        elif event.type is SpeechEventType.RECOGNITION_USAGE:
            if event.recognition_usage is None:
                raise ValueError("a RECOGNITION_USAGE event must carry recognition_usage")
            self._stt.emit(
                "metrics_collected",
                STTMetrics(
                    label=self._stt.label,
                    request_id=event.request_id or self.request_id,
                    duration=trio.current_time() - self._started_at,
                    audio_duration=event.recognition_usage.audio_duration,
                    streamed=True,
                ),
            )
        await super()._send_event(event)

    def _fail(self, exc: BaseException) -> None:
        super()._fail(exc)
        self._stt.emit("error", exc)

    def _label(self) -> str:
        return f"{self._stt.label} stream"


def prepare_buffer(buffer: AudioBuffer, sample_rate: int | None) -> AudioFrame:
    """Merge `buffer` into one frame and resample it to `sample_rate` (None: keep)."""
    from voxtrio.audio.combine import combine_audio_frames

    frame = combine_audio_frames(buffer)
    if sample_rate is None or frame.sample_rate == sample_rate:
        return frame
    from voxtrio.audio.resample import AudioResampler

    resampler = AudioResampler(frame.sample_rate, sample_rate, frame.num_channels)
    out = resampler.push(frame) + resampler.flush()
    if not out:
        return AudioFrame.from_array(
            frame.data[:0].reshape(-1), sample_rate, frame.num_channels, frame.pts
        )
    return combine_audio_frames(out)

