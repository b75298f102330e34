"""Messages between the session's actors (internal: users see events, not these)."""

from __future__ import annotations

import attrs

from voxtrio.engines.stt import SpeechEvent
from voxtrio.engines.vad import VADEvent
from voxtrio.session.speech import SpeechHandle

__all__ = [
    "AudioInputEnded",
    "GenerateReply",
    "InterruptSpeech",
    "RecognitionFailed",
    "Say",
    "SttSignal",
    "VadSignal",
]


@attrs.frozen(slots=True)
class VadSignal:
    """A VAD event and the trio time the recognition actor saw it."""

    event: VADEvent
    at: float


@attrs.frozen(slots=True)
class SttSignal:
    event: SpeechEvent
    at: float


@attrs.frozen(slots=True)
class AudioInputEnded:
    """The microphone's source ended and recognition has drained."""

    at: float


@attrs.frozen(slots=True)
class RecognitionFailed:
    """The STT gave up after its retries: the session reports it (unrecoverable)."""

    error: BaseException
    source: str


@attrs.frozen(slots=True)
class Say:
    handle: SpeechHandle
    text: str


@attrs.frozen(slots=True)
class GenerateReply:
    handle: SpeechHandle
    instructions: str | None = None


@attrs.frozen(slots=True)
class InterruptSpeech:
    """Stop the current reply (control message)."""

    force: bool = False


class InjectedCrash(RuntimeError):
    """Raised by an actor that received `Crash` (a test hook: see voxtrio.testing)."""


@attrs.frozen(slots=True)
class Crash:
    """Control message that makes the activity or recognition actor fail (tests only)."""

    reason: str = "injected crash"
