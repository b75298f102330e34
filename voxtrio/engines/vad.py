"""Voice activity detection: speech probabilities in, start/end-of-speech events out.

    async with vad.stream() as stream:
        stream.push_frame(frame)                   # sync, never blocks
        async for event in stream:
            if event.type is VADEventType.END_OF_SPEECH:
                utterance = event.frames           # prefix padding + speech + trailing silence

Adding an engine: subclass `VAD` and supply only the model — `sample_rate`,
`window_size` (samples per inference) and `async def probability(window)` (a float32
mono array of `window_size` samples in [-1, 1) → speech probability in [0, 1]). A model
with per-stream state (silero's RNN) overrides `scorer()` to return a fresh scoring
function per stream; one whose probability lags the speech overrides `end_refiner()`
(below). CPU work belongs off the trio thread (`trio.to_thread.run_sync`).
The segmentation state machine below is shared by every engine.

Segmentation (per window of `window_size / sample_rate` seconds):
- A window counts as speech when its probability is >= `activation_threshold` (or, while
  speaking, >= `deactivation_threshold`: hysteresis keeps a wobbling voice in speech).
- START_OF_SPEECH once consecutive speech windows reach `min_speech_duration`; its frames
  are the `prefix_padding_duration` of audio before the speech run plus the run itself.
- END_OF_SPEECH once consecutive non-speech windows reach `min_silence_duration`; its
  frames are the whole utterance: prefix padding, speech, and the trailing silence
  (capped at `max_buffered_speech` seconds; beyond that, audio is dropped with a warning).
- Where speech ended: `timestamp - silence_duration` of END_OF_SPEECH. The segmenter
  starts from the end of the last *confident* speech window (probability >=
  `activation_threshold`, or >= the deactivation threshold if that is set higher), not
  of the last window hysteresis kept in speech: hysteresis decides *whether* speech
  goes on but makes a poor boundary. Then, if the engine's `end_refiner()` gives an
  `EndRefiner` (Silero's does), the audio decides: the end moves to where the band
  energy of the last few hundred ms meets the noise floor measured on the stream's
  non-speech windows, at most 125 ms earlier or 250 ms later
  (`voxtrio.engines.vad_boundary`). A model's probability makes a poor clock in
  noise: Silero in white noise at 10 dB SNR stays >= 0.5 for 1-3 windows after the
  last word (70-140 ms late) and can lose a quiet final /s/ (up to 150 ms early); the
  refined ends are within 60 ms there. The end never precedes the utterance's first
  speech window nor follows the event. So `silence_duration` is about
  `min_silence_duration` or more (up to 250 ms less with a refined end; anything at a
  flush); `frames` and `speech_duration` still count everything hysteresis kept.
- INFERENCE_DONE after every window (before any START/END that window causes), with the
  window's frame, its probability and the running durations.
- `flush()` is a hard boundary: a speech in progress ends (END_OF_SPEECH) and all state
  resets (but an `EndRefiner` keeps its noise floor: it describes the room, not the
  utterance). A partial window (< `window_size` samples) pending at a flush is dropped.
Event frames are mono at the VAD's `sample_rate`; `timestamp` is seconds of audio from
the stream's start (`samples_index / sample_rate`). One `VADMetrics` is emitted through
`vad.on("metrics_collected", ...)` per second of audio.
"""

from __future__ import annotations

import enum
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import trio

from voxtrio.audio.frame import AudioFrame
from voxtrio.core.emitter import EventEmitter
from voxtrio.engines._audio_stream import AudioInputStream, Flush
from voxtrio.engines._emits import EmitsEvents
from voxtrio.engines.errors import APIConnectOptions
from voxtrio.engines.metrics import VADMetrics
from voxtrio.engines.vad_boundary import EndRefiner

__all__ = [
    "VAD",
    "VADCapabilities",
    "VADEvent",
    "VADEventType",
    "VADOptions",
    "VADSegmenter",
    "VADStream",
    "WindowScorer",
]

logger = logging.getLogger("voxtrio.vad")

FloatArray = npt.NDArray[np.float32]
WindowScorer = Callable[[FloatArray], Awaitable[float]]
_NO_RETRY = APIConnectOptions(max_retry=0)
_EPS = 1e-9


@enum.unique
class VADEventType(enum.StrEnum):
    START_OF_SPEECH = "start_of_speech"
    INFERENCE_DONE = "inference_done"
    END_OF_SPEECH = "end_of_speech"


def _to_frame_tuple(frames: Iterable[AudioFrame]) -> tuple[AudioFrame, ...]:
    return tuple(frames)


@attrs.frozen(slots=True, kw_only=True)
class VADEvent:
    """One VAD observation (see the module docstring for what `frames` holds per type).

    `speech_duration` / `silence_duration`: seconds of the current speech (or speech
    candidate) and of the current silence. On END_OF_SPEECH, `silence_duration` runs
    from where speech ended (the last confident window, or the refined end), so
    `timestamp - silence_duration` is that instant (module docstring). `probability` and `inference_duration` belong
    to the window just scored (INFERENCE_DONE). `speaking`: state after this window.
    """

    type: VADEventType
    samples_index: int
    timestamp: float
    speech_duration: float = 0.0
    silence_duration: float = 0.0
    frames: tuple[AudioFrame, ...] = attrs.field(default=(), converter=_to_frame_tuple)
    probability: float = 0.0
    inference_duration: float = 0.0
    speaking: bool = False


def _in_unit(_instance: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be within [0, 1], got {value!r}")


def _non_negative(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0 seconds, got {value!r}")


@attrs.frozen(slots=True, kw_only=True)
class VADOptions:
    """Segmentation options (defaults as users of LiveKit's silero plugin know them).

    `deactivation_threshold` None means `max(activation_threshold - 0.15, 0.01)`.
    """

    min_speech_duration: float = attrs.field(default=0.05, validator=_non_negative)
    min_silence_duration: float = attrs.field(default=0.55, validator=_non_negative)
    prefix_padding_duration: float = attrs.field(default=0.5, validator=_non_negative)
    max_buffered_speech: float = attrs.field(default=60.0, validator=_non_negative)
    activation_threshold: float = attrs.field(default=0.5, validator=_in_unit)
    deactivation_threshold: float | None = attrs.field(default=None, validator=_in_unit)

    @property
    def exit_threshold(self) -> float:
        """The deactivation threshold in effect."""
        if self.deactivation_threshold is not None:
            return self.deactivation_threshold
        return max(self.activation_threshold - 0.15, 0.01)


@attrs.frozen(slots=True)
class VADCapabilities:
    update_interval: float  # seconds of audio per inference


class VAD(EmitsEvents):
    """Base class of VAD engines (see the module docstring).

        class EnergyVAD(VAD):
            def __init__(self) -> None:
                super().__init__(sample_rate=16_000, window_size=320)

            async def probability(self, window) -> float:
                return 1.0 if float(np.sqrt(np.mean(window ** 2))) > 0.02 else 0.0
    """

    def __init__(
        self,
        *,
        sample_rate: int = 16_000,
        window_size: int = 512,
        options: VADOptions | None = None,
        label: str | None = None,
    ) -> None:
        if sample_rate <= 0 or window_size <= 0:
            raise ValueError(
                f"sample_rate and window_size must be positive, got {sample_rate}, {window_size}"
            )
        self._sample_rate = sample_rate
        self._window_size = window_size
        self._options = options or VADOptions()
        self._label = label or f"{type(self).__module__}.{type(self).__name__}"
        self._events = EventEmitter(valid_events=("metrics_collected",))

    @property
    def label(self) -> str:
        return self._label

    @property
    def sample_rate(self) -> int:
        return self._sample_rate

    @property
    def window_size(self) -> int:
        return self._window_size

    @property
    def capabilities(self) -> VADCapabilities:
        return VADCapabilities(update_interval=self._window_size / self._sample_rate)

    @property
    def options(self) -> VADOptions:
        return self._options

    def update_options(self, **changes: Any) -> None:
        """Change options live (running streams apply them from their next window)."""
        self._options = attrs.evolve(self._options, **changes)

    def stream(
        self,
        *,
        input_capacity: int = 500,
        event_capacity: int = 256,
        inference_events: bool = True,
    ) -> VADStream:
        """A segmentation stream; enter it with `async with` before use.

        `inference_events=False`: only START/END_OF_SPEECH (saves work per window).
        """
        return VADStream(
            self,
            input_capacity=input_capacity,
            event_capacity=event_capacity,
            inference_events=inference_events,
        )

    async def probability(self, window: FloatArray) -> float:
        """Speech probability of one window (`window_size` float32 samples in [-1, 1))."""
        raise NotImplementedError(f"{self._label} must implement probability(window)")  # abstract

    def scorer(self) -> WindowScorer:
        """The scoring function one stream uses; override for per-stream model state."""
        return self.probability

    def end_refiner(self) -> EndRefiner | None:
        """Per stream: an `EndRefiner` to place END_OF_SPEECH by the audio, or None.

        None (the default) keeps the end at the last confident window; override when the
        model's probability lags the speech (see `voxtrio.engines.vad_boundary`).
        """
        return None

    async def aclose(self) -> None:
        """Release the engine's resources."""


class VADStream(AudioInputStream[VADEvent]):
    """Frames in, `VADEvent`s out; runs the segmentation state machine of the module."""

    def __init__(
        self,
        vad: VAD,
        *,
        input_capacity: int = 500,
        event_capacity: int = 256,
        inference_events: bool = True,
    ) -> None:
        super().__init__(
            conn_options=_NO_RETRY,
            sample_rate=vad.sample_rate,
            mono=True,
            input_capacity=input_capacity,
            event_capacity=event_capacity,
        )
        self._vad = vad
        self._scorer = vad.scorer()
        self._inference_events = inference_events

    @property
    def vad(self) -> VAD:
        return self._vad

    def _label(self) -> str:
        return f"{self._vad.label} stream"

    async def _run(self) -> None:
        seg = _Segmenter(self._vad, inference_events=self._inference_events)
        pending = np.empty(0, dtype=np.int16)
        size = self._vad.window_size
        metrics_every = max(1, round(1.0 / self._vad.capabilities.update_interval))
        period_start = trio.current_time()
        inference_total = 0.0
        count = 0
        async for item in self._input:
            if isinstance(item, Flush):
                pending = pending[:0]
                for event in seg.flush():
                    await self._send_event(event)
                continue
            samples = item.data[:, 0]
            if pending.size:
                pending = np.concatenate((pending, samples))
                pending.flags.writeable = False  # ours: windows can share it without a copy
            else:
                pending = samples
            while pending.size >= size:
                window, pending = pending[:size], pending[size:]
                started = trio.current_time()
                probability = float(await self._scorer(window.astype(np.float32) / 32768.0))
                inference = trio.current_time() - started
                inference_total += inference
                count += 1
                for event in seg.push(window, probability, inference):
                    await self._send_event(event)
                if count >= metrics_every:
                    now = trio.current_time()
                    self._vad.emit(
                        "metrics_collected",
                        VADMetrics(
                            label=self._vad.label,
                            idle_time=max(0.0, now - period_start - inference_total),
                            inference_duration_total=inference_total,
                            inference_count=count,
                        ),
                    )
                    period_start, inference_total, count = now, 0.0, 0


class _Segmenter:
    """The probability → events state machine (pure: no trio, no I/O).

        seg = VADSegmenter(vad)
        events = seg.push(window_int16, probability, inference_seconds)   # per window
        events = seg.flush()                                               # hard boundary

    Engines that batch inference (several windows per model call) drive it directly
    from their own `VADStream._run`; it reads `vad.options` on every window. With
    `inference_events=False` no INFERENCE_DONE events are made (cheaper per window).
    Windows are kept as raw arrays and become `AudioFrame`s only when an event needs them.
    """

    def __init__(self, vad: VAD, *, inference_events: bool = True) -> None:
        self._vad = vad
        self._rate = vad.sample_rate
        self._size = vad.window_size
        self._window = vad.window_size / vad.sample_rate
        self._inference_events = inference_events
        self._samples_index = 0
        self._opts: VADOptions | None = None
        self._prefix_windows = 0
        self._refiner = vad.end_refiner()
        self._reset()

    def _reset(self) -> None:
        self._speaking = False
        self._speech_run = 0  # consecutive speech windows (before start: the candidate)
        self._speech_windows = 0  # speech windows in the current utterance
        self._silence_run = 0  # consecutive non-speech windows
        self._confident_end = 0  # samples_index after the utterance's last confident window
        self._speech_start = 0  # samples_index where the utterance's speech run began
        self._recent: deque[tuple[npt.NDArray[np.int16], float]] = deque()
        self._utterance: list[tuple[npt.NDArray[np.int16], float]] = []
        self._warned_cap = False

    def push(
        self, window: npt.NDArray[np.int16], probability: float, inference: float
    ) -> list[VADEvent]:
        opts = self._vad.options
        if opts is not self._opts:
            self._opts = opts
            self._prefix_windows = math.ceil(opts.prefix_padding_duration / self._window - _EPS)
        w = self._window
        pts = self._samples_index / self._rate
        self._samples_index += self._size
        data = window.reshape(-1, 1)
        if data.flags.writeable:  # frames share their arrays: freeze a private copy
            data = data.copy()
            data.flags.writeable = False
        raw = (data, pts)
        threshold = opts.exit_threshold if self._speaking else opts.activation_threshold
        is_speech = probability >= threshold
        if probability >= max(opts.activation_threshold, opts.exit_threshold):
            self._confident_end = self._samples_index  # where speech is said to end
        if self._refiner is not None:
            self._refiner.push(
                window,
                noise=not self._speaking and probability < opts.exit_threshold,
                anchor=self._confident_end if self._speaking else self._samples_index,
            )

        if self._speaking:
            if len(self._utterance) * w < opts.max_buffered_speech:
                self._utterance.append(raw)
            else:
                self._warn_cap(opts.max_buffered_speech)
            if is_speech:
                self._speech_windows += 1
                self._silence_run = 0
            else:
                self._silence_run += 1
        else:
            self._recent.append(raw)
            if is_speech:
                self._speech_run += 1
                self._silence_run = 0
            else:
                self._speech_run = 0
                self._silence_run += 1
            keep = max(self._prefix_windows + self._speech_run, 1)
            while len(self._recent) > keep:
                self._recent.popleft()

        events: list[VADEvent] = []
        end: VADEvent | None = None
        started = False
        if not self._speaking and is_speech and self._speech_run * w >= opts.min_speech_duration - _EPS:
            self._speaking = True
            self._speech_windows = self._speech_run
            self._utterance = list(self._recent)
            self._recent.clear()
            self._silence_run = 0
            # the start run is >= activation: never place the end before it
            self._confident_end = max(self._confident_end, self._samples_index)
            self._speech_start = self._samples_index - self._speech_run * self._size
            started = True
        elif self._speaking and self._silence_run * w >= opts.min_silence_duration - _EPS:
            end = self._end_of_speech()

        if self._inference_events:
            speech_count = self._speech_windows if self._speaking else self._speech_run
            events.append(
                self._event(
                    VADEventType.INFERENCE_DONE,
                    frames=(AudioFrame(data, self._rate, pts),),
                    probability=probability,
                    inference_duration=inference,
                    speech_duration=(end.speech_duration if end is not None else speech_count * w),
                )
            )
        if started:
            events.append(
                self._event(
                    VADEventType.START_OF_SPEECH,
                    frames=self._frames(self._utterance),
                    speech_duration=self._speech_windows * w,
                )
            )
        elif end is not None:
            events.append(end)
        return events

    def flush(self) -> list[VADEvent]:
        events = [self._end_of_speech()] if self._speaking else []
        self._reset()
        return events

    def _end_of_speech(self) -> VADEvent:
        event = self._event(
            VADEventType.END_OF_SPEECH,
            frames=self._frames(self._utterance),
            speech_duration=self._speech_windows * self._window,
            speaking=False,
            # from the end of speech (see the module docstring)
            silence_duration=(self._samples_index - self._speech_end()) / self._rate,
        )
        silence_run = self._silence_run
        self._reset()
        self._silence_run = silence_run
        return event

    def _speech_end(self) -> int:
        """Sample index where the utterance's speech ended (module docstring)."""
        end = self._confident_end
        if self._refiner is not None:
            end = self._refiner.refine(end, self._samples_index)
        return max(self._speech_start, min(end, self._samples_index))

    def _frames(self, raws: list[tuple[npt.NDArray[np.int16], float]]) -> tuple[AudioFrame, ...]:
        rate = self._rate
        return tuple(AudioFrame(data, rate, pts) for data, pts in raws)

    def _warn_cap(self, cap_seconds: float) -> None:
        if not self._warned_cap:
            self._warned_cap = True
            logger.warning(
                "%s: utterance longer than max_buffered_speech=%.1f s; dropping the rest "
                "of its audio from the END_OF_SPEECH frames",
                self._vad.label, cap_seconds,
            )

    def _event(
        self,
        type: VADEventType,
        *,
        speaking: bool | None = None,
        silence_duration: float | None = None,
        **fields: Any,
    ) -> VADEvent:
        if silence_duration is None:
            silence_duration = self._silence_run * self._window
        return VADEvent(
            type=type,
            samples_index=self._samples_index,
            timestamp=self._samples_index / self._rate,
            silence_duration=silence_duration,
            speaking=self._speaking if speaking is None else speaking,
            **fields,
        )


VADSegmenter = _Segmenter
