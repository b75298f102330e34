"""Synthetic audio: silence and sine tones.

    gap = silence(0.5, sample_rate=16_000)
    beep = tone(440.0, 0.2, sample_rate=16_000, amplitude=0.3)

Contract: the frame holds `round(duration * sample_rate)` samples per channel, every
channel identical, starting at `pts`. `amplitude` is a fraction of full scale
(0..1); samples are rounded to the nearest int16, so a tone of amplitude 1.0 peaks
at 32767. `phase` (radians) lets consecutive tone frames join without a click:
pass `phase + 2 * pi * frequency * duration` to the next call.

Edge cases: a zero duration gives an empty frame; negative durations, amplitudes
outside 0..1 and frequencies at or above Nyquist raise `ValueError`.
"""

from __future__ import annotations

import numpy as np

from voxtrio.audio.frame import AudioFormatError, AudioFrame

__all__ = ["silence", "tone"]


def silence(
    duration: float, sample_rate: int, num_channels: int = 1, *, pts: float = 0.0
) -> AudioFrame:
    """A frame of digital silence lasting `duration` seconds."""
    count = _sample_count(duration, sample_rate, num_channels)
    data = np.zeros((count, num_channels), dtype=np.int16)
    data.flags.writeable = False
    return AudioFrame(data, sample_rate, pts)


def tone(
    frequency: float,
    duration: float,
    sample_rate: int,
    amplitude: float = 0.5,
    num_channels: int = 1,
    *,
    phase: float = 0.0,
    pts: float = 0.0,
) -> AudioFrame:
    """A sine wave of `frequency` Hz lasting `duration` seconds."""
    count = _sample_count(duration, sample_rate, num_channels)
    if not 0.0 <= amplitude <= 1.0:
        raise ValueError(f"amplitude must be between 0.0 and 1.0 of full scale, got {amplitude}")
    if not 0.0 <= frequency < sample_rate / 2:
        raise ValueError(
            f"frequency must be in [0, {sample_rate / 2}) Hz (below Nyquist for "
            f"{sample_rate} Hz), got {frequency}"
        )
    t = np.arange(count, dtype=np.float64) / sample_rate
    wave = np.rint(amplitude * 32767.0 * np.sin(2.0 * np.pi * frequency * t + phase))
    data = np.repeat(wave.astype(np.int16)[:, None], num_channels, axis=1)
    data.flags.writeable = False
    return AudioFrame(data, sample_rate, pts)


def _sample_count(duration: float, sample_rate: int, num_channels: int) -> int:
    if sample_rate <= 0:
        raise AudioFormatError(f"sample_rate must be a positive number of Hz, got {sample_rate}")
    if num_channels <= 0:
        raise AudioFormatError(f"num_channels must be at least 1, got {num_channels}")
    if not duration >= 0:
        raise ValueError(f"duration must be zero or more seconds, got {duration}")
    return round(duration * sample_rate)
