"""Join consecutive frames into one.

    utterance = combine_audio_frames(frames)   # alias: merge_frames

Contract: the frames must share one sample rate and one channel count; the result
holds their samples in order, made by one preallocated copy, and carries the first
frame's `pts`. A single frame (alone or in a one-item list) comes back as is, with
no copy. An empty list raises `ValueError("buffer is empty")`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from voxtrio.audio.frame import AudioFrame

__all__ = ["combine_audio_frames", "merge_frames"]


def combine_audio_frames(frames: AudioFrame | Sequence[AudioFrame]) -> AudioFrame:
    """Concatenate `frames` (same rate and channel count) into one frame."""
    if isinstance(frames, AudioFrame):
        return frames
    if len(frames) == 0:
        raise ValueError("buffer is empty")
    first = frames[0]
    if len(frames) == 1:
        return first
    total = 0
    for frame in frames:
        if frame.sample_rate != first.sample_rate:
            raise ValueError(
                "frames must share one sample rate: "
                f"got {first.sample_rate} Hz, then {frame.sample_rate} Hz"
            )
        if frame.num_channels != first.num_channels:
            raise ValueError(
                "frames must share one channel count: "
                f"got {first.num_channels} channels, then {frame.num_channels}"
            )
        total += frame.samples_per_channel
    data = np.empty((total, first.num_channels), dtype=np.int16)
    offset = 0
    for frame in frames:
        data[offset : offset + frame.samples_per_channel] = frame.data
        offset += frame.samples_per_channel
    data.flags.writeable = False  # the frame takes ownership without another copy
    return AudioFrame(data, first.sample_rate, first.pts)


merge_frames = combine_audio_frames
