"""Audio payload helpers: base64 PCM16 @ 24 kHz and G.711 @ 8 kHz <-> AudioFrame."""

from __future__ import annotations

import base64

import numpy as np
import pytest

import voxtrio.protocols.openai_realtime as rt
from voxtrio.audio.frame import AudioFrame
from voxtrio.testing.conformance import check_client_event


def sine(rate: int, ms: int, amplitude: int = 8000) -> AudioFrame:
    n = rate * ms // 1000
    t = np.arange(n) / rate
    return AudioFrame.from_array((amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.int16), rate)


def test_pcm_round_trip_is_exact_and_sized_as_documented() -> None:
    frame = sine(24_000, 20)
    payload = rt.frame_to_base64(frame)
    assert len(base64.b64decode(payload)) == 960  # 20 ms at 48 bytes/ms
    back = rt.frame_from_base64(payload, pts=1.5)
    assert back.sample_rate == 24_000 and back.pts == 1.5
    assert np.array_equal(back.data, frame.data)


@pytest.mark.parametrize("fmt", [rt.PcmuFormat(), rt.PcmaFormat()], ids=lambda f: f.type)
def test_g711_round_trip_is_close(fmt: rt.AudioFormat) -> None:
    frame = sine(8_000, 20)
    payload = rt.frame_to_base64(frame, fmt)
    assert len(base64.b64decode(payload)) == 160  # 20 ms at 8 bytes/ms
    back = rt.frame_from_base64(payload, fmt)
    assert back.sample_rate == 8_000
    error = np.abs(back.data.astype(np.int32) - frame.data.astype(np.int32))
    assert error.max() <= 260  # G.711 quantisation step near 8000 is 256


def test_wrong_rate_or_channels_are_refused_with_advice() -> None:
    with pytest.raises(ValueError, match="mono audio at 24000 Hz.*resample"):
        rt.frame_to_base64(sine(16_000, 20))
    stereo = AudioFrame.from_array(np.zeros(960, np.int16), 24_000, num_channels=2)
    with pytest.raises(ValueError, match="2 channel"):
        rt.frame_to_base64(stereo)
    with pytest.raises(ValueError, match="8000 Hz"):
        rt.frame_to_base64(sine(24_000, 20), rt.PcmuFormat())


def test_bad_payloads_are_protocol_errors() -> None:
    with pytest.raises(rt.ProtocolError, match="base64"):
        rt.frame_from_base64("not base64!")
    with pytest.raises(rt.ProtocolError, match="even byte count"):
        rt.frame_from_base64(base64.b64encode(b"\x00\x01\x02").decode())


def test_empty_payload_is_an_empty_frame() -> None:
    assert rt.frame_from_base64("").samples_per_channel == 0


def test_durations() -> None:
    assert rt.audio_duration_ms(960) == 20.0
    assert rt.audio_duration_ms(160, rt.PcmuFormat()) == 20.0
    assert rt.sample_rate_of(rt.PcmaFormat()) == 8_000
    assert rt.bytes_per_second(rt.PcmFormat()) == 48_000


def test_append_event_carries_the_frame_and_conforms() -> None:
    frame = sine(24_000, 100)
    event = rt.audio_append_event(frame, event_id="a1")
    check_client_event(rt.encode(event))
    assert np.array_equal(rt.frame_from_base64(event.audio).data, frame.data)
