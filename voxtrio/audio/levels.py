"""Signal levels: RMS, peak and dBFS.

    levels = measure(frame)            # Levels(rms=0.35, peak=0.5, rms_dbfs=-9.1, ...)
    meter = LevelMeter(window=0.3)
    for frame in frames:
        if meter.push(frame).rms_dbfs > -40:
            ...

Contract: linear levels are fractions of full scale (32768), so a full-scale square
wave has RMS 1.0 (0 dBFS) and a full-scale sine has RMS 0.707 (-3.01 dBFS). dBFS
values are `20 * log10(level)`, floored at `DBFS_FLOOR` (-120 dB) so silence gives a
finite number that fits in JSON and metrics. All channels count alike.
"""

from __future__ import annotations

import collections
import math

import attrs
import numpy as np
import numpy.typing as npt

from voxtrio.audio.frame import AudioFrame

__all__ = ["DBFS_FLOOR", "LevelMeter", "Levels", "measure", "peak", "rms", "to_dbfs"]

DBFS_FLOOR = -120.0
_FULL_SCALE = 32768.0


@attrs.frozen(slots=True)
class Levels:
    """RMS and peak of some audio, linear (0..1 of full scale) and in dBFS."""

    rms: float
    peak: float

    @property
    def rms_dbfs(self) -> float:
        return to_dbfs(self.rms)

    @property
    def peak_dbfs(self) -> float:
        return to_dbfs(self.peak)


def rms(audio: AudioFrame | npt.NDArray[np.int16]) -> float:
    """Root mean square as a fraction of full scale (0.0 for no samples)."""
    samples = _samples(audio)
    if samples.size == 0:
        return 0.0
    floats = samples.astype(np.float64)
    return math.sqrt(float(np.dot(floats.ravel(), floats.ravel())) / samples.size) / _FULL_SCALE


def peak(audio: AudioFrame | npt.NDArray[np.int16]) -> float:
    """Largest absolute sample as a fraction of full scale (-32768 gives 1.0)."""
    samples = _samples(audio)
    if samples.size == 0:
        return 0.0
    return float(np.abs(samples.astype(np.int32)).max()) / _FULL_SCALE


def to_dbfs(level: float) -> float:
    """Convert a linear level (fraction of full scale) to dBFS, floored at DBFS_FLOOR."""
    if level <= 0.0:
        return DBFS_FLOOR
    return max(DBFS_FLOOR, 20.0 * math.log10(level))


def measure(audio: AudioFrame | npt.NDArray[np.int16]) -> Levels:
    """RMS and peak of one frame or array."""
    return Levels(rms=rms(audio), peak=peak(audio))


class LevelMeter:
    """Levels over the last `window` seconds of a stream, updated frame by frame.

        meter = LevelMeter(window=0.3)
        levels = meter.push(frame)

    The window holds whole frames: the most recent frames whose total duration first
    reaches `window` (at least the newest frame). `reset()` empties it.
    """

    def __init__(self, window: float = 0.3) -> None:
        if not window > 0:
            raise ValueError(f"window must be a positive number of seconds, got {window}")
        self.window = window
        # (duration, sum of squares, sample count, peak) per frame
        self._frames: collections.deque[tuple[float, float, int, float]] = collections.deque()
        self._duration = 0.0

    def push(self, frame: AudioFrame) -> Levels:
        """Add `frame` and return the levels over the window."""
        floats = frame.data.astype(np.float64).ravel()
        self._frames.append(
            (frame.duration, float(np.dot(floats, floats)), floats.size, peak(frame))
        )
        self._duration += frame.duration
        while len(self._frames) > 1 and self._duration - self._frames[0][0] >= self.window:
            self._duration -= self._frames.popleft()[0]
        return self.levels

    @property
    def levels(self) -> Levels:
        """Levels over the frames currently in the window."""
        count = sum(item[2] for item in self._frames)
        if count == 0:
            return Levels(rms=0.0, peak=0.0)
        squares = sum(item[1] for item in self._frames)
        return Levels(
            rms=math.sqrt(squares / count) / _FULL_SCALE,
            peak=max(item[3] for item in self._frames),
        )

    def reset(self) -> None:
        self._frames.clear()
        self._duration = 0.0


def _samples(audio: AudioFrame | npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    return audio.data if isinstance(audio, AudioFrame) else np.asarray(audio)
