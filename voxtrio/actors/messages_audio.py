"""Messages and events of the audio actors (`MicReader`, `Playout`).

    ref.tell_nowait(SegmentAudio("speech_1", frame))   # data: audio of a reply
    ref.tell_nowait(EndOfSegment("speech_1"))          # data: that reply is complete
    ref.tell_control_nowait(Interrupt())                # control: stop what is playing

Data messages (the `Playout`'s inbox) carry the `speech_id` of the agent reply they
belong to; a segment is all the audio of one `speech_id`, played in the order the
segments first appeared. Control messages jump ahead of queued data. Events are what
the actors report: `Playout` emits `PlaybackStarted`, `PlaybackPosition` and
`PlaybackFinished` under the names in `PLAYBACK_EVENTS`; `MicReader` emits
`MicFramesDropped`. Every event carries `at`, the trio time it happened.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import attrs

from voxtrio.audio.frame import AudioFrame

__all__ = [
    "EVENT_MIC_FRAMES_DROPPED",
    "EVENT_PLAYBACK_FINISHED",
    "EVENT_PLAYBACK_POSITION",
    "EVENT_PLAYBACK_STARTED",
    "PLAYBACK_EVENTS",
    "EndOfSegment",
    "Interrupt",
    "MicFramesDropped",
    "Pause",
    "PlaySegment",
    "PlaybackFinished",
    "PlaybackPosition",
    "PlaybackStarted",
    "Resume",
    "SegmentAudio",
]

EVENT_PLAYBACK_STARTED: Final = "playback_started"
EVENT_PLAYBACK_POSITION: Final = "playback_position"
EVENT_PLAYBACK_FINISHED: Final = "playback_finished"
PLAYBACK_EVENTS: Final = (EVENT_PLAYBACK_STARTED, EVENT_PLAYBACK_POSITION, EVENT_PLAYBACK_FINISHED)
EVENT_MIC_FRAMES_DROPPED: Final = "mic_frames_dropped"


# -- data (Playout inbox) ------------------------------------------------------------


@attrs.frozen(slots=True)
class SegmentAudio:
    """One frame of the reply `speech_id`, to be played after the frames before it."""

    speech_id: str
    frame: AudioFrame


@attrs.frozen(slots=True)
class EndOfSegment:
    """The reply `speech_id` has no more audio: once played out, it is finished."""

    speech_id: str


def _as_frames(frames: Iterable[AudioFrame] | AudioFrame) -> tuple[AudioFrame, ...]:
    return (frames,) if isinstance(frames, AudioFrame) else tuple(frames)


@attrs.frozen(slots=True)
class PlaySegment:
    """A whole reply at once: its frames followed by its end (a shortcut for tests and
    pre-rendered prompts)."""

    speech_id: str
    frames: tuple[AudioFrame, ...] = attrs.field(converter=_as_frames)


# -- control (Playout control inbox) ---------------------------------------------------


@attrs.frozen(slots=True)
class Interrupt:
    """Stop playing `speech_id` at once and discard the rest of it.

    `speech_id=None` means the segment playing now (or, if none is audible yet, the next
    one in line). With `clear_queue=True` every queued segment is discarded too. Data of
    an interrupted `speech_id` that arrives later is discarded on sight.
    """

    speech_id: str | None = None
    clear_queue: bool = False


@attrs.frozen(slots=True)
class Pause:
    """Hold `speech_id` where it is (a possible false interruption), keeping its audio.

    `speech_id=None` means the segment playing now (or the next one in line). While
    paused the segment writes nothing (output is idle) and segments behind it wait; it
    still accepts audio. `Resume` continues it from the next sample; `Interrupt` ends it.
    """

    speech_id: str | None = None


@attrs.frozen(slots=True)
class Resume:
    """Continue a paused `speech_id` (None: the paused segment in front of the queue)."""

    speech_id: str | None = None


# -- events ------------------------------------------------------------------------------


@attrs.frozen(slots=True)
class PlaybackStarted:
    """The first sample of `speech_id` reached the sink at trio time `at`."""

    speech_id: str
    at: float


@attrs.frozen(slots=True)
class PlaybackPosition:
    """`played_duration` seconds of `speech_id` have reached the sink (at trio time `at`)."""

    speech_id: str
    played_duration: float
    at: float


@attrs.frozen(slots=True)
class PlaybackFinished:
    """`speech_id` is done: played to its end, or `interrupted`.

    `played_duration` is the audio of this segment that reached the sink, exact to the
    sample (silence inserted during under-runs is not counted): `played_samples` samples
    per channel at the sink's `sample_rate`.
    """

    speech_id: str
    interrupted: bool
    played_duration: float
    at: float
    played_samples: int = 0
    sample_rate: int = 0


@attrs.frozen(slots=True)
class MicFramesDropped:
    """The mic's consumer fell behind: `dropped` more frames were lost (`total` so far)."""

    dropped: int
    total: int
    at: float
