"""Real speech for tests: the committed fixtures, speech made by the default TTS, scoring.

    fixtures = load_speech_fixtures()                   # natural English, 16 kHz, with text
    track, spans = compose_speech([1.5, fixtures[0].frame, 1.0, fixtures[1].frame, 1.0])
    noisy = add_white_noise(track, snr_db=10, seed=1)   # deterministic
    frame = await synthesize_speech("turn on the lights")          # espeak, 16 kHz
    wer = word_error_rate(["turn on the lights"], ["turn on the light"])  # 0.25

The fixtures live in `tests/fixtures/speech/` of the source tree (WAV + transcripts.json,
made once by its `generate.py` with a Piper voice); pass `directory=` when the tests
live elsewhere. Everything here is plain numpy except `synthesize_speech`, which runs
the default TTS (a worker process) and must be awaited inside trio.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import soxr  # type: ignore[import-untyped]

from voxtrio.audio.frame import AudioFrame
from voxtrio.audio.wav import read_wav_frame

__all__ = [
    "FIXTURES_DIR",
    "SpeechFixture",
    "add_white_noise",
    "compose_speech",
    "load_speech_fixtures",
    "normalize_words",
    "phrase_grammar",
    "resample_frame",
    "speech_span",
    "split_frames",
    "synthesize_speech",
    "word_error_rate",
]

FIXTURES_DIR = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "speech"
#: |sample| above this (-50 dBFS) counts as speech when finding true spans.
SPAN_THRESHOLD = 104

Span = tuple[float, float]


@attrs.frozen(slots=True)
class SpeechFixture:
    """One recorded sentence: file name, what was said, the audio (16 kHz mono)."""

    name: str
    text: str
    frame: AudioFrame


def load_speech_fixtures(directory: Path | str | None = None) -> list[SpeechFixture]:
    """The fixture sentences in file-name order."""
    folder = Path(directory) if directory is not None else FIXTURES_DIR
    transcripts_file = folder / "transcripts.json"
    if not transcripts_file.exists():
        raise FileNotFoundError(
            f"no speech fixtures at {folder}: pass directory= pointing at a folder with "
            "transcripts.json and its WAV files (see tests/fixtures/speech/generate.py)"
        )
    transcripts: dict[str, str] = json.loads(transcripts_file.read_text())
    return [
        SpeechFixture(name, text, read_wav_frame(folder / name))
        for name, text in sorted(transcripts.items())
    ]


def normalize_words(text: str) -> list[str]:
    """Lower-case words without punctuation (what WER compares)."""
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split()


def word_error_rate(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Word-level Levenshtein distance summed over pairs, divided by the reference words."""
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    errors = words = 0
    for reference, hypothesis in zip(references, hypotheses, strict=True):
        ref, hyp = normalize_words(reference), normalize_words(hypothesis)
        words += len(ref)
        row = list(range(len(hyp) + 1))
        for i, r in enumerate(ref, 1):
            previous, row[0] = row[0], i
            for j, h in enumerate(hyp, 1):
                previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (r != h))
        errors += row[-1]
    return errors / max(words, 1)


def speech_span(frame: AudioFrame, threshold: int = SPAN_THRESHOLD) -> Span | None:
    """First and last instant (s, relative to the frame) where |sample| > threshold."""
    loud = np.flatnonzero(np.abs(frame.data[:, 0].astype(np.int32)) > threshold)
    if loud.size == 0:
        return None
    return loud[0] / frame.sample_rate, (loud[-1] + 1) / frame.sample_rate


def compose_speech(
    parts: Sequence[float | AudioFrame], sample_rate: int = 16_000
) -> tuple[AudioFrame, list[Span]]:
    """Concatenate silences (seconds, as floats) and utterances; return the track and
    each utterance's true speech span (sample-level threshold) in track seconds."""
    pieces: list[npt.NDArray[np.int16]] = []
    spans: list[Span] = []
    offset = 0
    for part in parts:
        if isinstance(part, AudioFrame):
            frame = resample_frame(part, sample_rate)
            span = speech_span(frame)
            if span is not None:
                start = offset / sample_rate
                spans.append((start + span[0], start + span[1]))
            samples = frame.data[:, 0]
        else:
            samples = np.zeros(round(float(part) * sample_rate), np.int16)
        pieces.append(samples)
        offset += samples.size
    track = np.concatenate(pieces) if pieces else np.zeros(0, np.int16)
    return AudioFrame.from_array(track, sample_rate), spans


def add_white_noise(
    frame: AudioFrame, snr_db: float, *, seed: int = 0, spans: Sequence[Span] | None = None
) -> AudioFrame:
    """`frame` plus Gaussian white noise at `snr_db` below the speech power.

    Speech power is measured over `spans` (seconds) when given, else over the samples
    louder than the span threshold (so long silences do not dilute it).
    """
    samples = frame.data[:, 0].astype(np.float64)
    if spans:
        rate = frame.sample_rate
        mask = np.zeros(samples.size, bool)
        for start, end in spans:
            mask[int(start * rate) : int(end * rate)] = True
        speech = samples[mask]
    else:
        speech = samples[np.abs(samples) > SPAN_THRESHOLD]
    power = float(np.mean(speech**2)) if speech.size else 0.0
    noise_rms = np.sqrt(power / (10 ** (snr_db / 10)))
    noise = np.random.default_rng(seed).normal(0.0, noise_rms, samples.size)
    mixed = np.clip(np.round(samples + noise), -32768, 32767).astype(np.int16)
    return AudioFrame.from_array(mixed, frame.sample_rate, 1, frame.pts)


def split_frames(frame: AudioFrame, duration: float = 0.02) -> list[AudioFrame]:
    """Cut `frame` into consecutive frames of `duration` seconds (the last may be short)."""
    step = max(1, round(duration * frame.sample_rate))
    data = frame.data
    return [
        AudioFrame(data[i : i + step], frame.sample_rate, frame.pts + i / frame.sample_rate)
        for i in range(0, data.shape[0], step)
    ]


def resample_frame(frame: AudioFrame, sample_rate: int) -> AudioFrame:
    """`frame` (mono) at `sample_rate`, one-shot soxr HQ."""
    if frame.sample_rate == sample_rate:
        return frame
    out = soxr.resample(frame.data[:, 0], frame.sample_rate, sample_rate, quality="HQ")
    return AudioFrame.from_array(np.asarray(out, np.int16), sample_rate, 1, frame.pts)


def phrase_grammar(phrases: Sequence[str], name: str = "phrases") -> str:
    """A JSGF grammar accepting exactly one of `phrases` (for `PocketSphinxSTT(grammar=)`).

    Words are normalised like `normalize_words` (lower case, no punctuation). Each
    phrase is one whole alternative: no prefix of a phrase is accepted on its own, so
    a hypothesis that is a cut-off phrase ("what time" for "what time is it") is a
    decoder fault, not the grammar's. Raises ValueError for no phrases or a phrase
    without words (JSGF cannot express an empty alternative).
    """
    words = [normalize_words(p) for p in phrases]
    if not words or not all(words):
        raise ValueError(f"phrase_grammar needs phrases with at least one word each: {phrases!r}")
    alternatives = " | ".join(" ".join(w) for w in words)
    return f"#JSGF V1.0;\ngrammar {name};\npublic <{name}> = {alternatives} ;\n"


async def synthesize_speech(
    text: str, *, tts: Any = None, sample_rate: int = 16_000, pad: float = 0.3
) -> AudioFrame:
    """Speak `text` with `tts` (default: a temporary EspeakTTS) at `sample_rate`, with
    `pad` seconds of silence on both sides (recognisers want a clean start and end)."""
    from voxtrio.audio.combine import combine_audio_frames

    own = tts is None
    if own:
        from voxtrio.engines.espeak import EspeakTTS

        tts = EspeakTTS(max_workers=1)
    try:
        async with tts.synthesize(text) as stream:
            frames = [audio.frame async for audio in stream if audio.frame.samples_per_channel]
    finally:
        if own:
            await tts.aclose()
    speech = resample_frame(combine_audio_frames(frames), sample_rate)
    silence = np.zeros(round(pad * sample_rate), np.int16)
    samples = np.concatenate((silence, speech.data[:, 0], silence))
    return AudioFrame.from_array(samples, sample_rate)
