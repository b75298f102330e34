"""Where microphone audio comes from: WAV files, memory, or a sound card.

    async with WavFileSource("hello.wav", realtime=True) as source:
        async for frame in source:      # AudioFrame, pts 0.00, 0.02, 0.04, ...
            ...

Every source is an async context manager and an async iterator of `AudioFrame`s with
monotonically increasing `pts` (seconds from the start of the stream, counted in
samples, so they never drift). `sample_rate` and `num_channels` are known before the
first frame. `realtime` says whether frames arrive at the pace of real audio.

- `WavFileSource(path, realtime=True, frame_duration=0.02)` reads a PCM16 WAV file.
- `MemorySource(frames_or_samples, sample_rate=..., realtime=True)` replays audio held in
  memory (tests, scripted speech).
- `DeviceSource(device=None, sample_rate=16000, block=0.02)` captures from a sound card
  through sounddevice (optional extra ``voxtrio[audio]``, needs ``libportaudio2``).

Pacing of file and memory sources, when `realtime`: frame k (starting at sample s_k) is
handed out at ``t0 + s_k / sample_rate`` on trio's clock, where t0 is the moment of the
first read; each due time is computed from t0, never by adding up sleeps, so there is no
drift. A consumer that falls behind gets the late frames at once (it catches up), like a
capture device whose buffer it drains. Without `realtime` frames come as fast as the
consumer takes them. The end of a paced stream is reported when its last sample is due.

Edge cases: iterating an unopened source raises `SourceNotOpen`. A cancelled read loses
nothing: the next read returns the frame that was due. A source closed and opened again
resumes where it stopped (so a supervisor restarting a `MicReader` neither replays nor
skips audio); a paced one resumes its pacing at the first read after reopening, and a
device source starts a new capture stream, its `pts` still counting up.
"""

from __future__ import annotations

import abc
import logging
import os
from collections import deque
from collections.abc import Generator, Iterable, Iterator
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
from voxtrio.audio.wav import WavFormatError, iter_wav_frames, wav_info
from voxtrio.core.pacing import sleep_until

__all__ = [
    "AudioSource",
    "DeviceSource",
    "MemorySource",
    "SourceNotOpen",
    "SourceStatistics",
    "WavFileSource",
    "WavFormatError",
]

logger = logging.getLogger("voxtrio.audio")

Int16Array = npt.NDArray[np.int16]


class SourceNotOpen(RuntimeError):
    """A source was read before `async with source:` (or `await source.aopen()`)."""


@attrs.frozen(slots=True)
class SourceStatistics:
    """Counters of one source.

    `frames` and `samples` count what the source handed out; `dropped` counts frames a
    device source discarded because its consumer fell more than `buffer_frames` behind;
    `overflows` counts the times the sound card itself reported lost input.
    """

    frames: int = 0
    samples: int = 0
    dropped: int = 0
    overflows: int = 0


class AudioSource(abc.ABC):
    """Base of every source: ``async with source: async for frame in source: ...``.

    Subclasses implement `aopen`, `aclose` and `read`; `read` returns the next frame or
    None at the end of the stream.
    """

    sample_rate: int
    num_channels: int
    realtime: bool

    @abc.abstractmethod
    async def aopen(self) -> None:
        """Open the source (files are opened, devices start capturing)."""

    @abc.abstractmethod
    async def aclose(self) -> None:
        """Release the source; idempotent."""

    @abc.abstractmethod
    async def read(self) -> AudioFrame | None:
        """The next frame, waiting for it if paced; None at the end of the stream."""

    def statistics(self) -> SourceStatistics:
        """Frames handed out and frames lost so far."""
        return SourceStatistics()

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

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> AudioFrame:
        frame = await self.read()
        if frame is None:
            raise StopAsyncIteration
        return frame


class _BlockSource(AudioSource):
    """Paced or unpaced delivery of fixed-size blocks produced by `_next_block`."""

    def __init__(self, *, realtime: bool, frame_duration: float) -> None:
        if not frame_duration > 0:
            raise ValueError(f"frame_duration must be > 0 seconds, got {frame_duration}")
        self.realtime = realtime
        self.frame_duration = frame_duration
        self._open = False
        self._t0: float | None = None
        self._resumed_at = 0  # samples handed out before the last reopen
        self._samples = 0  # per channel, handed out so far
        self._frames = 0
        self._frame_samples = 1  # samples_per_frame, fixed at open

    @property
    def samples_per_frame(self) -> int:
        """Samples per channel in each frame (the last one may be shorter)."""
        return max(1, round(self.sample_rate * self.frame_duration))

    async def aopen(self) -> None:
        if not self._open:
            self._frame_samples = self.samples_per_frame
            self._open_blocks()
            self._open = True
            if self._t0 is not None:
                self._t0 = None  # reopened: pace from the next read, not in a burst
                self._resumed_at = self._samples
        await trio.lowlevel.checkpoint()

    async def aclose(self) -> None:
        if self._open:
            self._close_blocks()
        self._open = False
        await trio.lowlevel.checkpoint()

    async def read(self) -> AudioFrame | None:
        if not self._open:
            raise SourceNotOpen(f"open {type(self).__name__} before reading: `async with source:`")
        pts = self._samples / self.sample_rate
        if self.realtime:
            if self._t0 is None:
                self._t0 = trio.current_time() - self._resumed_at / self.sample_rate
            # Sleep before taking the block, so a cancelled read loses nothing.
            await sleep_until(self._t0 + pts)
        else:
            await trio.lowlevel.checkpoint()
        block = self._next_block(self._frame_samples)
        if block is None or block.shape[0] == 0:
            return None
        self._samples += block.shape[0]
        self._frames += 1
        return AudioFrame(block, self.sample_rate, pts)

    def statistics(self) -> SourceStatistics:
        return SourceStatistics(frames=self._frames, samples=self._samples)

    def _open_blocks(self) -> None:  # noqa: B027 - optional hook
        """Prepare `_next_block` (open files)."""

    def _close_blocks(self) -> None:  # noqa: B027 - optional hook
        """Release what `_open_blocks` took."""

    @abc.abstractmethod
    def _next_block(self, samples: int) -> Int16Array | None:
        """Up to `samples` frames shaped (n, channels), read-only; None at the end."""


class WavFileSource(_BlockSource):
    """A PCM16 WAV file as a (by default real-time paced) stream of frames.

        async with WavFileSource("question.wav") as source:
            async for frame in source:
                ...

    The header is read at construction, so a missing or non-PCM16 file fails at once
    (`FileNotFoundError`, `WavFormatError`); a truncated file raises `WavFormatError`
    after its intact frames. The file is read one frame at a time
    (`voxtrio.audio.wav.iter_wav_frames`): a read is a few hundred bytes from the page
    cache, cheap enough for the trio thread.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, realtime: bool = True, frame_duration: float = 0.02
    ) -> None:
        super().__init__(realtime=realtime, frame_duration=frame_duration)
        self.path = os.fspath(path)
        self.sample_rate, self.num_channels = _wav_format(self.path)
        self._frames_in: Iterator[AudioFrame] | None = None

    def _open_blocks(self) -> None:
        self._frames_in = iter_wav_frames(self.path, samples_per_frame=self.samples_per_frame)
        for _ in range(self._frames):  # reopened: resume after the frames handed out
            next(self._frames_in, None)

    def _close_blocks(self) -> None:
        frames, self._frames_in = self._frames_in, None
        if isinstance(frames, Generator):
            frames.close()

    def _next_block(self, samples: int) -> Int16Array | None:
        assert self._frames_in is not None
        frame = next(self._frames_in, None)
        return None if frame is None else frame.data

    def __repr__(self) -> str:
        return (
            f"WavFileSource({self.path!r}, {self.sample_rate} Hz, {self.num_channels} ch, "
            f"realtime={self.realtime})"
        )


class MemorySource(_BlockSource):
    """Audio held in memory, replayed as a stream of frames.

        MemorySource(np.zeros(16_000, np.int16), sample_rate=16_000)      # 1 s, 20 ms frames
        MemorySource([frame1, frame2, frame3])                            # as given

    `audio` is either int16 samples (1-D: mono or interleaved with `num_channels`; 2-D:
    shaped (n, channels)), cut into `frame_duration` frames, or an iterable of
    `AudioFrame`s, replayed with their own sizes. Frames get fresh `pts` counted from 0
    (their original `pts` are ignored) and must share one rate and channel count.
    `sample_rate` is required with raw samples; with frames it is checked if given.
    """

    def __init__(
        self,
        audio: Iterable[AudioFrame] | AudioFrame | npt.ArrayLike,
        sample_rate: int | None = None,
        *,
        num_channels: int = 1,
        realtime: bool = True,
        frame_duration: float = 0.02,
    ) -> None:
        super().__init__(realtime=realtime, frame_duration=frame_duration)
        self._blocks: deque[Int16Array] | None = None
        self._chunked: Int16Array | None = None
        self._offset = 0
        if isinstance(audio, AudioFrame):
            audio = [audio]
        if isinstance(audio, np.ndarray):
            self._init_samples(audio, sample_rate, num_channels)
            return
        items = list(audio)  # type: ignore[arg-type]
        frames = [item for item in items if isinstance(item, AudioFrame)]
        if items and len(frames) == len(items):
            self._init_frames(frames, sample_rate)
        elif not items:
            if sample_rate is None:
                raise ValueError("an empty MemorySource needs sample_rate=...")
            self._init_samples(np.zeros(0, np.int16), sample_rate, num_channels)
        else:
            self._init_samples(np.asarray(items), sample_rate, num_channels)

    @property
    def duration(self) -> float:
        """Total length in seconds."""
        return self.total_samples / self.sample_rate

    def _init_samples(self, array: Any, sample_rate: int | None, num_channels: int) -> None:
        if sample_rate is None:
            raise ValueError("MemorySource needs sample_rate=... when given raw samples")
        frame = AudioFrame.from_array(np.asarray(array), sample_rate, num_channels)
        self.sample_rate = frame.sample_rate
        self.num_channels = frame.num_channels
        self.total_samples = frame.samples_per_channel
        self._chunked = frame.data

    def _init_frames(self, frames: list[AudioFrame], sample_rate: int | None) -> None:
        first = frames[0]
        if sample_rate is not None and sample_rate != first.sample_rate:
            raise ValueError(
                f"frames are {first.sample_rate} Hz but sample_rate={sample_rate} was given"
            )
        for frame in frames:
            if frame.sample_rate != first.sample_rate:
                raise ValueError(
                    "frames must share one sample rate: "
                    f"got {first.sample_rate} Hz, then {frame.sample_rate} Hz"
                )
            if frame.num_channels != first.num_channels:
                raise ValueError(
                    "frames must share one channel count: "
                    f"got {first.num_channels}, then {frame.num_channels}"
                )
        self.sample_rate = first.sample_rate
        self.num_channels = first.num_channels
        self.total_samples = sum(f.samples_per_channel for f in frames)
        self._blocks = deque(f.data for f in frames)

    def _next_block(self, samples: int) -> Int16Array | None:
        if self._blocks is not None:
            return self._blocks.popleft() if self._blocks else None
        assert self._chunked is not None
        if self._offset >= self._chunked.shape[0]:
            return None
        block = self._chunked[self._offset : self._offset + samples]
        self._offset += block.shape[0]
        return block

    def __repr__(self) -> str:
        return (
            f"MemorySource({self.sample_rate} Hz, {self.num_channels} ch, "
            f"{self.duration:.2f} s, realtime={self.realtime})"
        )


class DeviceSource(AudioSource):
    """A sound card's input through sounddevice (``pip install 'voxtrio[audio]'``).

        async with DeviceSource(sample_rate=16_000, block=0.02) as mic:
            async for frame in mic:
                ...

    PortAudio calls back from its own thread once per `block`; the callback copies the
    block and hands it to trio with `TrioToken.run_sync_soon`, which never blocks the
    audio thread, and trio appends it to a buffer of at most `buffer_frames` frames. When
    the consumer falls behind, the oldest buffered frame is dropped and counted
    (`statistics().dropped`), so the audio thread never waits and the consumer always gets
    the newest audio. `pts` count every captured sample, dropped ones included, so they
    stay on the capture clock.

    `aopen` raises `PortAudioMissing` / `SoundDeviceMissing` (saying to install
    ``libportaudio2`` / ``voxtrio[audio]``), `NoAudioDevice` when there is no such input
    device, and `AudioDeviceError` when PortAudio refuses the stream.
    """

    realtime = True

    def __init__(
        self,
        device: int | str | None = None,
        sample_rate: int = 16_000,
        block: float = 0.02,
        *,
        num_channels: int = 1,
        buffer_frames: int = 50,
    ) -> None:
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be a positive number of Hz, got {sample_rate}")
        if not block > 0:
            raise ValueError(f"block must be > 0 seconds, got {block}")
        if buffer_frames < 1:
            raise ValueError(f"buffer_frames must be at least 1, got {buffer_frames}")
        self.device = device
        self.sample_rate = sample_rate
        self.num_channels = num_channels
        self.block = block
        self.buffer_frames = buffer_frames
        self._buffer: deque[AudioFrame] = deque()
        self._lot = trio.lowlevel.ParkingLot()
        self._stream: Any = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._captured = 0  # samples per channel delivered by PortAudio
        self._frames = 0
        self._samples = 0
        self._dropped = 0
        self._overflows = 0  # written by the audio thread; an int store is atomic
        self._failure: BaseException | None = None
        self._closed = False
        self._generation = 0  # one per opened stream

    @property
    def blocksize(self) -> int:
        """Samples per channel in each captured block."""
        return max(1, round(self.sample_rate * self.block))

    async def aopen(self) -> None:
        if self._stream is not None:
            return
        self._closed = False
        self._failure = None
        self._buffer.clear()
        self._generation += 1  # audio still in flight from a previous stream is ignored
        generation = self._generation
        sd = load_sounddevice()
        device = resolve_device(self.device, "input")
        self._token = trio.lowlevel.current_trio_token()

        def start() -> Any:
            stream = sd.InputStream(
                samplerate=self.sample_rate,
                blocksize=self.blocksize,
                channels=self.num_channels,
                dtype="int16",
                device=device,
                callback=lambda indata, frames, time_info, status: self._callback(
                    indata, status, generation
                ),
                finished_callback=lambda: self._finished_callback(generation),
            )
            try:
                stream.start()
            except BaseException:
                stream.close()
                raise
            return stream

        try:
            # Opening a PortAudio stream can take tens of milliseconds: not on trio's thread.
            self._stream = await trio.to_thread.run_sync(start)
        except (AudioDeviceError, trio.Cancelled):
            raise
        except Exception as exc:
            raise AudioDeviceError(describe_device_error(exc, "input", self.device)) from exc
        logger.info(
            "capturing from audio device %r at %d Hz, %d ms blocks",
            self.device,
            self.sample_rate,
            round(self.block * 1000),
        )

    async def aclose(self) -> None:
        self._closed = True
        stream, self._stream = self._stream, None
        self._lot.unpark_all()
        if stream is not None:

            def stop() -> None:
                try:
                    stream.stop()
                finally:
                    stream.close()

            await trio.to_thread.run_sync(stop)
        else:
            await trio.lowlevel.checkpoint()

    async def read(self) -> AudioFrame | None:
        while True:
            if self._buffer:
                await trio.lowlevel.checkpoint()
                frame = self._buffer.popleft()
                self._frames += 1
                self._samples += frame.samples_per_channel
                return frame
            if self._failure is not None:
                raise AudioDeviceError(
                    f"audio input device {self.device!r} stopped: {self._failure}"
                ) from self._failure
            if self._closed:
                return None
            if self._stream is None:
                raise SourceNotOpen("open DeviceSource before reading: `async with source:`")
            await self._lot.park()

    def statistics(self) -> SourceStatistics:
        return SourceStatistics(
            frames=self._frames,
            samples=self._samples,
            dropped=self._dropped,
            overflows=self._overflows,
        )

    # -- PortAudio thread ----------------------------------------------------------

    def _callback(self, indata: Any, status: Any, generation: int) -> None:
        if status and getattr(status, "input_overflow", False):
            self._overflows += 1
        data = np.array(indata, dtype=np.int16, copy=True)  # PortAudio reuses indata
        data.flags.writeable = False
        token = self._token
        if token is None:
            return
        try:
            token.run_sync_soon(self._deliver, data, generation)
        except trio.RunFinishedError:
            pass  # trio has exited; nothing left to hand the audio to

    def _finished_callback(self, generation: int) -> None:
        token = self._token
        if token is None:
            return
        try:
            token.run_sync_soon(self._on_finished, generation)
        except trio.RunFinishedError:
            pass

    # -- trio thread -----------------------------------------------------------------

    def _deliver(self, data: Int16Array, generation: int) -> None:
        if self._closed or generation != self._generation:
            return
        pts = self._captured / self.sample_rate
        self._captured += data.shape[0]
        if len(self._buffer) >= self.buffer_frames:
            self._buffer.popleft()
            self._dropped += 1
            if self._dropped == 1 or self._dropped % 100 == 0:
                logger.warning(
                    "audio input: consumer is behind, dropped %d frame(s) so far", self._dropped
                )
        self._buffer.append(AudioFrame(data.reshape(-1, self.num_channels), self.sample_rate, pts))
        self._lot.unpark_all()

    def _on_finished(self, generation: int) -> None:
        if generation != self._generation:
            return
        if not self._closed and self._failure is None:
            self._failure = AudioDeviceError("the input stream ended unexpectedly")
        self._lot.unpark_all()

    def __repr__(self) -> str:
        return f"DeviceSource(device={self.device!r}, {self.sample_rate} Hz, block={self.block})"


def _wav_format(path: str) -> tuple[int, int]:
    """(sample_rate, num_channels) of a PCM16 WAV file; full checks happen while reading.

    `voxtrio.audio.wav.wav_info` reads the header (also PCM16 in an extensible header)
    and raises `WavFormatError` saying what the file is instead.
    """
    info = wav_info(path)
    return info.sample_rate, info.num_channels
