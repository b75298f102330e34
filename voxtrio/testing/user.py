"""A scripted user for virtual-time conversation tests.

    user = ScriptedUser()
    user.says("book a table for two", at=0.5, duration=2.0, stt_delay=0.2)
    user.noise(at=4.0, duration=0.3)                 # a cough: sound, no words
    session = AgentSession(vad=user.vad(), stt=user.stt(), llm=..., tts=FakeTTS())
    async with session.start(audio_in=user.source(), audio_out=MemorySink(24_000)):
        ...

The user's audio is real audio (a tone while they speak, silence otherwise) that goes
through the session's real actors: the mic reader paces it on trio's clock, the VAD
(`user.vad()`, an energy detector) hears the tone, and the STT (`user.stt()`) delivers
the scripted transcript `stt_delay` seconds after the utterance ends, as a real
streaming STT would. Times are seconds from the start of the audio.
"""

from __future__ import annotations

import attrs
import numpy as np

from voxtrio.audio.sources import MemorySource
from voxtrio.engines.fake import FakeSpeech, FakeSTT, FakeVAD, tone
from voxtrio.engines.vad import VADOptions

__all__ = ["ScriptedUser", "Utterance"]


@attrs.frozen(slots=True)
class Utterance:
    text: str
    at: float
    duration: float
    stt_delay: float


class ScriptedUser:
    """See the module docstring. `sample_rate` is the microphone's rate."""

    def __init__(self, *, sample_rate: int = 16_000, tail: float = 2.0) -> None:
        self.sample_rate = sample_rate
        self.tail = tail
        self.utterances: list[Utterance] = []
        self.noises: list[tuple[float, float]] = []

    def says(self, text: str, *, at: float, duration: float | None = None, stt_delay: float = 0.2) -> ScriptedUser:
        """Speak `text` from `at` for `duration` s (default: 0.4 s per word)."""
        if at < 0:
            raise ValueError(f"at must be >= 0 seconds, got {at}")
        length = duration if duration is not None else 0.4 * max(len(text.split()), 1)
        if length <= 0:
            raise ValueError(f"duration must be > 0 seconds, got {length}")
        self._check_overlap(at, length)
        self.utterances.append(Utterance(text, at, length, stt_delay))
        return self

    def noise(self, *, at: float, duration: float) -> ScriptedUser:
        """Make a sound with no words (a cough, a door) from `at` for `duration` s."""
        self._check_overlap(at, duration)
        self.noises.append((at, duration))
        return self

    @property
    def length(self) -> float:
        """Seconds of audio: the last sound's end plus `tail`."""
        ends = [u.at + u.duration for u in self.utterances] + [a + d for a, d in self.noises]
        return (max(ends) if ends else 0.0) + self.tail

    def audio(self, length: float | None = None) -> np.ndarray:
        total = round((length if length is not None else self.length) * self.sample_rate)
        samples = np.zeros(total, dtype=np.int16)
        spans = [(u.at, u.duration) for u in self.utterances] + self.noises
        for at, duration in spans:
            start = round(at * self.sample_rate)
            count = min(round(duration * self.sample_rate), total - start)
            if count > 0:
                samples[start : start + count] = tone(220.0, count, self.sample_rate)
        return samples

    def source(self, *, length: float | None = None, realtime: bool = True) -> MemorySource:
        """The microphone: this user's audio, paced on trio's clock."""
        return MemorySource(self.audio(length), sample_rate=self.sample_rate, realtime=realtime)

    def stt(self, **kwargs: object) -> FakeSTT:
        """An STT that hears exactly the scripted words."""
        speeches = [FakeSpeech(u.text, u.at, u.at + u.duration, u.stt_delay) for u in self.utterances]
        return FakeSTT(speeches=speeches, **kwargs)  # type: ignore[arg-type]

    def vad(self, *, min_silence_duration: float = 0.5, min_speech_duration: float = 0.05) -> FakeVAD:
        """An energy VAD that hears the tone (20 ms windows)."""
        return FakeVAD(
            options=VADOptions(
                min_speech_duration=min_speech_duration,
                min_silence_duration=min_silence_duration,
                prefix_padding_duration=0.2,
            )
        )

    def _check_overlap(self, at: float, duration: float) -> None:
        spans = [(u.at, u.duration) for u in self.utterances] + self.noises
        for other_at, other_duration in spans:
            if at < other_at + other_duration and other_at < at + duration:
                raise ValueError(
                    f"sound at {at}-{at + duration} s overlaps one at {other_at}-{other_at + other_duration} s"
                )
