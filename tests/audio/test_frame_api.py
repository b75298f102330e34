"""The public face of voxtrio.audio: what docs/audio.md promises is importable from it."""

from __future__ import annotations

import importlib

import voxtrio.audio

MODULES = [
    "frame",
    "combine",
    "byte_stream",
    "resample",
    "g711",
    "mix",
    "levels",
    "generate",
    "wav",
    "devices",
    "sources",
    "sinks",
]


def test_every_public_name_of_the_submodules_is_re_exported() -> None:
    exported = set(voxtrio.audio.__all__)
    for module in MODULES:
        names = set(importlib.import_module(f"voxtrio.audio.{module}").__all__)
        assert names <= exported, f"voxtrio.audio misses {sorted(names - exported)} from {module}"


def test_exported_names_exist_and_are_the_originals() -> None:
    from voxtrio.audio.frame import AudioFrame
    from voxtrio.audio.wav import WavFormatError

    assert len(voxtrio.audio.__all__) == len(set(voxtrio.audio.__all__))
    for name in voxtrio.audio.__all__:
        assert hasattr(voxtrio.audio, name), name
    assert voxtrio.audio.AudioFrame is AudioFrame
    assert voxtrio.audio.WavFormatError is WavFormatError
    assert issubclass(WavFormatError, voxtrio.audio.AudioFormatError)
    assert issubclass(voxtrio.audio.AudioFormatError, ValueError)
