"""Change a frame's channel count.

    mono = to_mono(stereo_frame)                 # average of the channels
    stereo = remix_channels(mono_frame, 2)       # mono copied to every channel

Contract: `to_mono` averages the channels of each sample, rounding to the nearest
integer (so it never clips); a mono frame comes back as is. `remix_channels`
converts between mono and N channels in either direction and returns the frame
unchanged when the count already matches. `pts` and the sample rate are kept.

Edge cases: converting between two different multi-channel layouts (say 6 -> 2)
raises `ValueError`: there is no single right mapping, so do it explicitly.
"""

from __future__ import annotations

import numpy as np

from voxtrio.audio.frame import AudioFormatError, AudioFrame

__all__ = ["remix_channels", "to_mono"]


def to_mono(frame: AudioFrame) -> AudioFrame:
    """Down-mix `frame` to one channel by averaging its channels."""
    if frame.num_channels == 1:
        return frame
    mean = frame.data.astype(np.int32).sum(axis=1, keepdims=True) / frame.num_channels
    return AudioFrame(np.rint(mean).astype(np.int16), frame.sample_rate, frame.pts)


def remix_channels(frame: AudioFrame, num_channels: int) -> AudioFrame:
    """Return `frame` with `num_channels` channels (mono <-> N only)."""
    if num_channels <= 0:
        raise AudioFormatError(f"num_channels must be at least 1, got {num_channels}")
    if frame.num_channels == num_channels:
        return frame
    if num_channels == 1:
        return to_mono(frame)
    if frame.num_channels == 1:
        data = np.repeat(frame.data, num_channels, axis=1)
        return AudioFrame(data, frame.sample_rate, frame.pts)
    raise ValueError(
        f"cannot remix {frame.num_channels} channels to {num_channels}: only mono <-> N is "
        "defined; mix to mono first, or build the channel map yourself with numpy"
    )
