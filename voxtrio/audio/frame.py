"""The unit of audio that moves between actors.

    frame = AudioFrame.from_bytes(pcm16, sample_rate=16_000, num_channels=1, pts=0.02)
    frame.samples_per_channel, frame.duration, frame.to_bytes()

`data` is a read-only int16 array shaped `(samples_per_channel, num_channels)`:
frames are shared between actors without copies, so nobody may write to them.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

__all__ = ["AudioFrame"]

Int16Array = npt.NDArray[np.int16]


def _as_frame_array(data: Any) -> Int16Array:
    array = np.asarray(data)
    if array.dtype != np.int16:
        raise TypeError(f"audio data must be int16 samples, got dtype {array.dtype}")
    if array.ndim != 2:
        raise ValueError(
            f"audio data must be shaped (samples_per_channel, num_channels), got shape {array.shape}"
        )
    if array.flags.writeable:
        # The caller may still write to its array: keep a private, frozen copy.
        # Data that is already read-only (another frame's) is shared as is.
        array = array.copy()
        array.flags.writeable = False
    return array


@attrs.frozen(slots=True, eq=False)
class AudioFrame:
    """PCM16 audio with its rate, channel count and presentation time.

        AudioFrame(np.zeros((320, 1), np.int16), sample_rate=16_000, pts=0.0)

    Prefer `from_bytes` / `from_array`, which accept interleaved data. `pts` is the
    frame's start in seconds from the start of its stream.
    """

    data: Int16Array = attrs.field(converter=_as_frame_array)
    sample_rate: int = attrs.field()
    pts: float = 0.0

    @sample_rate.validator
    def _check_rate(self, _attribute: object, value: int) -> None:
        if not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"sample_rate must be a positive integer, got {value!r}")

    @classmethod
    def from_bytes(
        cls, data: bytes | bytearray | memoryview, sample_rate: int, num_channels: int = 1, pts: float = 0.0
    ) -> AudioFrame:
        """Build a frame from interleaved little-endian PCM16 bytes."""
        if num_channels <= 0:
            raise ValueError(f"num_channels must be positive, got {num_channels}")
        if len(data) % 2:
            raise ValueError(f"PCM16 data must have an even byte count, got {len(data)} bytes")
        samples = np.frombuffer(bytes(data), dtype="<i2").astype(np.int16, copy=False)
        return cls.from_array(samples, sample_rate, num_channels, pts)

    @classmethod
    def from_array(
        cls, samples: Any, sample_rate: int, num_channels: int = 1, pts: float = 0.0
    ) -> AudioFrame:
        """Build a frame from interleaved int16 samples (1-D) or a 2-D array."""
        array = np.asarray(samples)
        if array.dtype != np.int16:
            raise TypeError(f"audio data must be int16 samples, got dtype {array.dtype}")
        if num_channels <= 0:
            raise ValueError(f"num_channels must be positive, got {num_channels}")
        if array.ndim == 1:
            if array.size % num_channels:
                raise ValueError(
                    f"{array.size} samples is not a multiple of num_channels={num_channels}"
                )
            array = array.reshape(-1, num_channels)
        elif array.ndim != 2 or array.shape[1] != num_channels:
            raise ValueError(
                f"expected interleaved 1-D data or shape (n, {num_channels}), got {array.shape}"
            )
        return cls(array, sample_rate, pts)

    @property
    def num_channels(self) -> int:
        return int(self.data.shape[1])

    @property
    def samples_per_channel(self) -> int:
        return int(self.data.shape[0])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.samples_per_channel / self.sample_rate

    @property
    def end_pts(self) -> float:
        """Presentation time just after the last sample."""
        return self.pts + self.duration

    def to_bytes(self) -> bytes:
        """Interleaved little-endian PCM16 bytes."""
        return self.data.astype("<i2", copy=False).tobytes()

    def with_pts(self, pts: float) -> AudioFrame:
        """The same samples at another presentation time (no copy)."""
        return AudioFrame(self.data, self.sample_rate, pts)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AudioFrame):
            return NotImplemented
        return (
            self.sample_rate == other.sample_rate
            and self.pts == other.pts
            and self.data.shape == other.data.shape
            and bool(np.array_equal(self.data, other.data))
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"AudioFrame(sample_rate={self.sample_rate}, num_channels={self.num_channels}, "
            f"samples_per_channel={self.samples_per_channel}, pts={self.pts:.3f})"
        )
