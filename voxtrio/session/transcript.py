"""Agent transcripts released in step with the audio the user actually heard.

    paced = PacedTranscript()
    paced.push_text("Sure, I can book that. ")
    paced.push_audio_duration(1.8)             # as the TTS produces audio for it
    paced.released_text(played=0.9)            # "Sure, I can"

The TTS engines we ship give no word timings, so words are placed on the audio
timeline by their syllable count: each word's share of the audio is its share of the
syllables. Until the reply's text is complete (`mark_text_complete`) its total audio is
unknown, so words are placed at the standard speaking rate (3.83 syllables per second);
TTS runs far faster than playout, so by the time a user interrupts, the whole reply is
usually known and the placement uses its real length.

A word counts as heard once its middle has been played: an interrupted assistant item
keeps exactly those words.
"""

from __future__ import annotations

import re

import attrs

__all__ = ["STANDARD_SYLLABLES_PER_SECOND", "PacedTranscript", "count_syllables"]

STANDARD_SYLLABLES_PER_SECOND = 3.83

_WORD = re.compile(r"\S+")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


def count_syllables(word: str) -> int:
    """A cheap English syllable estimate (vowel groups, silent final e); at least 1."""
    letters = re.sub(r"[^a-z]", "", word.lower())
    if not letters:
        return 1 if any(ch.isdigit() for ch in word) else 0
    groups = len(_VOWEL_GROUPS.findall(letters))
    if letters.endswith("e") and not letters.endswith(("le", "ee")) and groups > 1:
        groups -= 1
    return max(groups, 1)


@attrs.define
class PacedTranscript:
    """Accumulates a reply's text and audio length; answers what was heard by when."""

    speed: float = 1.0
    _text: str = ""
    _audio_duration: float = 0.0
    _text_complete: bool = False

    def push_text(self, delta: str) -> None:
        self._text += delta

    def push_audio_duration(self, seconds: float) -> None:
        self._audio_duration += seconds

    def mark_text_complete(self) -> None:
        """No more text will come: the known audio now spans the whole text."""
        self._text_complete = True

    @property
    def text(self) -> str:
        return self._text

    @property
    def audio_duration(self) -> float:
        return self._audio_duration

    def released_text(self, played: float) -> str:
        """The words heard after `played` seconds of this reply's audio."""
        words = [(m.end(), count_syllables(m.group())) for m in _WORD.finditer(self._text)]
        if not words:
            return ""
        total_syllables = sum(s for _, s in words)
        rate = STANDARD_SYLLABLES_PER_SECOND * self.speed
        if self._text_complete and self._audio_duration > 0 and total_syllables > 0:
            rate = total_syllables / self._audio_duration
        end_char = 0
        elapsed_syllables = 0.0
        for end, syllables in words:
            middle = (elapsed_syllables + syllables / 2) / rate
            if middle > played + 1e-9:
                break
            elapsed_syllables += syllables
            end_char = end
        return self._text[:end_char].strip()
