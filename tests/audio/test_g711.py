"""G.711 against an independent bit-level reference and the standard's known values.

The reference below follows the ITU-T G.191 STL routines sample by sample (loops and
shifts), while the module builds vectorised lookup tables: agreement over all 65,536
inputs and 256 codes pins the tables to the standard.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from voxtrio.audio.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode

ALL_INT16 = np.arange(-32768, 32768, dtype=np.int32).astype(np.int16)
ALL_CODES = np.arange(256, dtype=np.uint8)


def ref_ulaw_compress(x: int) -> int:
    absno = ((~x) >> 2) + 33 if x < 0 else (x >> 2) + 33
    absno = min(absno, 0x1FFF)
    i = absno >> 6
    segno = 1
    while i != 0:
        segno += 1
        i >>= 1
    high = 8 - segno
    low = 0xF - ((absno >> segno) & 0xF)
    code = (high << 4) | low
    return code | 0x80 if x >= 0 else code


def ref_ulaw_expand(code: int) -> int:
    sign = -1 if code < 0x80 else 1
    mantissa = ~code
    exponent = (mantissa >> 4) & 0x7
    segment = exponent + 1
    mantissa &= 0xF
    step = 4 << segment
    return sign * ((0x80 << exponent) + step * mantissa + step // 2 - 4 * 33)


def ref_alaw_compress(x: int) -> int:
    ix = (~x) >> 4 if x < 0 else x >> 4
    if ix > 15:
        iexp = 1
        while ix > 16 + 15:
            ix >>= 1
            iexp += 1
        ix -= 16
        ix += iexp << 4
    if x >= 0:
        ix |= 0x80
    return ix ^ 0x55


def ref_alaw_expand(code: int) -> int:
    ix = (code ^ 0x55) & 0x7F
    iexp = ix >> 4
    mant = ix & 0xF
    if iexp > 0:
        mant += 16
    mant = (mant << 4) + 8
    if iexp > 1:
        mant <<= iexp - 1
    return mant if code > 127 else -mant


def test_ulaw_encoder_matches_reference_for_every_sample() -> None:
    expected = np.array([ref_ulaw_compress(int(x)) for x in ALL_INT16], np.uint8)
    assert np.array_equal(ulaw_encode(ALL_INT16), expected)


def test_alaw_encoder_matches_reference_for_every_sample() -> None:
    expected = np.array([ref_alaw_compress(int(x)) for x in ALL_INT16], np.uint8)
    assert np.array_equal(alaw_encode(ALL_INT16), expected)


def test_decoders_match_reference_for_every_code() -> None:
    assert ulaw_decode(ALL_CODES).tolist() == [ref_ulaw_expand(c) for c in range(256)]
    assert alaw_decode(ALL_CODES).tolist() == [ref_alaw_expand(c) for c in range(256)]


@pytest.mark.parametrize(
    ("sample", "ulaw", "alaw"),
    [
        (0, 0xFF, 0xD5),
        (-1, 0x7F, 0x55),  # one's complement: -1 is a (negative) zero
        (32767, 0x80, 0xAA),
        (-32768, 0x00, 0x2A),
        (8, 0xFE, 0xD5),
        (1000, 0xCE, 0xFA),
    ],
)
def test_known_codes(sample: int, ulaw: int, alaw: int) -> None:
    x = np.array([sample], np.int16)
    assert ulaw_encode(x)[0] == ulaw
    assert alaw_encode(x)[0] == alaw


def test_known_decoded_values() -> None:
    # μ-law: the zero codes, the peaks and the first segment's steps of 8 (2 in 14-bit).
    assert ulaw_decode(np.array([0xFF, 0x7F, 0x80, 0x00, 0xFE, 0xFD], np.uint8)).tolist() == [
        0, 0, 32124, -32124, 8, 16,
    ]  # fmt: skip
    # A-law: no zero code; the first steps are ±8, ±24 (1 and 3 in 13-bit), peaks ±32256.
    assert alaw_decode(np.array([0xD5, 0x55, 0xD4, 0xAA, 0x2A], np.uint8)).tolist() == [
        8, -8, 24, 32256, -32256,
    ]  # fmt: skip


def test_bytes_in_bytes_out() -> None:
    pcm = np.array([0, 1000, -1000, 32767], np.int16).astype("<i2").tobytes()
    coded = ulaw_encode(pcm)
    assert isinstance(coded, bytes) and len(coded) == 4
    assert coded == bytes(ulaw_encode(np.frombuffer(pcm, "<i2").astype(np.int16)))
    decoded = ulaw_decode(coded)
    assert isinstance(decoded, bytes) and len(decoded) == 8
    assert alaw_decode(alaw_encode(bytearray(pcm))) == alaw_decode(alaw_encode(pcm))
    with pytest.raises(ValueError, match="even byte count"):
        ulaw_encode(b"\x00\x01\x02")


def test_array_shape_is_kept_and_dtypes_checked() -> None:
    stereo = np.zeros((10, 2), np.int16)
    assert ulaw_encode(stereo).shape == (10, 2)
    assert alaw_decode(np.zeros((3, 2), np.uint8)).dtype == np.int16
    with pytest.raises(TypeError, match="int16"):
        ulaw_encode(np.zeros(4, np.float32))
    with pytest.raises(TypeError, match="uint8"):
        alaw_decode(np.zeros(4, np.int16))


def test_codes_survive_decode_then_encode() -> None:
    non_negative_zero = ALL_CODES[ALL_CODES != 0x7F]  # μ-law -0 re-encodes as +0
    assert np.array_equal(ulaw_encode(ulaw_decode(non_negative_zero)), non_negative_zero)
    assert np.array_equal(alaw_encode(alaw_decode(ALL_CODES)), ALL_CODES)


@settings(max_examples=80, deadline=None)
@given(hnp.arrays(np.int16, st.integers(0, 200)))
def test_round_trip_stays_within_quantisation_error(samples: np.ndarray) -> None:
    x = samples.astype(np.int32)
    # Each segment has 16 steps and a step is at most 1/16 of the segment's lower
    # edge, so the error is at most half a step: |x| / 32, plus the first segment's
    # half step (4 for μ-law, 8 for A-law) and rounding; the clipping region above
    # the top code (32124 / 32256) also fits in this bound.
    for encode, decode, floor in ((ulaw_encode, ulaw_decode, 8), (alaw_encode, alaw_decode, 16)):
        error = np.abs(decode(encode(samples)).astype(np.int32) - x)
        assert np.all(error <= np.abs(x) / 32 + floor)
