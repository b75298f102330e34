"""Offline text-to-speech with espeak-ng, synthesized in a worker process.

    tts = EspeakTTS()                                   # voice "en-us", 22,050 Hz
    async with tts.synthesize("Hello there.") as stream:
        async for audio in stream:                      # ~100 ms chunks
            play(audio.frame)
    await tts.aclose()

The library and its voice data ship in the `espeakng-loader` wheel (no system package
needed). It runs in a worker process from `voxtrio.engines.worker`: espeak-ng is GPL-3,
and keeping it in a separate process (talking over a pipe) keeps its code out of the
voxtrio process; it also keeps its CPU work off the trio thread. Synthesis is about a
thousand times faster than real time; the worker splits text into sentences and sends
each sentence's audio as soon as it exists, in chunks of `chunk_ms` (default 100 ms).

Voices: any espeak-ng voice name (`en-us`, `en-gb`, `de`, ...). `rate` is words per
minute (espeak's default 175), `pitch` 0-100 (50). The voice is robotic: pocketsphinx
transcribes it poorly without a grammar (see `voxtrio.engines.pocketsphinx`).
"""

from __future__ import annotations

import ctypes
import re
from collections.abc import Iterator, Mapping
from typing import Any

import trio

from voxtrio.audio.frame import AudioFrame
from voxtrio.core.fast_clock import real_work
from voxtrio.engines.errors import APIConnectOptions
from voxtrio.engines.tts import TTS, AudioOutput
from voxtrio.engines.worker._host import WorkerPool
from voxtrio.engines.worker._protocol import Message

__all__ = ["EspeakTTS", "make_handler"]

SAMPLE_RATE = 22_050
_TARGET = "voxtrio.engines.espeak:make_handler"


class EspeakTTS(TTS):
    """The default TTS (see the module docstring). Call `aclose()` to stop its worker."""

    def __init__(
        self,
        *,
        voice: str = "en-us",
        rate: int = 175,
        pitch: int = 50,
        chunk_ms: int = 100,
        max_workers: int = 2,
        start_timeout: float = 20.0,
    ) -> None:
        super().__init__(sample_rate=SAMPLE_RATE, label="espeak-ng")
        self.voice = voice
        self.pool = WorkerPool(
            _TARGET,
            {"voice": voice, "rate": rate, "pitch": pitch, "chunk_ms": chunk_ms},
            max_workers=max_workers,
            start_timeout=start_timeout,
        )

    async def prewarm(self) -> None:
        """Start the worker now, so the first synthesis does not wait for it."""
        await self.pool.prewarm()

    async def aclose(self) -> None:
        await self.pool.aclose()

    async def __aenter__(self) -> EspeakTTS:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _synthesize_impl(
        self, text: str, output: AudioOutput, *, conn_options: APIConnectOptions
    ) -> None:
        async with self.pool.lease() as worker:
            call = await worker.start_call("synthesize", {"text": text})
            try:
                while True:
                    with real_work():  # the worker synthesizing (not our consumer)
                        message = await worker.next_reply(call)
                    if message.op == "end":
                        break
                    await output.push(AudioFrame.from_bytes(message.payload, SAMPLE_RATE))
            finally:
                with trio.CancelScope(shield=True):
                    await worker.finish_call(call)


# -- the child side: runs inside the worker process -----------------------------------

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_RATE, _VOLUME, _PITCH = 1, 2, 3
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)
# A sentence ends at . ! ? (optionally followed by quotes/brackets) and whitespace.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+")


def make_handler(config: Mapping[str, Any]) -> EspeakHandler:
    return EspeakHandler(config)


class _Voice(ctypes.Structure):
    """espeak_VOICE: the properties `espeak_SetVoiceByProperties` matches."""

    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


def _select_voice(lib: Any, voice: str) -> bool:
    """By voice name or file ("en-us", "en-GB-x-rp"), else by language ("en-gb", "pt-br").

    Names alone miss common language codes: British English is the voice file "en"
    whose language is "en-gb", so `SetVoiceByName("en-gb")` fails.
    """
    if lib.espeak_SetVoiceByName(voice.encode()) == 0:
        return True
    wanted = _Voice(None, voice.lower().encode(), None, 0, 0, 0, 0, 0, None)
    return bool(lib.espeak_SetVoiceByProperties(ctypes.byref(wanted)) == 0)


class EspeakHandler:
    """libespeak-ng through ctypes, synchronous mode (audio handed to a callback)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        import espeakng_loader  # type: ignore[import-untyped]

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        chunk_ms = int(config.get("chunk_ms", 100))
        data_path = espeakng_loader.get_data_path().encode()
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, chunk_ms, data_path, 0)
        if rate <= 0:
            raise RuntimeError(f"espeak_Initialize failed ({rate}); data path {data_path!r}")
        self.sample_rate = rate
        voice = str(config.get("voice", "en-us"))
        if not _select_voice(lib, voice):
            raise ValueError(
                f"espeak-ng has no voice {voice!r}: give a language code ('en-us', 'en-gb', "
                "'de', 'fr', 'pt-br', ...) or a voice file name ('en-GB-x-rp', 'gmw/en')"
            )
        lib.espeak_SetParameter(_RATE, int(config.get("rate", 175)), 0)
        lib.espeak_SetParameter(_PITCH, int(config.get("pitch", 50)), 0)
        self._chunks: list[bytes] = []
        # Keep a reference: ctypes callbacks must outlive every call into the library.
        self._callback = _SYNTH_CALLBACK(self._on_audio)
        lib.espeak_SetSynthCallback(self._callback)
        self._lib = lib

    def _on_audio(self, wav: Any, count: int, _events: Any) -> int:
        if wav and count > 0:
            self._chunks.append(ctypes.string_at(wav, count * 2))
        return 0

    def handle(self, message: Message) -> Iterator[Message]:
        if message.op != "synthesize":
            raise ValueError(f"espeak worker: unknown op {message.op!r}")
        text = str(message.data.get("text", ""))
        for sentence in _SENTENCE_END.split(text.strip()):
            if not sentence.strip():
                continue
            for chunk in self.synthesize(sentence):
                yield message.reply("audio", payload=chunk)
        yield message.reply("end")

    def synthesize(self, text: str) -> list[bytes]:
        """PCM16 chunks (mono, `sample_rate`) for `text`."""
        self._chunks = []
        data = text.encode() + b"\0"
        self._lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        self._lib.espeak_Synchronize()
        chunks, self._chunks = self._chunks, []
        return chunks
