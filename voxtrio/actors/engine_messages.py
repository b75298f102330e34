"""Messages shared by the engine actors (`VADActor`, `STTActor`, `TTSActor`).

    ref.tell_nowait(frame)                     # data: an AudioFrame (VAD, STT)
    ref.tell_control_nowait(FlushAudio())      # control: segment boundary now
    ref.tell_nowait(EndOfAudio())              # data: no more audio (after queued frames)

Metrics: each engine actor takes an optional `metrics` outbox, a
`MailboxSender[AgentMetrics]` (the session's metrics collector reads the other end). Every
item is the engine's metrics record itself (`STTMetrics`, `VADMetrics`, `TTSMetrics`,
from `voxtrio.engines.metrics`), with `turn_id` / `speech_id` filled in when the actor
knows them. Publishing never waits: if the outbox is full (under "block") the record is
dropped and counted (`MetricsPublisher.dropped`); a "drop_oldest" outbox of ~64 is the
recommended shape. Failures of an engine are reported on the actor's normal output as an
`EngineError` (with `recoverable=True` when the actor restarted the engine itself).
"""

from __future__ import annotations

import logging
from typing import Any

import attrs
import trio

from voxtrio.core.mailbox import MailboxSender
from voxtrio.engines.metrics import AgentMetrics

__all__ = ["EndOfAudio", "EngineError", "FlushAudio", "MetricsPublisher"]

logger = logging.getLogger("voxtrio.actors")


@attrs.frozen(slots=True)
class FlushAudio:
    """Control: end the current audio segment now (the engine finalizes what it heard)."""


@attrs.frozen(slots=True)
class EndOfAudio:
    """Data: the audio input is over; the actor finishes pending work, then returns."""


@attrs.frozen(slots=True, kw_only=True)
class EngineError:
    """An engine failed. `recoverable`: the actor recovered by itself (restarted the
    engine); False: it gave up and is about to raise to its supervisor.
    `at` is the trio time of the failure; `source` names the actor ("stt", "tts", ...)."""

    source: str
    error: BaseException
    recoverable: bool
    at: float
    speech_id: str | None = None


class MetricsPublisher:
    """Non-blocking forwarder from an engine's "metrics_collected" to a metrics outbox."""

    def __init__(self, outbox: MailboxSender[AgentMetrics] | None, source: str) -> None:
        self.outbox = outbox
        self.source = source
        self.published = 0
        self.dropped = 0

    def __call__(self, metrics: Any) -> None:
        self.publish(metrics)

    def publish(self, metrics: AgentMetrics) -> None:
        if self.outbox is None:
            return
        try:
            self.outbox.send_nowait(metrics)
            self.published += 1
        except (trio.WouldBlock, trio.BrokenResourceError, trio.ClosedResourceError):
            # Metrics must never stall the audio path; count the loss instead.
            self.dropped += 1
            if self.dropped == 1:
                logger.warning("%s: metrics outbox is full or closed; dropping metrics",
                               self.source)
        except Exception:  # MailboxFull under overflow="error"
            self.dropped += 1
