"""The unit of audio that moves between actors.

    frame = AudioFrame.from_bytes(pcm16, sample_rate=16_000, num_channels=1, pts=0.02)
    frame.samples_per_channel, frame.duration, frame.to_bytes()

`data` is a read-only int16 array shaped `(samples_per_channel, num_channels)`:
frames are shared between actors without copies, so nobody may write to them.
Invalid input raises `AudioFormatError` (a `ValueError`) or `TypeError` (wrong dtype),
with a message that names the offending value.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

__all__ = ["AudioFormatError", "AudioFrame", "Int16Array"]

Int16Array = npt.NDArray[np.int16]


class AudioFormatError(ValueError):
    """Audio data, a sample rate or a channel count that cannot make a valid frame."""


# Validators come first: attrs needs them when the class body runs.
def _check_channels(num_channels: int) -> None:
    if isinstance(num_channels, bool) or not isinstance(num_channels, (int, np.integer)):
        raise TypeError(f"num_channels must be an int, got {num_channels!r}")
    if num_channels <= 0:
        raise AudioFormatError(f"num_channels must be at least 1, got {num_channels}")


def _as_sample_rate(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"sample_rate must be an int in Hz, got {value!r}")
    if value <= 0:
        raise AudioFormatError(f"sample_rate must be a positive number of Hz, got {value}")
    return int(value)


def _as_frame_array(data: Any) -> Int16Array:
    array = np.asarray(data)
    if array.dtype != np.int16:
        raise TypeError(
            f"audio data must be int16 samples, got dtype {array.dtype}; "
            "use AudioFrame.from_bytes for PCM16 bytes"
        )
    if array.ndim != 2:
        raise AudioFormatError(
            "audio data must be shaped (samples_per_channel, num_channels), "
            f"got shape {array.shape}; use AudioFrame.from_array for interleaved data"
        )
    if array.shape[1] == 0:
        raise AudioFormatError("audio data must have at least one channel, got shape (n, 0)")
    if not _is_frozen(array):
        # Someone may still write to this memory: keep a private, frozen copy.
        array = array.copy()
        array.flags.writeable = False
    return array


def _is_frozen(array: npt.NDArray[Any]) -> bool:
    """True when no one can write to the memory behind `array` (safe to share)."""
    if array.flags.writeable:
        return False
    base: object = array.base
    while isinstance(base, np.ndarray):
        if base.flags.writeable:
            # A read-only view of a writable array: its owner can still change it.
            return False
        base = base.base
    return base is None or isinstance(base, bytes)


@attrs.frozen(slots=True, eq=False)
class AudioFrame:
    """PCM16 audio with its rate, channel count and presentation time.

        AudioFrame(np.zeros((320, 1), np.int16), sample_rate=16_000, pts=0.0)

    Prefer `from_bytes` / `from_array`, which accept interleaved data. `pts` is the
    frame's start in seconds from the start of its stream. A frame may be empty
    (zero samples) but always has at least one channel.
    """

    data: Int16Array = attrs.field(converter=_as_frame_array)
    sample_rate: int = attrs.field(converter=_as_sample_rate)
    pts: float = attrs.field(default=0.0, converter=float)

    @classmethod
    def from_bytes(
        cls,
        data: bytes | bytearray | memoryview,
        sample_rate: int,
        num_channels: int = 1,
        pts: float = 0.0,
    ) -> AudioFrame:
        """Build a frame from interleaved little-endian PCM16 bytes.

            AudioFrame.from_bytes(b"\\x01\\x00\\x02\\x00", 8_000, num_channels=2)

        Raises `AudioFormatError` for an odd byte count or a sample count that is not
        a multiple of `num_channels`.
        """
        _check_channels(num_channels)
        size = memoryview(data).nbytes
        if size % 2:
            raise AudioFormatError(
                f"PCM16 data must have an even byte count (2 bytes per sample), got {size} bytes"
            )
        # bytes are immutable, so a frame can share their memory; anything else is copied.
        buffer = data if isinstance(data, bytes) else bytes(data)
        samples = np.frombuffer(buffer, dtype="<i2").astype(np.int16, copy=False)
        return cls.from_array(samples, sample_rate, num_channels, pts)

    @classmethod
    def from_array(
        cls,
        samples: Any,
        sample_rate: int,
        num_channels: int | None = None,
        pts: float = 0.0,
    ) -> AudioFrame:
        """Build a frame from interleaved int16 samples (1-D) or a 2-D array.

            AudioFrame.from_array(np.zeros(640, np.int16), 16_000, num_channels=2)

        1-D data is interleaved and `num_channels` defaults to 1; for 2-D data shaped
        `(samples_per_channel, num_channels)` it defaults to the array's second axis.
        A writable array is copied, so the caller may keep using it.
        """
        array = np.asarray(samples)
        if array.dtype != np.int16:
            raise TypeError(
                f"audio data must be int16 samples, got dtype {array.dtype}; "
                "convert with np.clip(x, -32768, 32767).astype(np.int16)"
            )
        if array.ndim == 1:
            channels = 1 if num_channels is None else num_channels
            _check_channels(channels)
            if array.size % channels:
                raise AudioFormatError(
                    f"{array.size} samples is not a multiple of num_channels={channels}: "
                    "interleaved data needs the same number of samples for every channel"
                )
            array = array.reshape(-1, channels)
        elif array.ndim == 2:
            if num_channels is not None and array.shape[1] != num_channels:
                raise AudioFormatError(
                    f"2-D data shaped {array.shape} has {array.shape[1]} channels, "
                    f"but num_channels={num_channels}"
                )
        else:
            raise AudioFormatError(
                f"expected interleaved 1-D data or a 2-D (samples, channels) array, "
                f"got shape {array.shape}"
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
