"""Split text into sentences, all at once or as it streams in (for sentence-by-sentence TTS).

    SentenceTokenizer().tokenize("Hello there, Dr. Smith. It is 3.5 degrees! Bye")
    # ['Hello there, Dr. Smith.', 'It is 3.5 degrees!', 'Bye']

    stream = SentenceTokenizer().stream()
    stream.push("Hello there. How ar")   # -> ['Hello there.']  (complete sentences only)
    stream.push("e you? Fine")           # -> ['How are you?']
    stream.flush()                       # -> ['Fine']          (the rest)

Contract: a sentence ends at `.`, `!`, `?` or `…` (optionally followed by closing quotes
or brackets) followed by whitespace, or at a blank line. A streamed sentence is released
only once the whitespace after it has arrived, so "3." + "5" is never split. Not
boundaries: common abbreviations ("Dr.", "e.g.", "etc."), single-letter initials
("J. Smith"), numbers ("3.5"). Sentences shorter than `min_sentence_len` characters are
joined with the next one (TTS engines sound odd on tiny fragments) except the last.
Whitespace around sentences is stripped; empty sentences are never returned. Pure
Python, no trio: safe to call from anywhere.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["SentenceStream", "SentenceTokenizer", "split_sentences"]

_ABBREVIATIONS: Final = frozenset(
    "mr mrs ms dr prof sr jr st vs etc e.g i.e eg ie no fig approx dept est inc ltd co "
    "jan feb mar apr jun jul aug sep sept oct nov dec mt ave blvd rd".split()
)
_LOOK_BACK: Final = 32
_LAST_WORD: Final = re.compile(r"([\w.]+)$")
_BOUNDARY: Final = re.compile(r"(?:[.!?…]+[\"'”’)\]]*\s+)|(?:\n\s*\n\s*)")


class SentenceTokenizer:
    """Sentence splitting options; `tokenize` for whole texts, `stream` for deltas."""

    def __init__(self, *, min_sentence_len: int = 20) -> None:
        if min_sentence_len < 0:
            raise ValueError(f"min_sentence_len must be >= 0, got {min_sentence_len}")
        self.min_sentence_len = min_sentence_len

    def tokenize(self, text: str) -> list[str]:
        stream = self.stream()
        return stream.push(text) + stream.flush()

    def stream(self) -> SentenceStream:
        return SentenceStream(min_sentence_len=self.min_sentence_len)


class SentenceStream:
    """Incremental sentence splitting (see the module docstring)."""

    def __init__(self, *, min_sentence_len: int = 20) -> None:
        self._min = min_sentence_len
        self._buffer = ""
        self._short = ""  # complete sentences waiting to reach min_sentence_len

    def push(self, text: str) -> list[str]:
        """Add `text`; return the sentences it completed."""
        self._buffer += text
        out: list[str] = []
        start = 0
        for match in _BOUNDARY.finditer(self._buffer):
            if not _is_boundary(self._buffer, match):
                continue
            self._emit(self._buffer[start : match.end()], out)
            start = match.end()
        self._buffer = self._buffer[start:]
        return out

    def flush(self) -> list[str]:
        """Return what is left (the last, possibly unfinished, sentence) and reset."""
        rest = (self._short + " " + self._buffer).strip() if self._short else self._buffer.strip()
        self._buffer = ""
        self._short = ""
        return [rest] if rest else []

    @property
    def pending(self) -> str:
        """Text received but not yet returned."""
        return (self._short + " " + self._buffer).strip() if self._short else self._buffer

    def _emit(self, sentence: str, out: list[str]) -> None:
        sentence = sentence.strip()
        if not sentence:
            return
        joined = f"{self._short} {sentence}" if self._short else sentence
        if len(joined) < self._min:
            self._short = joined
            return
        self._short = ""
        out.append(joined)


def split_sentences(text: str, *, min_sentence_len: int = 0) -> list[str]:
    """`text` split into sentences (no joining of short ones by default)."""
    return SentenceTokenizer(min_sentence_len=min_sentence_len).tokenize(text)


def _is_boundary(text: str, match: re.Match[str]) -> bool:
    if match.group(0).startswith("\n"):
        return True
    punct_at = match.start()
    if text[punct_at] != ".":
        return True
    # The word the period ends: abbreviations and initials do not end sentences.
    # Only the last word matters; a bounded look-back keeps splitting linear in the text.
    head = text[max(0, punct_at - _LOOK_BACK) : punct_at]
    word_match = _LAST_WORD.search(head)
    if word_match is None:
        return True
    word = word_match.group(1).lower().rstrip(".")
    if word in _ABBREVIATIONS:
        return False
    return not (len(word) == 1 and word.isalpha() and head[-1].isupper())
