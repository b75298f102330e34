"""G.711 μ-law and A-law, the 8-bit telephony codecs (Twilio, SIP, PSTN).

    payload = ulaw_encode(frame.to_bytes())          # PCM16 bytes -> μ-law bytes
    pcm = ulaw_decode(payload)                       # μ-law bytes -> PCM16 bytes
    codes = alaw_encode(frame.data)                  # int16 array -> uint8 array

Contract: bit-exact with ITU-T G.711 as implemented by the ITU's reference code
(G.191 Software Tool Library): 16-bit input is reduced to the codec's 14-bit (μ-law)
or 13-bit (A-law) magnitude, negatives by one's complement, so -1 and 0 fall in the
two zero codes. Decoding returns the centre of each quantisation step as 16-bit PCM
(μ-law peaks at ±32124, A-law at ±32256).

Types: bytes-like input gives `bytes` back (PCM16 little-endian on the linear side);
a numpy array gives an array of the same shape back (int16 on the linear side, uint8
on the coded side). Everything goes through 64 KiB / 256-entry lookup tables built at
import, so a second of 8 kHz audio costs a few microseconds.
"""

from __future__ import annotations

from typing import overload

import numpy as np
import numpy.typing as npt

__all__ = ["alaw_decode", "alaw_encode", "ulaw_decode", "ulaw_encode"]

BytesLike = bytes | bytearray | memoryview


@overload
def ulaw_encode(samples: BytesLike) -> bytes: ...
@overload
def ulaw_encode(samples: npt.NDArray[np.int16]) -> npt.NDArray[np.uint8]: ...
def ulaw_encode(samples: BytesLike | npt.NDArray[np.int16]) -> bytes | npt.NDArray[np.uint8]:
    """Encode PCM16 samples to μ-law codes (one byte per sample)."""
    return _encode(_ULAW_ENCODE, samples)


@overload
def ulaw_decode(codes: BytesLike) -> bytes: ...
@overload
def ulaw_decode(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.int16]: ...
def ulaw_decode(codes: BytesLike | npt.NDArray[np.uint8]) -> bytes | npt.NDArray[np.int16]:
    """Decode μ-law codes to PCM16 samples."""
    return _decode(_ULAW_DECODE, codes)


@overload
def alaw_encode(samples: BytesLike) -> bytes: ...
@overload
def alaw_encode(samples: npt.NDArray[np.int16]) -> npt.NDArray[np.uint8]: ...
def alaw_encode(samples: BytesLike | npt.NDArray[np.int16]) -> bytes | npt.NDArray[np.uint8]:
    """Encode PCM16 samples to A-law codes (one byte per sample)."""
    return _encode(_ALAW_ENCODE, samples)


@overload
def alaw_decode(codes: BytesLike) -> bytes: ...
@overload
def alaw_decode(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.int16]: ...
def alaw_decode(codes: BytesLike | npt.NDArray[np.uint8]) -> bytes | npt.NDArray[np.int16]:
    """Decode A-law codes to PCM16 samples."""
    return _decode(_ALAW_DECODE, codes)


def _encode(
    table: npt.NDArray[np.uint8], samples: BytesLike | npt.NDArray[np.int16]
) -> bytes | npt.NDArray[np.uint8]:
    if isinstance(samples, np.ndarray):
        if samples.dtype != np.int16:
            raise TypeError(f"G.711 encoding needs int16 samples, got dtype {samples.dtype}")
        return table[samples.view(np.uint16)]
    size = memoryview(samples).nbytes
    if size % 2:
        raise ValueError(
            f"PCM16 data must have an even byte count (2 bytes per sample), got {size} bytes"
        )
    pcm = np.frombuffer(samples, dtype="<u2")
    return bytes(table[pcm].data)


def _decode(
    table: npt.NDArray[np.int16], codes: BytesLike | npt.NDArray[np.uint8]
) -> bytes | npt.NDArray[np.int16]:
    if isinstance(codes, np.ndarray):
        if codes.dtype != np.uint8:
            raise TypeError(f"G.711 decoding needs uint8 codes, got dtype {codes.dtype}")
        return table[codes]
    return table[np.frombuffer(codes, dtype=np.uint8)].astype("<i2", copy=False).tobytes()


def _linear_inputs() -> npt.NDArray[np.int32]:
    # Index i of an encode table is the int16 sample whose bit pattern is i.
    return np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.int16).astype(np.int32)


def _build_ulaw_encode() -> npt.NDArray[np.uint8]:
    x = _linear_inputs()
    magnitude = np.where(x < 0, ~x, x) >> 2  # 14-bit magnitude, one's complement for negatives
    biased = np.minimum(magnitude + 33, 0x1FFF)
    exponent = np.searchsorted(np.array([64, 128, 256, 512, 1024, 2048, 4096]), biased, "right")
    mantissa = (biased >> (exponent + 1)) & 0xF
    code: npt.NDArray[np.int64] = (~((exponent << 4) | mantissa)) & 0x7F  # sent inverted
    code |= np.where(x >= 0, 0x80, 0)
    return code.astype(np.uint8)


def _build_ulaw_decode() -> npt.NDArray[np.int16]:
    inverted = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (inverted >> 4) & 0x7
    mantissa = inverted & 0xF
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(inverted & 0x80, -magnitude, magnitude).astype(np.int16)


def _build_alaw_encode() -> npt.NDArray[np.uint8]:
    x = _linear_inputs()
    magnitude = np.where(x < 0, ~x, x) >> 4  # 12-bit magnitude, one's complement for negatives
    exponent = np.searchsorted(np.array([16, 32, 64, 128, 256, 512, 1024]), magnitude, "right")
    mantissa = np.where(exponent == 0, magnitude, magnitude >> np.maximum(exponent - 1, 0)) & 0xF
    code = (exponent << 4) | mantissa
    code |= np.where(x >= 0, 0x80, 0)
    return (code ^ 0x55).astype(np.uint8)  # even bits are inverted on the line


def _build_alaw_decode() -> npt.NDArray[np.int16]:
    code = np.arange(256, dtype=np.int32) ^ 0x55
    exponent = (code >> 4) & 0x7
    step = ((code & 0xF) << 4) + 8
    magnitude = np.where(exponent == 0, step, (step + 0x100) << np.maximum(exponent - 1, 0))
    return np.where(code & 0x80, magnitude, -magnitude).astype(np.int16)


_ULAW_ENCODE = _build_ulaw_encode()
_ULAW_DECODE = _build_ulaw_decode()
_ALAW_ENCODE = _build_alaw_encode()
_ALAW_DECODE = _build_alaw_decode()
for _table in (_ULAW_ENCODE, _ULAW_DECODE, _ALAW_ENCODE, _ALAW_DECODE):
    _table.flags.writeable = False
