"""The state one session's actors share, and the few operations that touch it.

    core = SessionCore(...)          # built by AgentSession.run; internal

Everything here runs on the trio thread, inside the session's nursery: the activity,
the metrics collector and the session API call these methods, never from threads.
State changes that users see go out as events through the session's emitter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import attrs
import trio

from voxtrio.core.actor import ActorRef
from voxtrio.core.async_value import AsyncValue
from voxtrio.core.clock import wall_time
from voxtrio.core.emitter import EventEmitter
from voxtrio.engines.chat import ChatContext, ChatMessage
from voxtrio.engines.llm import LLM
from voxtrio.engines.metrics import LLMMetrics, TTSMetrics, with_ids
from voxtrio.engines.tts import TTS
from voxtrio.metrics.usage import UsageCollector
from voxtrio.session.agent import Agent
from voxtrio.session.events import (
    AgentState,
    AgentStateChangedEvent,
    CloseReason,
    ErrorEvent,
    MetricsCollectedEvent,
    UserState,
    UserStateChangedEvent,
)
from voxtrio.session.options import TurnHandlingOptions
from voxtrio.session.speech import SpeechHandle

__all__ = ["SessionCore"]

logger = logging.getLogger("voxtrio.session")


@attrs.define
class _ReplyLatency:
    llm_ttft: float | None = None
    tts_ttfb: float | None = None


class SessionCore:
    """Shared state of one running session (see the module docstring)."""

    def __init__(
        self,
        *,
        emitter: EventEmitter,
        options: TurnHandlingOptions,
        agent: Agent,
        llm: LLM | None,
        tts: TTS | None,
        history: ChatContext,
        agent_state: AsyncValue[AgentState],
        user_state: AsyncValue[UserState],
        usage: UsageCollector,
        user_away_timeout: float | None,
        max_unrecoverable_errors: int,
        request_close: Callable[[CloseReason, BaseException | None], None],
    ) -> None:
        self.emitter = emitter
        self.options = options
        self.agent = agent
        self.llm = llm
        self.tts = tts
        self.history = history
        self.agent_state = agent_state
        self.user_state = user_state
        self.usage = usage
        self.user_away_timeout = user_away_timeout
        self.max_unrecoverable_errors = max_unrecoverable_errors
        self.request_close = request_close
        self.current_speech: SpeechHandle | None = None
        self.input_ended = trio.Event()
        self.playout: ActorRef = _unset_ref("playout")
        self.metrics: ActorRef = _unset_ref("metrics")
        self.turn_id_for_metrics: Callable[[], str | None] = lambda: None
        self._unrecoverable: dict[str, int] = {}
        self._latencies: dict[str, _ReplyLatency] = {}

    def require_llm(self) -> LLM:
        if self.llm is None:
            raise RuntimeError("this session has no LLM: a realtime session replies through its model")
        return self.llm

    def require_tts(self) -> TTS:
        if self.tts is None:
            raise RuntimeError("this session has no TTS: a realtime session speaks through its model")
        return self.tts

    # -- time ---------------------------------------------------------------------------

    def wall_at(self, trio_time: float) -> float:
        """The wall-clock time (epoch seconds) of an instant on trio's clock."""
        return wall_time() - (trio.current_time() - trio_time)

    # -- events and states ----------------------------------------------------------------

    def emit(self, name: str, payload: Any) -> None:
        self.emitter.emit(name, payload)

    def set_agent_state(
        self, state: AgentState, *, speech_id: str | None = None, turn_id: str | None = None
    ) -> None:
        old = self.agent_state.value
        if old == state:
            return
        self.agent_state.value = state
        self.emit(
            "agent_state_changed",
            AgentStateChangedEvent(old_state=old, new_state=state, speech_id=speech_id, turn_id=turn_id),
        )

    def set_user_state(self, state: UserState, *, at: float, turn_id: str | None = None) -> None:
        old = self.user_state.value
        if old == state:
            return
        self.user_state.value = state
        self.emit(
            "user_state_changed",
            UserStateChangedEvent(old_state=old, new_state=state, turn_id=turn_id, created_at=self.wall_at(at)),
        )

    # -- errors -------------------------------------------------------------------------

    def report_error(self, error: BaseException, *, source: str, recoverable: bool) -> None:
        """Emit `error`; close the session after too many unrecoverable ones per source."""
        logger.warning("%s error from %s: %r", "recoverable" if recoverable else "unrecoverable", source, error)
        self.emit("error", ErrorEvent(error=error, source=source, recoverable=recoverable))
        if recoverable:
            return
        count = self._unrecoverable.get(source, 0) + 1
        self._unrecoverable[source] = count
        if count > self.max_unrecoverable_errors:
            self.request_close(CloseReason.ERROR, error)

    def audio_input_ended(self) -> None:
        self.input_ended.set()

    # -- metrics ------------------------------------------------------------------------

    def report_metrics(self, metrics: Any) -> None:
        """Publish a metrics record: join it to its turn, emit it, hand it to the collector.

        `metrics_collected` is emitted here, in the reporting task, so it keeps its
        causal place among the session's events (the end-of-utterance metrics come
        before the user's item, as in the canonical turn). The metrics collector actor
        totals usage and the per-reply latencies; handing it the record never waits.
        """
        if getattr(metrics, "turn_id", "unset") is None:
            metrics = with_ids(metrics, turn_id=self._turn_for(metrics))
        self.emit("metrics_collected", MetricsCollectedEvent(metrics=metrics))
        try:
            self.metrics.tell_nowait(metrics)
        except (trio.WouldBlock, trio.BrokenResourceError, trio.ClosedResourceError, RuntimeError) as exc:
            logger.warning("metrics collector unavailable, not totalled: %r (%s)", metrics, exc)

    def collect_metrics(self, metrics: Any) -> None:
        """Called by the metrics collector actor for each record: usage and latencies."""
        self.usage.collect(metrics)
        speech_id = getattr(metrics, "speech_id", None)
        if speech_id is not None:
            latency = self._latencies.setdefault(speech_id, _ReplyLatency())
            if isinstance(metrics, LLMMetrics) and latency.llm_ttft is None and metrics.ttft >= 0:
                latency.llm_ttft = metrics.ttft
            elif isinstance(metrics, TTSMetrics) and latency.tts_ttfb is None and metrics.ttfb >= 0:
                latency.tts_ttfb = metrics.ttfb

    def _turn_for(self, metrics: Any) -> str | None:
        speech_id = getattr(metrics, "speech_id", None)
        speech = self.current_speech
        if speech_id is not None and speech is not None and speech.speech_id == speech_id:
            return speech.turn_id
        return self.turn_id_for_metrics()

    def reply_latencies(self, speech_id: str) -> dict[str, float]:
        """`llm_ttft` / `tts_ttfb` of a reply, as far as its metrics arrived."""
        latency = self._latencies.pop(speech_id, None)
        found: dict[str, float] = {}
        if latency is not None:
            if latency.llm_ttft is not None:
                found["llm_ttft"] = latency.llm_ttft
            if latency.tts_ttfb is not None:
                found["tts_ttfb"] = latency.tts_ttfb
        return found

    # -- the model's view ---------------------------------------------------------------

    def chat_context_for_llm(self, *, extra_instructions: str | None = None) -> ChatContext:
        """The agent's instructions followed by the history."""
        ctx = ChatContext.empty()
        instructions = self.agent.instructions
        if extra_instructions:
            instructions = f"{instructions}\n\n{extra_instructions}".strip()
        if instructions:
            ctx.append(ChatMessage(role="system", content=[instructions]))
        ctx.items.extend(self.history.items)
        return ctx


def _unset_ref(name: str) -> Any:
    class _Unset:
        def __getattr__(self, attribute: str) -> Any:
            raise RuntimeError(f"the session's {name} actor is not running yet")

    return _Unset()
