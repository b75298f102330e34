"""Where played audio goes: memory (tests), WAV files, or a sound card.

    sink = MemorySink(sample_rate=16_000)
    async with sink:
        await sink.write(frame)
    sink.samples()        # every sample "heard", concatenated: shape (n, channels)
    sink.heard            # [(trio time of the write, frame), ...]

A sink takes `AudioFrame`s through `await write(frame)` and declares how it consumes them:

- `paced` True: the sink plays audio in real time on trio's clock, so its writer (the
  `Playout` actor) hands over each frame when it is due, and fills gaps with silence.
  `MemorySink` (default) and `DeviceSink` are paced.
- `paced` False: the sink takes audio as fast as it comes (`WavFileSink` by default, or
  `MemorySink(paced=False)`); there is no notion of "now" and no silence filling.

`sample_rate` may be None until the first frame arrives (`MemorySink`/`WavFileSink`
without a rate adopt the first frame's); after that every frame must match it (the
`Playout` resamples for you) or `write` raises `SinkFormatError`. `clear()` discards
audio a sink has accepted but not yet made audible (a device's buffer) and returns how
many samples per channel it discarded, so an interrupted writer can report exactly what
was heard.
"""

from __future__ import annotations

import abc
import logging
import os
import threading
from collections import deque
from types import TracebackType
from typing import Any, Self

import attrs
import numpy as np
import numpy.typing as npt
import trio

from voxtrio.audio.devices import (
    AudioDeviceError,
    describe_device_error,
    load_sounddevice,
    resolve_device,
)
from voxtrio.audio.frame import AudioFrame
from voxtrio.audio.wav import WavWriter, read_wav

__all__ = [
    "AudioSink",
    "DeviceSink",
    "MemorySink",
    "SinkFormatError",
    "SinkNotOpen",
    "SinkStatistics",
    "WavFileSink",
]

logger = logging.getLogger("voxtrio.audio")

Int16Array = npt.NDArray[np.int16]


class SinkFormatError(ValueError):
    """A frame's sample rate or channel count differs from the sink's."""


class SinkNotOpen(RuntimeError):
    """A sink was written before `async with sink:` or after it was closed."""


@attrs.frozen(slots=True)
class SinkStatistics:
    """Counters of one sink.

    `frames` / `samples` count what was written; `underruns` counts device callbacks
    whose buffer ran dry partway (the rest of the block played as silence); `dropped_samples` counts samples a
    device sink discarded because more than `max_buffer` seconds were queued;
    `cleared_samples` counts samples discarded by `clear()`.
    """

    frames: int = 0
    samples: int = 0
    underruns: int = 0
    dropped_samples: int = 0
    cleared_samples: int = 0


class AudioSink(abc.ABC):
    """Base of every sink: ``async with sink: await sink.write(frame)``."""

    paced: bool
    sample_rate: int | None
    num_channels: int

    def __init__(self, sample_rate: int | None, num_channels: int) -> None:
        if sample_rate is not None and sample_rate <= 0:
            raise ValueError(f"sample_rate must be a positive number of Hz, got {sample_rate}")
        if num_channels <= 0:
            raise ValueError(f"num_channels must be at least 1, got {num_channels}")
        self.sample_rate = sample_rate
        self.num_channels = num_channels
        self._opened = False
        self._frames = 0
        self._samples = 0

    async def aopen(self) -> None:
        """Get ready to take frames (open the file, start the device).

        A closed sink may be opened again (a supervisor restarting the `Playout`): it
        continues where it stopped (the memory sink keeps what it heard, the WAV sink
        appends to its file, the device sink starts a new stream).
        """
        if not self._opened:
            await self._open()
            self._opened = True

    async def aclose(self) -> None:
        """Finish (flush the file, stop the device); idempotent."""
        if self._opened:
            self._opened = False
            await self._close()
        await trio.lowlevel.checkpoint()

    async def write(self, frame: AudioFrame) -> None:
        """Take one frame (it becomes audible now, for a paced sink)."""
        if not self._opened:
            raise SinkNotOpen(
                f"{type(self).__name__} is not open: use `async with sink:` before writing"
            )
        self._check(frame)
        await self._write(frame)
        self._frames += 1
        self._samples += frame.samples_per_channel

    def clear(self) -> int:
        """Discard audio accepted but not yet audible; return samples per channel dropped."""
        return 0

    def statistics(self) -> SinkStatistics:
        """Frames and samples written so far."""
        return SinkStatistics(frames=self._frames, samples=self._samples)

    @property
    def samples_written(self) -> int:
        """Samples per channel written so far."""
        return self._samples

    async def __aenter__(self) -> Self:
        await self.aopen()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _open(self) -> None:
        await trio.lowlevel.checkpoint()

    async def _close(self) -> None:
        await trio.lowlevel.checkpoint()

    @abc.abstractmethod
    async def _write(self, frame: AudioFrame) -> None: ...

    def _check(self, frame: AudioFrame) -> None:
        if self.sample_rate is None:
            self.sample_rate = frame.sample_rate
        elif frame.sample_rate != self.sample_rate:
            raise SinkFormatError(
                f"{type(self).__name__} plays {self.sample_rate} Hz but got a "
                f"{frame.sample_rate} Hz frame; resample first (voxtrio.audio.resample."
                "AudioResampler), or let the Playout actor do it"
            )
        if frame.num_channels != self.num_channels:
            raise SinkFormatError(
                f"{type(self).__name__} has {self.num_channels} channel(s) but got a frame "
                f"with {frame.num_channels}"
            )


class MemorySink(AudioSink):
    """Keeps every frame "heard", with the trio time it was written at.

        sink = MemorySink(sample_rate=24_000)
        ...
        sink.heard[0]        # (trio time, AudioFrame)
        sink.samples()       # int16 array shaped (n, channels)
        sink.duration        # seconds of audio held

    Paced by default (a virtual speaker on trio's clock). It keeps everything it is
    given: meant for tests and short recordings.
    """

    def __init__(
        self, sample_rate: int | None = None, num_channels: int = 1, *, paced: bool = True
    ) -> None:
        super().__init__(sample_rate, num_channels)
        self.paced = paced
        self.heard: list[tuple[float, AudioFrame]] = []

    async def _write(self, frame: AudioFrame) -> None:
        self.heard.append((trio.current_time(), frame))
        await trio.lowlevel.checkpoint()

    def samples(self) -> Int16Array:
        """Everything heard, concatenated, shaped (samples, channels)."""
        if not self.heard:
            return np.zeros((0, self.num_channels), dtype=np.int16)
        return np.concatenate([frame.data for _, frame in self.heard])

    @property
    def num_samples(self) -> int:
        """Samples per channel held."""
        return sum(frame.samples_per_channel for _, frame in self.heard)

    @property
    def duration(self) -> float:
        """Seconds of audio held (0.0 before the first frame)."""
        if self.sample_rate is None:
            return 0.0
        return self.num_samples / self.sample_rate

    def __repr__(self) -> str:
        return f"MemorySink({self.sample_rate} Hz, {self.duration:.3f} s held, paced={self.paced})"


class WavFileSink(AudioSink):
    """Writes what is played to a PCM16 WAV file.

        async with WavFileSink("reply.wav", sample_rate=22_050) as sink:
            await sink.write(frame)

    Unpaced by default: a file can take audio faster than real time (pass `paced=True`
    to record a conversation with its real timing, gaps as silence). Without
    `sample_rate` the file is created at the first frame, at that frame's rate. Writes
    are small and go to the page cache, so they run on trio's thread; the file is a
    valid WAV after every write (`voxtrio.audio.wav.WavWriter`).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        sample_rate: int | None = None,
        num_channels: int = 1,
        *,
        paced: bool = False,
    ) -> None:
        super().__init__(sample_rate, num_channels)
        self.path = os.fspath(path)
        self.paced = paced
        self._writer: WavWriter | None = None
        self._opened_before = False

    async def _open(self) -> None:
        if self.sample_rate is not None:
            self._create(self.sample_rate)
        await trio.lowlevel.checkpoint()
        self._opened_before = True

    async def _write(self, frame: AudioFrame) -> None:
        if self._writer is None:
            self._create(frame.sample_rate)
        assert self._writer is not None
        self._writer.write(frame)
        await trio.lowlevel.checkpoint()

    async def _close(self) -> None:
        if self._writer is None and self.sample_rate is None:
            # Nothing was written and no rate is known: still leave a valid (empty) file.
            self._create(16_000)
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        await trio.lowlevel.checkpoint()

    def _create(self, sample_rate: int) -> None:
        previous = None
        if self._opened_before and self._samples and os.path.exists(self.path):
            previous = read_wav(self.path)[2]  # reopened: keep what was written before
        self._writer = WavWriter(self.path, sample_rate, self.num_channels)
        if previous is not None and previous.shape[0]:
            self._writer.write(AudioFrame(previous, sample_rate))

    def __repr__(self) -> str:
        return f"WavFileSink({self.path!r}, {self.sample_rate} Hz, paced={self.paced})"


class DeviceSink(AudioSink):
    """A sound card's output through sounddevice (``pip install 'voxtrio[audio]'``).

        async with DeviceSink(sample_rate=48_000) as speaker:
            await speaker.write(frame)

    `write` never blocks: it appends to a buffer that PortAudio's callback thread drains
    once per `block`; a callback that finds the buffer short plays silence for the rest
    (counted in `statistics().underruns` when it ran dry partway). At most `max_buffer` seconds are queued; beyond that the
    oldest samples are dropped and counted, so the sound card's clock drifting from
    trio's can never make latency grow without bound. `clear()` empties the buffer at
    once (interruption) and returns the samples it discarded. Without `sample_rate` the
    device's default rate is used (known after `aopen`).

    `aopen` raises `PortAudioMissing` / `SoundDeviceMissing` (naming ``libportaudio2`` /
    ``voxtrio[audio]``), `NoAudioDevice`, or `AudioDeviceError`.
    """

    paced = True

    def __init__(
        self,
        device: int | str | None = None,
        sample_rate: int | None = None,
        num_channels: int = 1,
        *,
        block: float = 0.02,
        max_buffer: float = 0.5,
    ) -> None:
        super().__init__(sample_rate, num_channels)
        if not block > 0:
            raise ValueError(f"block must be > 0 seconds, got {block}")
        if not max_buffer > 0:
            raise ValueError(f"max_buffer must be > 0 seconds, got {max_buffer}")
        self.device = device
        self.block = block
        self.max_buffer = max_buffer
        self._stream: Any = None
        # Shared with the PortAudio thread, always under the lock; the lock is held only
        # for deque operations, so neither side waits noticeably.
        self._lock = threading.Lock()
        self._chunks: deque[Int16Array] = deque()
        self._buffered = 0
        self._underruns = 0
        self._dropped = 0
        self._cleared = 0

    async def _open(self) -> None:
        sd = load_sounddevice()
        device = resolve_device(self.device, "output")
        if self.sample_rate is None:
            info: Any = sd.query_devices(device, "output")
            self.sample_rate = int(info["default_samplerate"])
        rate = self.sample_rate

        def start() -> Any:
            stream = sd.OutputStream(
                samplerate=rate,
                blocksize=max(1, round(rate * self.block)),
                channels=self.num_channels,
                dtype="int16",
                device=device,
                callback=self._callback,
            )
            try:
                stream.start()
            except BaseException:
                stream.close()
                raise
            return stream

        try:
            self._stream = await trio.to_thread.run_sync(start)
        except Exception as exc:
            raise AudioDeviceError(describe_device_error(exc, "output", self.device)) from exc
        logger.info("playing to audio device %r at %d Hz", self.device, rate)

    async def _close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return

        def stop() -> None:
            try:
                stream.stop()  # plays out what PortAudio already holds
            finally:
                stream.close()

        await trio.to_thread.run_sync(stop)

    async def _write(self, frame: AudioFrame) -> None:
        assert self.sample_rate is not None
        limit = round(self.max_buffer * self.sample_rate)
        with self._lock:
            self._chunks.append(frame.data)
            self._buffered += frame.samples_per_channel
            while self._buffered > limit and len(self._chunks) > 1:
                old = self._chunks.popleft()
                self._buffered -= old.shape[0]
                self._dropped += old.shape[0]
        await trio.lowlevel.checkpoint()

    def clear(self) -> int:
        with self._lock:
            discarded = self._buffered
            self._chunks.clear()
            self._buffered = 0
            self._cleared += discarded
        return discarded

    @property
    def buffered(self) -> int:
        """Samples per channel waiting for the sound card."""
        with self._lock:
            return self._buffered

    def statistics(self) -> SinkStatistics:
        with self._lock:
            return SinkStatistics(
                frames=self._frames,
                samples=self._samples,
                underruns=self._underruns,
                dropped_samples=self._dropped,
                cleared_samples=self._cleared,
            )

    # -- PortAudio thread ----------------------------------------------------------

    def _callback(self, outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        filled = 0
        with self._lock:
            while filled < frames and self._chunks:
                chunk = self._chunks[0]
                take = min(frames - filled, chunk.shape[0])
                outdata[filled : filled + take] = chunk[:take]
                filled += take
                if take == chunk.shape[0]:
                    self._chunks.popleft()
                else:
                    self._chunks[0] = chunk[take:]
                self._buffered -= take
            if 0 < filled < frames:
                self._underruns += 1
        if filled < frames:
            outdata[filled:] = 0

    def __repr__(self) -> str:
        return f"DeviceSink(device={self.device!r}, {self.sample_rate} Hz)"
