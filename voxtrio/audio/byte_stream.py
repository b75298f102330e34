"""Cut a stream of PCM16 bytes into frames of a fixed size.

    stream = AudioByteStream(sample_rate=16_000, num_channels=1)   # 100 ms frames
    for chunk in socket_chunks:
        for frame in stream.write(chunk):
            ...
    for frame in stream.flush():          # the short tail, if any
        ...

Contract: the bytes are interleaved little-endian PCM16. Input may be split
anywhere, even inside a sample: bytes that do not complete a sample frame (one
sample for every channel) wait for the next `write`. Every frame but the last one
from `flush()` holds exactly `samples_per_channel` samples. `pts` is continuous:
each frame starts where the previous one ended, counted in samples from `pts`
(the stream's start, 0.0 by default), so rounding never accumulates.

Edge cases: `flush()` returns `[]` when nothing is buffered; bytes of an incomplete
sample left at `flush()` are dropped with a warning (they cannot be played).
After `flush()` the stream continues from where it stopped.
"""

from __future__ import annotations

import logging

import numpy as np

from voxtrio.audio.frame import AudioFormatError, AudioFrame

__all__ = ["AudioByteStream"]

log = logging.getLogger("voxtrio.audio")

_DEFAULT_FRAME_SECONDS = 0.1


class AudioByteStream:
    """Re-chunk arbitrary PCM16 byte input into fixed-size `AudioFrame`s."""

    def __init__(
        self,
        sample_rate: int,
        num_channels: int = 1,
        samples_per_channel: int | None = None,
        *,
        pts: float = 0.0,
    ) -> None:
        if sample_rate <= 0:
            raise AudioFormatError(
                f"sample_rate must be a positive number of Hz, got {sample_rate}"
            )
        if num_channels <= 0:
            raise AudioFormatError(f"num_channels must be at least 1, got {num_channels}")
        if samples_per_channel is None:
            samples_per_channel = max(1, round(sample_rate * _DEFAULT_FRAME_SECONDS))
        if samples_per_channel <= 0:
            raise AudioFormatError(
                f"samples_per_channel must be at least 1, got {samples_per_channel}"
            )
        self.sample_rate = sample_rate
        self.num_channels = num_channels
        self.samples_per_channel = samples_per_channel
        self._start_pts = float(pts)
        self._sample_bytes = 2 * num_channels
        self._frame_bytes = samples_per_channel * self._sample_bytes
        self._buffer = bytearray()
        self._emitted = 0  # samples per channel handed out so far

    @property
    def buffered_bytes(self) -> int:
        """Bytes waiting for the next frame to fill up."""
        return len(self._buffer)

    @property
    def next_pts(self) -> float:
        """Presentation time of the next frame this stream will return."""
        return self._start_pts + self._emitted / self.sample_rate

    def write(self, data: bytes | bytearray | memoryview) -> list[AudioFrame]:
        """Buffer `data` and return every full frame now available (maybe none)."""
        self._buffer += data
        count = len(self._buffer) // self._frame_bytes
        if count == 0:
            return []
        return self._take(count * self._frame_bytes, count)

    push = write  # the name LiveKit Agents users know

    def flush(self) -> list[AudioFrame]:
        """Return the buffered samples as one short frame (or `[]` when none)."""
        whole = len(self._buffer) - len(self._buffer) % self._sample_bytes
        frames = self._take(whole, 1) if whole else []
        if self._buffer:
            log.warning(
                "AudioByteStream.flush dropped %d byte(s) of an incomplete sample "
                "(%d channel(s) x 2 bytes each)",
                len(self._buffer),
                self.num_channels,
            )
            self._buffer.clear()
        return frames

    def _take(self, nbytes: int, count: int) -> list[AudioFrame]:
        # One immutable copy for all frames of this call; the frames are views of it.
        chunk = bytes(self._buffer[:nbytes])
        del self._buffer[:nbytes]
        samples = np.frombuffer(chunk, dtype="<i2").astype(np.int16, copy=False)
        samples = samples.reshape(-1, self.num_channels)
        per_frame = len(samples) // count
        frames = []
        for index in range(count):
            part = samples[index * per_frame : (index + 1) * per_frame]
            frames.append(AudioFrame(part, self.sample_rate, self.next_pts))
            self._emitted += per_frame
        return frames
