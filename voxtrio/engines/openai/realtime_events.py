"""Events a `RealtimeSession` emits, one attrs payload each, under `EVENT_NAMES`.

    @session.events.on("output_audio")
    def play(event: OutputAudio) -> None:
        playout.push(event.frame)

Every payload is a frozen attrs value. Response-scoped events carry `response_id` and the
`speech_id` voxtrio derives from it ("resp_X" -> "speech_X"), so audio, transcript and
metrics of one reply can be joined without guessing.
"""

from __future__ import annotations

import attrs

from voxtrio.audio.frame import AudioFrame
from voxtrio.engines.metrics import RealtimeModelMetrics

__all__ = [
    "EVENT_NAMES",
    "FunctionCallReceived",
    "InputSpeechStarted",
    "InputSpeechStopped",
    "InputTranscriptionCompleted",
    "InputTranscriptionDelta",
    "InputTranscriptionFailed",
    "OutputAudio",
    "OutputTranscriptDelta",
    "RealtimeErrorEvent",
    "ResponseFinished",
    "ResponseStarted",
]

EVENT_NAMES = frozenset(
    {
        "input_speech_started",
        "input_speech_stopped",
        "input_transcription_delta",
        "input_transcription_completed",
        "input_transcription_failed",
        "response_created",
        "output_audio",
        "output_transcript_delta",
        "function_call",
        "response_done",
        "metrics_collected",
        "error",
        "server_event",
        "session_reconnected",
        "closed",
    }
)


@attrs.frozen(kw_only=True)
class InputSpeechStarted:
    """Server VAD heard the user start (stop local playout now)."""

    item_id: str
    audio_start_ms: int


@attrs.frozen(kw_only=True)
class InputSpeechStopped:
    """Server VAD heard the user stop."""

    item_id: str
    audio_end_ms: int


@attrs.frozen(kw_only=True)
class InputTranscriptionDelta:
    item_id: str
    delta: str


@attrs.frozen(kw_only=True)
class InputTranscriptionCompleted:
    item_id: str
    transcript: str


@attrs.frozen(kw_only=True)
class InputTranscriptionFailed:
    item_id: str
    message: str


@attrs.frozen(kw_only=True)
class ResponseStarted:
    """A response began; `user_initiated` when it answers this client's `create_response`."""

    response_id: str
    speech_id: str
    user_initiated: bool


@attrs.frozen(kw_only=True)
class OutputAudio:
    """One audio delta of a response as a frame (pts = seconds into the item's audio)."""

    response_id: str
    item_id: str
    speech_id: str
    frame: AudioFrame


@attrs.frozen(kw_only=True)
class OutputTranscriptDelta:
    """Transcript of the response audio (or response text in text mode)."""

    response_id: str
    item_id: str
    speech_id: str
    delta: str


@attrs.frozen(kw_only=True)
class FunctionCallReceived:
    """A complete function call: run the tool, then `send_function_output` (and a reply)."""

    response_id: str
    item_id: str
    call_id: str
    name: str
    arguments: str


@attrs.frozen(kw_only=True)
class ResponseFinished:
    """`response.done`: status, transcript of the output, and the metrics."""

    response_id: str
    speech_id: str
    status: str
    reason: str | None
    transcript: str
    metrics: RealtimeModelMetrics


@attrs.frozen(kw_only=True)
class RealtimeErrorEvent:
    """A server error (recoverable) or a lost connection (not recoverable)."""

    message: str
    code: str | None = None
    client_event_id: str | None = None
    recoverable: bool = True
