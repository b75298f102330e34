"""Audio payloads of the Realtime API: base64 PCM16 at 24 kHz, or G.711 at 8 kHz.

    append = audio_append_event(frame)                      # 24 kHz mono frame -> append event
    frame = frame_from_base64(delta.delta, pts=played_s)     # audio delta -> AudioFrame
    ms = audio_duration_ms(len(raw_bytes), PcmuFormat())

Contract: PCM frames must be mono at 24,000 Hz and G.711 frames mono at 8,000 Hz; this
module never resamples (do that upstream, e.g. with voxtrio.audio.resample). Decoding
raises `ProtocolError` for invalid base64 or a PCM payload with an odd byte count. An
empty payload decodes to a zero-length frame.
"""

from __future__ import annotations

import base64
import binascii

from voxtrio.audio.frame import AudioFrame
from voxtrio.audio.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode

from .client_events import InputAudioBufferAppend
from .errors import ProtocolError
from .session_config import AudioFormat, PcmaFormat, PcmFormat, PcmuFormat

__all__ = [
    "PCM_SAMPLE_RATE",
    "G711_SAMPLE_RATE",
    "audio_append_event",
    "audio_duration_ms",
    "bytes_per_second",
    "frame_from_base64",
    "frame_to_base64",
    "sample_rate_of",
]

PCM_SAMPLE_RATE = 24_000
G711_SAMPLE_RATE = 8_000


def sample_rate_of(fmt: AudioFormat) -> int:
    """Sample rate the format carries: 24,000 for PCM, 8,000 for G.711."""
    return PCM_SAMPLE_RATE if isinstance(fmt, PcmFormat) else G711_SAMPLE_RATE


def bytes_per_second(fmt: AudioFormat) -> int:
    """Payload bytes per second of audio: 48,000 for PCM16 @ 24 kHz, 8,000 for G.711."""
    return PCM_SAMPLE_RATE * 2 if isinstance(fmt, PcmFormat) else G711_SAMPLE_RATE


def audio_duration_ms(num_bytes: int, fmt: AudioFormat | None = None) -> float:
    """Duration in milliseconds of `num_bytes` of raw (decoded, not base64) payload."""
    return num_bytes * 1000.0 / bytes_per_second(fmt or PcmFormat())


def frame_to_base64(frame: AudioFrame, fmt: AudioFormat | None = None) -> str:
    """Encode a mono frame at the format's rate as a base64 payload."""
    fmt = fmt or PcmFormat()
    rate = sample_rate_of(fmt)
    if frame.num_channels != 1 or frame.sample_rate != rate:
        raise ValueError(
            f"the Realtime API takes mono audio at {rate} Hz for {fmt.type}: got "
            f"{frame.num_channels} channel(s) at {frame.sample_rate} Hz; resample and "
            "downmix first (voxtrio.audio.resample)"
        )
    pcm = frame.to_bytes()
    if isinstance(fmt, PcmuFormat):
        payload = ulaw_encode(pcm)
    elif isinstance(fmt, PcmaFormat):
        payload = alaw_encode(pcm)
    else:
        payload = pcm
    return base64.b64encode(payload).decode("ascii")


def frame_from_base64(data: str, fmt: AudioFormat | None = None, *, pts: float = 0.0) -> AudioFrame:
    """Decode a base64 payload (e.g. `response.output_audio.delta`) into a mono frame."""
    fmt = fmt or PcmFormat()
    try:
        payload = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProtocolError(f"audio is not valid base64: {exc}") from None
    if isinstance(fmt, PcmuFormat):
        payload = ulaw_decode(payload)
    elif isinstance(fmt, PcmaFormat):
        payload = alaw_decode(payload)
    elif len(payload) % 2:
        raise ProtocolError(f"PCM16 audio must have an even byte count, got {len(payload)} bytes")
    return AudioFrame.from_bytes(payload, sample_rate_of(fmt), num_channels=1, pts=pts)


def audio_append_event(
    frame: AudioFrame, fmt: AudioFormat | None = None, *, event_id: str | None = None
) -> InputAudioBufferAppend:
    """An `input_audio_buffer.append` event carrying `frame`."""
    return InputAudioBufferAppend(audio=frame_to_base64(frame, fmt), event_id=event_id)
