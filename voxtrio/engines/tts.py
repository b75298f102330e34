"""Text-to-speech: the `TTS` base class, one-shot synthesis and sentence-by-sentence streaming.

    async with tts.synthesize("Hello there.") as stream:       # one text -> audio
        async for audio in stream:                              # SynthesizedAudio
            play(audio.frame)

    async with tts.stream() as stream:                          # text deltas -> audio
        stream.push_text("Hello the")                           # e.g. from an LLM
        stream.push_text("re. How are you?")
        stream.end_input()
        async for audio in stream:
            play(audio.frame)

Adding an engine: subclass `TTS` and implement `_synthesize_impl(text, output,
conn_options=...)`, calling `await output.push(frame)` for each chunk of audio as soon
as it exists (the earlier the first chunk, the better the time to first byte).

Contract:
- Both forms are async context managers that own the engine task (trio needs an owner);
  leaving the block early cancels the synthesis and records it as `cancelled`.
- Frames come out at the engine's `sample_rate` with continuous `pts` from 0 per request.
  The last item of each segment has `is_final=True` and an EMPTY frame (0 samples), so
  the final marker never delays audio; `delta_text` is set on a sentence's first frame.
- Retries: a retryable `APIError` raised before any audio of the attempt was produced is
  retried per `APIConnectOptions` (an attempt with no audio after `timeout` seconds
  fails with `APITimeoutError`); after audio has been handed out a retry would repeat
  it, so the error surfaces from the iterator instead.
- Metrics: one `TTSMetrics` per request (`synthesize`) or per segment (`stream`, where
  segments are separated by `flush()`), emitted through `tts.on("metrics_collected")`
  when it ends, also when cancelled or failed. `ttfb` measures the engine: from the
  request (for streams: the moment the segment's first complete sentence is handed to
  the engine, so time spent waiting for the LLM's text is not counted) to the first
  audio produced. `duration` runs from the segment's first text.
- Streams buffer text in a bounded mailbox: `push_text` (sync) raises `RuntimeError`
  when `text_capacity` pushes are pending; `await send_text(...)` waits instead.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any

import attrs
import numpy as np
import trio

from voxtrio.audio.frame import AudioFrame
from voxtrio.core.emitter import EventEmitter
from voxtrio.core.mailbox import MailboxReceiver, MailboxSender, open_mailbox
from voxtrio.core.misc import shortuuid
from voxtrio.engines._emits import EmitsEvents
from voxtrio.engines.errors import (
    DEFAULT_API_CONNECT_OPTIONS,
    APIConnectOptions,
    APIError,
    APITimeoutError,
    unwrap_error,
)
from voxtrio.engines.metrics import TTSMetrics
from voxtrio.engines.tokenize import SentenceTokenizer

__all__ = [
    "TTS",
    "AudioOutput",
    "ChunkedStream",
    "SynthesizeStream",
    "SynthesizedAudio",
    "TTSCapabilities",
]

logger = logging.getLogger("voxtrio.tts")


@attrs.frozen(slots=True)
class TTSCapabilities:
    streaming: bool = False  # True: the engine takes text deltas natively


@attrs.frozen(slots=True, kw_only=True)
class SynthesizedAudio:
    """One chunk of synthesized audio (or, with `is_final`, the end of a segment)."""

    frame: AudioFrame
    request_id: str
    segment_id: str = ""
    is_final: bool = False
    delta_text: str = ""
    speech_id: str | None = None


class TTS(EmitsEvents):
    """Base class of TTS engines (see the module docstring).

        class ToneTTS(TTS):
            def __init__(self) -> None:
                super().__init__(sample_rate=24_000)

            async def _synthesize_impl(self, text, output, *, conn_options):
                await output.push(AudioFrame.from_array(tone(len(text)), 24_000))

    Events: "metrics_collected" (`TTSMetrics`), "error" (a request that finally failed).
    """

    def __init__(
        self,
        *,
        sample_rate: int,
        num_channels: int = 1,
        capabilities: TTSCapabilities | None = None,
        label: str | None = None,
    ) -> None:
        self._sample_rate = sample_rate
        self._num_channels = num_channels
        self._capabilities = capabilities or TTSCapabilities()
        self._label = label or f"{type(self).__module__}.{type(self).__name__}"
        self._events = EventEmitter(valid_events=("metrics_collected", "error"))

    @property
    def label(self) -> str:
        return self._label

    @property
    def sample_rate(self) -> int:
        return self._sample_rate

    @property
    def num_channels(self) -> int:
        return self._num_channels

    @property
    def capabilities(self) -> TTSCapabilities:
        return self._capabilities

    def synthesize(
        self,
        text: str,
        *,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        speech_id: str | None = None,
        turn_id: str | None = None,
    ) -> ChunkedStream:
        """Audio for `text`; use as `async with tts.synthesize(text) as stream:`."""
        return ChunkedStream(
            self, text, conn_options=conn_options, speech_id=speech_id, turn_id=turn_id
        )

    def stream(
        self,
        *,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        speech_id: str | None = None,
        turn_id: str | None = None,
        tokenizer: SentenceTokenizer | None = None,
    ) -> SynthesizeStream:
        """Audio for streamed text, sentence by sentence; use with `async with`."""
        return SynthesizeStream(
            self,
            conn_options=conn_options,
            speech_id=speech_id,
            turn_id=turn_id,
            tokenizer=tokenizer,
        )

    async def aclose(self) -> None:
        """Release the engine's resources."""

    async def _synthesize_impl(
        self, text: str, output: AudioOutput, *, conn_options: APIConnectOptions
    ) -> None:
        """Synthesize `text`, pushing each chunk with `await output.push(frame)`."""
        raise NotImplementedError(f"{self._label} must implement _synthesize_impl")  # abstract


class AudioOutput:
    """Where an engine pushes audio for one attempt (given to `_synthesize_impl`)."""

    def __init__(self, push: Callable[[AudioFrame], Any], on_first: Callable[[], None]) -> None:
        self._push = push
        self._on_first = on_first
        self.frames_pushed = 0

    async def push(self, frame: AudioFrame) -> None:
        """Hand one chunk of audio on (waits while the consumer is behind)."""
        if frame.samples_per_channel == 0:
            return
        if self.frames_pushed == 0:
            self._on_first()
        self.frames_pushed += 1
        await self._push(frame)


class _Synthesis:
    """Shared by both stream kinds: owner nursery, bounded output, errors, metrics."""

    def __init__(
        self,
        tts: TTS,
        *,
        conn_options: APIConnectOptions,
        speech_id: str | None,
        turn_id: str | None,
        capacity: int,
    ) -> None:
        self._tts = tts
        self._conn_options = conn_options
        self.speech_id = speech_id
        self.turn_id = turn_id
        self.request_id = shortuuid("tts_")
        self._out_tx: MailboxSender[SynthesizedAudio]
        self._out_rx: MailboxReceiver[SynthesizedAudio]
        self._out_tx, self._out_rx = open_mailbox(capacity)
        self._error: BaseException | None = None
        self._nursery_cm: Any = None
        self._entered = False
        self._closed = False
        self._scope = trio.CancelScope()
        self._pts = 0.0  # running presentation time of the request's audio

    @property
    def tts(self) -> TTS:
        return self._tts

    async def __aenter__(self) -> Any:
        if self._entered:
            raise RuntimeError(f"{self._name()} can be entered once")
        self._entered = True
        cm = trio.open_nursery()
        nursery = await cm.__aenter__()
        try:
            nursery.start_soon(self._main_wrapper)
        except BaseException:
            if not await cm.__aexit__(*sys.exc_info()):
                raise
        self._nursery_cm = cm
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        cm, self._nursery_cm = self._nursery_cm, None
        self._close()  # sync: nothing may stop us from exiting the nursery below
        if cm is not None:
            # The producer never raises (its failure goes to the iterator): keep the
            # body's exception as it is rather than wrapped in an ExceptionGroup.
            await cm.__aexit__(None, None, None)
        return None

    async def aclose(self) -> None:
        """Stop the synthesis at once (idempotent)."""
        self._close()
        await trio.lowlevel.checkpoint()

    def _close(self) -> None:
        self._closed = True
        self._scope.cancel()
        self._out_rx.close()

    def __aiter__(self) -> AsyncIterator[SynthesizedAudio]:
        return self

    async def __anext__(self) -> SynthesizedAudio:
        if not self._entered:
            raise RuntimeError(f"{self._name()} is not running: use `async with` first")
        try:
            return await self._out_rx.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError):
            if self._error is not None and not self._closed:
                error, self._error = self._error, None
                raise error from None
            raise StopAsyncIteration from None

    async def collect(self) -> AudioFrame:
        """Read the rest of the stream and return its audio as one frame."""
        from voxtrio.audio.combine import combine_audio_frames

        frames = [a.frame async for a in self if a.frame.samples_per_channel]
        if not frames:
            return AudioFrame.from_array(
                np.zeros(0, np.int16), self._tts.sample_rate, self._tts.num_channels
            )
        return combine_audio_frames(frames)

    async def _main_wrapper(self) -> None:
        try:
            with self._scope:
                await self._main()
        except Exception as exc:
            error = unwrap_error(exc)
            self._error = error
            self._tts.emit("error", error)
        finally:
            self._out_tx.close()

    async def _main(self) -> None:
        raise NotImplementedError  # abstract

    async def _send(self, audio: SynthesizedAudio) -> None:
        try:
            await self._out_tx.send(audio)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            await trio.sleep_forever()  # aclose() cancels us right away

    async def _synthesize_text(
        self, text: str, segment_id: str, on_first_audio: Callable[[], None]
    ) -> float:
        """Synthesize `text` with retries; return seconds of audio produced."""
        opts = self._conn_options
        retries = 0
        produced = 0.0
        delta = text

        async def push(frame: AudioFrame) -> None:
            nonlocal produced, delta
            frame = frame.with_pts(self._pts)
            self._pts += frame.duration
            produced += frame.duration
            audio = SynthesizedAudio(
                frame=frame,
                request_id=self.request_id,
                segment_id=segment_id,
                delta_text=delta,
                speech_id=self.speech_id,
            )
            delta = ""
            await self._send(audio)

        while True:
            timer = trio.CancelScope()

            def first(timer: trio.CancelScope = timer) -> None:
                on_first_audio()
                timer.deadline = float("inf")  # the timeout bounds time to first audio only

            output = AudioOutput(push, first)
            try:
                with timer:
                    if opts.timeout:
                        timer.deadline = trio.current_time() + opts.timeout
                    await self._tts._synthesize_impl(text, output, conn_options=opts)
                if timer.cancelled_caught:
                    raise APITimeoutError(
                        f"{self._tts.label} produced no audio within {opts.timeout} s"
                    )
                return produced
            except Exception as raised:
                exc = unwrap_error(raised)
                if not isinstance(exc, APIError):
                    raise exc from exc.__cause__
                if output.frames_pushed or not exc.retryable or retries >= opts.max_retry:
                    if exc.retryable and opts.max_retry and not output.frames_pushed:
                        exc.add_note(f"gave up after {retries + 1} attempts")
                    raise exc from exc.__cause__
                delay = opts.interval_for_retry(retries)
                retries += 1
                logger.warning(
                    "%s synthesis failed (%s); retry %d of %d in %.2f s",
                    self._tts.label, exc, retries, opts.max_retry, delay,
                )
                await trio.sleep(delay)

    async def _final_marker(self, segment_id: str) -> None:
        empty = AudioFrame.from_array(
            np.zeros(0, np.int16), self._tts.sample_rate, self._tts.num_channels, self._pts
        )
        await self._send(
            SynthesizedAudio(
                frame=empty,
                request_id=self.request_id,
                segment_id=segment_id,
                is_final=True,
                speech_id=self.speech_id,
            )
        )

    def _emit_metrics(
        self,
        *,
        segment_id: str,
        started: float,
        first_audio: float | None,
        audio_duration: float,
        characters: int,
        cancelled: bool,
        streamed: bool,
        error: BaseException | None,
        requested: float | None = None,
    ) -> None:
        now = trio.current_time()
        # ttfb measures the engine: from the moment it was asked for audio (for a
        # stream, when the segment's first sentence was complete) to its first audio.
        asked = started if requested is None else requested
        self._tts.emit(
            "metrics_collected",
            TTSMetrics(
                label=self._tts.label,
                request_id=self.request_id,
                segment_id=segment_id,
                ttfb=-1.0 if first_audio is None else first_audio - asked,
                duration=now - started,
                audio_duration=audio_duration,
                cancelled=cancelled,
                characters_count=characters,
                streamed=streamed,
                error=None if error is None else str(error),
                speech_id=self.speech_id,
                turn_id=self.turn_id,
            ),
        )

    def _name(self) -> str:
        cls = type(self)
        return f"{cls.__module__}.{cls.__qualname__}"


class ChunkedStream(_Synthesis):
    """The audio of one text (`tts.synthesize(text)`); see the module docstring."""

    def __init__(
        self,
        tts: TTS,
        text: str,
        *,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        speech_id: str | None = None,
        turn_id: str | None = None,
        capacity: int = 32,
    ) -> None:
        super().__init__(
            tts, conn_options=conn_options, speech_id=speech_id, turn_id=turn_id, capacity=capacity
        )
        self.text = text

    async def __aenter__(self) -> ChunkedStream:
        await super().__aenter__()
        return self

    async def _main(self) -> None:
        started = trio.current_time()
        first_audio: float | None = None
        produced = 0.0
        error: BaseException | None = None
        finished = False

        def on_first() -> None:
            nonlocal first_audio
            first_audio = trio.current_time()

        try:
            produced = await self._synthesize_text(self.text, self.request_id, on_first)
            await self._final_marker(self.request_id)
            finished = True
        except Exception as exc:
            error = exc
            raise
        finally:
            self._emit_metrics(
                segment_id=self.request_id,
                started=started,
                first_audio=first_audio,
                audio_duration=produced if finished else self._pts,
                characters=len(self.text),
                cancelled=not finished and error is None,
                streamed=False,
                error=error,
            )


@attrs.frozen(slots=True)
class _Sentence:
    text: str
    segment_id: str
    segment_started: float


@attrs.frozen(slots=True)
class _SegmentEnd:
    segment_id: str
    segment_started: float


@attrs.frozen(slots=True)
class _TextFlush:
    pass


class SynthesizeStream(_Synthesis):
    """Streamed text in, audio out, sentence by sentence (`tts.stream()`).

    `push_text` feeds text (any split); `flush()` ends a segment (the rest of its text
    is spoken and the segment gets its final marker and metrics); `end_input()` flushes
    and ends the stream once all audio is out. Sentences are synthesized one after the
    other, so the first sentence plays while the LLM is still writing the rest.
    """

    def __init__(
        self,
        tts: TTS,
        *,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        speech_id: str | None = None,
        turn_id: str | None = None,
        tokenizer: SentenceTokenizer | None = None,
        capacity: int = 32,
        text_capacity: int = 1024,
    ) -> None:
        super().__init__(
            tts, conn_options=conn_options, speech_id=speech_id, turn_id=turn_id, capacity=capacity
        )
        self._tokenizer = tokenizer or SentenceTokenizer()
        self._text_tx: MailboxSender[tuple[str, float] | _TextFlush]
        self._text_rx: MailboxReceiver[tuple[str, float] | _TextFlush]
        self._text_tx, self._text_rx = open_mailbox(text_capacity)
        self._input_ended = False

    async def __aenter__(self) -> SynthesizeStream:
        await super().__aenter__()
        return self

    def push_text(self, text: str) -> None:
        """Queue a text delta (sync). RuntimeError if `text_capacity` pushes are pending."""
        self._check_input_open()
        try:
            self._text_tx.send_nowait((text, trio.current_time()))
        except trio.WouldBlock:
            raise RuntimeError(
                f"{self._name()} text input is full ({self._text_tx.statistics().capacity} "
                "pending pushes): use `await stream.send_text(text)` to wait for room"
            ) from None

    async def send_text(self, text: str) -> None:
        """Queue a text delta, waiting while the input is full."""
        self._check_input_open()
        await self._text_tx.send((text, trio.current_time()))

    def flush(self) -> None:
        """End the current segment."""
        self._check_input_open()
        try:
            self._text_tx.send_nowait(_TextFlush())
        except trio.WouldBlock:
            raise RuntimeError(f"{self._name()} text input is full; flush() later") from None

    def end_input(self) -> None:
        """Flush, then accept no more text."""
        self.flush()
        self._input_ended = True
        self._text_tx.close()

    def _close(self) -> None:
        self._input_ended = True
        self._text_tx.close()
        super()._close()

    def _check_input_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"{self._name()} is closed")
        if self._input_ended:
            raise RuntimeError(f"{self._name()} input ended: end_input() was called")

    async def _main(self) -> None:
        sentences_tx: MailboxSender[_Sentence | _SegmentEnd]
        sentences_tx, sentences_rx = open_mailbox(64)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._split_text, sentences_tx)
            await self._speak(sentences_rx)

    async def _split_text(self, sentences: MailboxSender[_Sentence | _SegmentEnd]) -> None:
        async with sentences:
            splitter = self._tokenizer.stream()
            segment_id = shortuuid("seg_")
            segment_started: float | None = None
            async for item in self._text_rx:
                if isinstance(item, _TextFlush):
                    for text in splitter.flush():
                        assert segment_started is not None
                        await sentences.send(_Sentence(text, segment_id, segment_started))
                    if segment_started is not None:
                        await sentences.send(_SegmentEnd(segment_id, segment_started))
                    segment_id, segment_started = shortuuid("seg_"), None
                    continue
                text, pushed_at = item
                if segment_started is None:
                    segment_started = pushed_at
                for sentence in splitter.push(text):
                    await sentences.send(_Sentence(sentence, segment_id, segment_started))

    async def _speak(self, sentences: MailboxReceiver[_Sentence | _SegmentEnd]) -> None:
        first_audio: float | None = None
        requested: float | None = None
        produced = 0.0
        characters = 0
        current: _Sentence | None = None

        def on_first() -> None:
            nonlocal first_audio
            if first_audio is None:
                first_audio = trio.current_time()

        try:
            async for item in sentences:
                if isinstance(item, _SegmentEnd):
                    await self._final_marker(item.segment_id)
                    self._emit_metrics(
                        segment_id=item.segment_id,
                        started=item.segment_started,
                        first_audio=first_audio,
                        audio_duration=produced,
                        characters=characters,
                        cancelled=False,
                        streamed=True,
                        error=None,
                        requested=requested,
                    )
                    first_audio, produced, characters, current = None, 0.0, 0, None
                    requested = None
                    continue
                current = item
                if requested is None:
                    requested = trio.current_time()
                characters += len(item.text)
                produced += await self._synthesize_text(item.text, item.segment_id, on_first)
        except BaseException as exc:
            if current is not None:  # a segment was in progress: report it
                failed = isinstance(exc, Exception)
                self._emit_metrics(
                    segment_id=current.segment_id,
                    started=current.segment_started,
                    first_audio=first_audio,
                    audio_duration=produced,
                    characters=characters,
                    cancelled=not failed,
                    streamed=True,
                    error=exc if failed else None,
                    requested=requested,
                )
            raise
