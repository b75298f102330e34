"""The live terminal view of `voxtrio console`: states, mic level, transcripts, latency.

    view = LiveView(sys.stdout)            # a TTY: one status line redrawn in place
    view.attach(session)                   # prints transcripts, replies, latencies
    view.set_level(-23.5)                  # the microphone's level, dBFS
    view.refresh()                         # redraw the status line (call ~10 times a second)

Contract: events worth keeping (final user transcripts, agent replies, the turn's
latency, errors) become permanent lines `[  t.ttt s] ...`, t in seconds since `start()`
on trio's clock. The status line shows the agent's and the user's state, an input level
meter (`mic [########............]  -18 dBFS`, -60..0 dBFS) and the transcript forming.

On a TTY the status line is redrawn in place (`\\r` and erase-line `\\x1b[K`), cut to the
terminal's width so it never wraps; permanent lines are written above it. When `out`
is not a TTY (a pipe, a log file, a StringIO in tests) there are no control codes at
all: state changes and interim transcripts become plain lines too, and `refresh()`
prints a `mic ...` line only when the meter's bar changed, so silence logs once.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from typing import Any, TextIO

import trio

from voxtrio.audio.levels import DBFS_FLOOR
from voxtrio.engines.chat import ChatMessage
from voxtrio.session.events import (
    AgentStateChangedEvent,
    AgentTranscribedEvent,
    ConversationItemAddedEvent,
    ErrorEvent,
    UserInputTranscribedEvent,
    UserStateChangedEvent,
)

__all__ = ["LiveView", "describe_error", "format_latency", "level_bar"]

METER_FLOOR = -60.0  # dBFS at the meter's left end: quieter is an empty bar
METER_CELLS = 20

_CLEAR_LINE = "\r\x1b[K"

# (label, chat-item metrics key, whose item holds it)
_STAGES: tuple[tuple[str, str, str], ...] = (
    ("VAD end", "vad_end_of_speech_delay", "user"),
    ("STT final", "transcription_delay", "user"),
    ("end of turn", "end_of_turn_delay", "user"),
    ("LLM 1st token", "llm_first_token_delay", "assistant"),
    ("TTS 1st audio", "tts_first_audio_delay", "assistant"),
)


def level_bar(dbfs: float, *, cells: int = METER_CELLS, floor: float = METER_FLOOR) -> str:
    """`[#######.............]`: `dbfs` on a linear dB scale from `floor` to 0 dBFS."""
    fraction = min(max((dbfs - floor) / -floor, 0.0), 1.0)
    filled = round(fraction * cells)
    return "[" + "#" * filled + "." * (cells - filled) + "]"


def format_latency(reply: ChatMessage, user: ChatMessage | None) -> str | None:
    """`latency: 735 ms to first audio (VAD end 400 ms, ...)`; None without `e2e_latency`.

    Every stage is in ms after the user stopped speaking; stages a turn did not record
    are left out.
    """
    e2e = reply.metrics.get("e2e_latency")
    if e2e is None:
        return None
    parts = []
    for label, key, role in _STAGES:
        source = reply if role == "assistant" else user
        value = source.metrics.get(key) if source is not None else None
        if value is not None:
            parts.append(f"{label} {value * 1000:.0f}")
    detail = f" ({', '.join(parts)} ms)" if parts else ""
    return f"latency: {e2e * 1000:.0f} ms from the end of speech to the first agent audio{detail}"


class LiveView:
    """See the module docstring. `tty=None` asks `out.isatty()`."""

    def __init__(self, out: TextIO, *, tty: bool | None = None, width: int | None = None) -> None:
        self.out = out
        self.tty = _isatty(out) if tty is None else tty
        self.width = width
        self.agent_state = "initializing"
        self.user_state = "listening"
        self.level_dbfs = DBFS_FLOOR
        self.forming = ""  # the interim transcript of the utterance in progress
        self.agent_saying = ""  # the agent's words heard so far in the reply playing
        self.last_latency: float | None = None
        self._t0: float | None = None
        self._status_on_screen = False
        self._last_bar: str | None = None
        self._drawn = ""  # the status text last drawn (TTY)
        self._session: Any = None

    # -- wiring -------------------------------------------------------------------------

    def attach(self, session: Any) -> None:
        """Subscribe to an `AgentSession`'s events."""
        self._session = session
        session.on("agent_state_changed", self.on_agent_state)
        session.on("user_state_changed", self.on_user_state)
        session.on("user_input_transcribed", self.on_transcribed)
        session.on("conversation_item_added", self.on_item_added)
        session.on("agent_transcribed", self.on_agent_transcribed)
        session.on("error", self.on_error)

    def start(self) -> None:
        """Start the clock of the `[t s]` stamps (trio time now is 0)."""
        self._t0 = trio.current_time()

    # -- output ---------------------------------------------------------------------------

    def line(self, text: str, *, stamp: bool = True) -> None:
        """A permanent line (above the status line on a TTY)."""
        if stamp:
            text = f"{self._stamp()} {text}"
        if self.tty:
            self.out.write(_CLEAR_LINE + text + "\n")
            self._status_on_screen = False
            self._draw_status()
        else:
            self.out.write(text + "\n")
        self.out.flush()

    def status_text(self) -> str:
        """The status line's text (no control codes)."""
        parts = [
            f"agent: {self.agent_state:<12}",
            f"user: {self.user_state:<9}",
            f"mic {level_bar(self.level_dbfs)} {_fmt_db(self.level_dbfs)}",
        ]
        if self.last_latency is not None:
            parts.append(f"last turn {self.last_latency * 1000:.0f} ms")
        if self.forming:
            parts.append(f"you: {self.forming}")
        elif self.agent_saying:
            parts.append(f"agent: {self.agent_saying}")
        return " | ".join(parts)

    def set_level(self, dbfs: float) -> None:
        self.level_dbfs = dbfs

    def refresh(self) -> None:
        """Redraw the status line (TTY), or log the meter when its bar changed (plain)."""
        if self.tty:
            if not (self._status_on_screen and self.status_text() == self._drawn):
                self._draw_status()  # unchanged: no need to write to the terminal
                self.out.flush()
            return
        bar = level_bar(self.level_dbfs)
        if bar != self._last_bar:
            self._last_bar = bar
            self.line(f"mic {bar} {_fmt_db(self.level_dbfs)}")

    def clear_status(self) -> None:
        """Remove the status line (before the final summary)."""
        if self.tty and self._status_on_screen:
            self.out.write(_CLEAR_LINE)
            self.out.flush()
            self._status_on_screen = False

    def _draw_status(self) -> None:
        if not self.tty:
            return
        width = self.width or shutil.get_terminal_size((100, 24)).columns
        self._drawn = self.status_text()
        self.out.write(_CLEAR_LINE + self._drawn[: max(width - 1, 10)])
        self._status_on_screen = True

    def _stamp(self) -> str:
        now = trio.current_time()
        t = now - (self._t0 if self._t0 is not None else now)
        return f"[{t:7.3f} s]"

    # -- events -----------------------------------------------------------------------------

    def on_agent_state(self, ev: AgentStateChangedEvent) -> None:
        self.agent_state = ev.new_state
        if self.tty:
            self.refresh()
        else:
            self.line(f"agent: {ev.old_state} -> {ev.new_state}")

    def on_user_state(self, ev: UserStateChangedEvent) -> None:
        self.user_state = ev.new_state
        if self.tty:
            self.refresh()
        else:
            self.line(f"user: {ev.old_state} -> {ev.new_state}")

    def on_transcribed(self, ev: UserInputTranscribedEvent) -> None:
        if ev.is_final:
            self.forming = ""
            self.line(f"you said: {ev.transcript}")
            return
        self.forming = ev.transcript
        if self.tty:
            self.refresh()
        else:
            self.line(f"you (forming): {ev.transcript}")

    def on_agent_transcribed(self, ev: AgentTranscribedEvent) -> None:
        """The agent's words as they are heard: shown on the status line (TTY only)."""
        self.agent_saying = "" if ev.is_final else ev.transcript[-60:]
        if self.tty:
            self.refresh()

    def on_item_added(self, ev: ConversationItemAddedEvent) -> None:
        item = ev.item
        if item.role != "assistant":
            return
        cut = " (interrupted)" if item.interrupted else ""
        self.line(f"agent{cut}: {item.text_content}")
        latency = format_latency(item, self._user_item(item.turn_id))
        if latency is not None:
            self.last_latency = item.metrics["e2e_latency"]
            self.line(latency)

    def on_error(self, ev: ErrorEvent) -> None:
        kind = "recoverable error" if ev.recoverable else "error"
        self.line(f"{kind} in {ev.source}: {describe_error(ev.error)}")

    def _user_item(self, turn_id: str | None) -> ChatMessage | None:
        if turn_id is None or self._session is None:
            return None
        messages: Sequence[ChatMessage] = self._session.history.messages()
        for message in reversed(messages):
            if message.role == "user" and message.turn_id == turn_id:
                return message
        return None


def describe_error(error: BaseException) -> str:
    """`OSError: the microphone was unplugged`, out of any single-error groups around it."""
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return f"{type(error).__name__}: {error}"


def _fmt_db(dbfs: float) -> str:
    return " -inf dBFS" if dbfs <= DBFS_FLOOR else f"{dbfs:5.0f} dBFS"


def _isatty(out: TextIO) -> bool:
    try:
        return bool(out.isatty())
    except (AttributeError, ValueError):  # closed or file-like without isatty
        return False
