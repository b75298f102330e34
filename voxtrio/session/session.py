"""AgentSession: one voice conversation, run by a supervisor of actors.

    session = AgentSession(vad=SileroVAD(), stt=PocketSphinxSTT(), llm=FunctionLLM(brain),
                           tts=EspeakTTS())

    @session.on("user_input_transcribed")
    def show(ev: UserInputTranscribedEvent) -> None:
        print("user:", ev.transcript)

    async with session.start(audio_in=WavFileSource("question.wav"), audio_out=MemorySink(),
                             agent=Agent("You are a helpful assistant.")):
        await session.wait_for_input_end()

Or embedded in your own nursery: `await nursery.start(session.run, audio_in, audio_out,
agent)` starts it and returns once it is listening; `await session.aclose()` ends it.

The actor graph (cascade):

    mic ─▶ recognition (VAD + STT streams) ─▶ activity (turns, LLM, TTS) ─▶ playout ─▶ sink
    every actor ─▶ `metrics_collected` events; the metrics collector totals usage

The realtime graph, with `AgentSession(model=RealtimeModel(...))` (no stt/llm/tts):

    mic ─▶ realtime activity (the model session: server VAD, transcripts, tools) ─▶ playout ─▶ sink

All of them run under one `Supervisor` (one_for_one): a failing actor is restarted and
the session emits a recoverable `error`; a component that fails for good more than
`max_unrecoverable_errors` times closes the session with reason `error`. `aclose()` is
bounded: shutdown callbacks get `close_timeout` seconds, then the actors are stopped
(politely, then cancelled), and `close` is always emitted, exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import trio

from voxtrio.actors.messages_audio import PLAYBACK_EVENTS
from voxtrio.actors.mic import MicReader, open_frame_mailbox
from voxtrio.actors.playout import Playout
from voxtrio.audio.sinks import AudioSink
from voxtrio.audio.sources import AudioSource
from voxtrio.core.actor import Actor, ActorContext, ActorRef, ActorStopped
from voxtrio.core.async_value import AsyncValue
from voxtrio.core.emitter import EventEmitter
from voxtrio.core.supervisor import ChildExited, ChildSpec, Supervisor, SupervisorEscalation
from voxtrio.engines.chat import ChatContext
from voxtrio.engines.llm import LLM
from voxtrio.engines.openai.realtime import RealtimeModel
from voxtrio.engines.stt import STT
from voxtrio.engines.tts import TTS
from voxtrio.engines.vad import VAD
from voxtrio.metrics.usage import UsageCollector, UsageSummary
from voxtrio.session.activity import AgentActivity
from voxtrio.session.agent import Agent
from voxtrio.session.core import SessionCore
from voxtrio.session.events import EVENT_NAMES, AgentState, CloseEvent, CloseReason, UserState
from voxtrio.session.messages import Crash, GenerateReply, InterruptSpeech, Say
from voxtrio.session.options import TurnHandlingOptions
from voxtrio.session.realtime_activity import RealtimeActivity, RealtimeSayUnsupported
from voxtrio.session.recognition import RecognitionActor
from voxtrio.session.speech import SpeechHandle

__all__ = ["AgentSession"]

logger = logging.getLogger("voxtrio.session")

ShutdownCallback = Callable[[], Awaitable[None]]


class AgentSession:
    """A supervised voice conversation; see the module docstring."""

    def __init__(
        self,
        *,
        vad: VAD | None = None,
        stt: STT | None = None,
        llm: LLM | None = None,
        tts: TTS | None = None,
        model: RealtimeModel | None = None,
        turn_handling: TurnHandlingOptions | None = None,
        user_away_timeout: float | None = 15.0,
        max_unrecoverable_errors: int = 3,
        close_timeout: float = 5.0,
        mic_capacity: int = 50,
        max_text_response_retries: int = 5,
    ) -> None:
        missing = [name for name, value in (("stt", stt), ("llm", llm), ("tts", tts)) if value is None]
        if missing and model is None:
            raise ValueError(
                f"a cascade AgentSession needs stt, llm and tts; missing: {', '.join(missing)} "
                "(see docs/session.md for the embedded defaults), or pass model=RealtimeModel(...) "
                "for a realtime session"
            )
        self.model = model
        self.max_text_response_retries = max_text_response_retries
        self.vad = vad
        self.stt = stt
        self.llm = llm
        self.tts = tts
        self.options = turn_handling or TurnHandlingOptions()
        self.user_away_timeout = user_away_timeout
        self.max_unrecoverable_errors = max_unrecoverable_errors
        self.close_timeout = close_timeout
        self.mic_capacity = mic_capacity
        self._emitter = EventEmitter(valid_events=EVENT_NAMES)
        self._history = ChatContext.empty()
        self._agent_state: AsyncValue[AgentState] = AsyncValue("initializing")
        self._user_state: AsyncValue[UserState] = AsyncValue("listening")
        self._usage = UsageCollector()
        self._shutdown_callbacks: list[ShutdownCallback] = []
        self._core: SessionCore | None = None
        self._activity: ActorRef | None = None
        self._supervisor: Supervisor | None = None
        self._close_requested = trio.Event()
        self._closed = trio.Event()
        self._close_reason = CloseReason.USER_INITIATED
        self._close_error: BaseException | None = None
        self._started = False

    # -- events -------------------------------------------------------------------------

    def on(self, event: str, callback: Callable[..., Any] | None = None) -> Any:
        """Subscribe `callback` to `event` (also usable as `@session.on("event")`).

        Unknown names raise `ValueError` listing the valid ones. Async callbacks run in
        the session's nursery; exceptions in callbacks are logged, never raised here.
        """
        return self._emitter.on(event, callback)

    def once(self, event: str, callback: Callable[..., Any] | None = None) -> Any:
        return self._emitter.once(event, callback)

    def off(self, event: str, callback: Callable[..., Any]) -> None:
        self._emitter.off(event, callback)

    def events(self, *names: str, capacity: int = 64) -> Any:
        """`async with session.events("user_input_transcribed") as stream: async for ev in stream`."""
        return self._emitter.events(*names, capacity=capacity)

    # -- state ----------------------------------------------------------------------------

    @property
    def history(self) -> ChatContext:
        """The conversation so far (user turns, replies as heard, tool calls)."""
        return self._history

    @property
    def agent_state(self) -> AsyncValue[AgentState]:
        return self._agent_state

    @property
    def user_state(self) -> AsyncValue[UserState]:
        return self._user_state

    @property
    def usage(self) -> UsageSummary:
        return self._usage.get_summary()

    @property
    def current_speech(self) -> SpeechHandle | None:
        return self._core.current_speech if self._core is not None else None

    def add_shutdown_callback(self, callback: ShutdownCallback) -> None:
        """Run `await callback()` when the session closes (bounded by `close_timeout`)."""
        self._shutdown_callbacks.append(callback)

    # -- lifecycle ------------------------------------------------------------------------

    @asynccontextmanager
    async def start(
        self, *, audio_in: AudioSource, audio_out: AudioSink, agent: Agent | None = None
    ) -> AsyncIterator[AgentSession]:
        """Run the session for the duration of the block, then close it."""
        async with trio.open_nursery() as nursery:
            await nursery.start(self._run_kw, audio_in, audio_out, agent)
            try:
                yield self
            finally:
                await self.aclose()

    async def _run_kw(
        self, audio_in: AudioSource, audio_out: AudioSink, agent: Agent | None,
        task_status: trio.TaskStatus[AgentSession] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        await self.run(audio_in, audio_out, agent, task_status=task_status)

    async def run(
        self,
        audio_in: AudioSource,
        audio_out: AudioSink,
        agent: Agent | None = None,
        *,
        task_status: trio.TaskStatus[AgentSession] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Run until closed; for `await nursery.start(session.run, audio_in, audio_out)`."""
        if self._started:
            raise RuntimeError("an AgentSession runs once; create a new one for a new conversation")
        self._started = True
        agent = agent or Agent()
        self._history.items.extend(agent.chat_ctx.items)
        core = SessionCore(
            emitter=self._emitter,
            options=self.options,
            agent=agent,
            llm=self.llm,
            tts=self.tts,
            history=self._history,
            agent_state=self._agent_state,
            user_state=self._user_state,
            usage=self._usage,
            user_away_timeout=self.user_away_timeout,
            max_unrecoverable_errors=self.max_unrecoverable_errors,
            request_close=self._request_close,
        )
        self._core = core
        engines: list[Any] = [
            e for e in (self.stt, self.llm, self.tts, self.vad) if e is not None
        ]
        try:
            async with trio.open_nursery() as nursery:
                self._emitter.bind(nursery)
                for engine in engines:
                    engine.on("metrics_collected", core.report_metrics)
                supervisor = Supervisor(strategy="one_for_one", max_restarts=5, within=10.0)
                self._supervisor = supervisor
                supervisor.events.on("child_exited", self._on_child_exited)
                await nursery.start(self._supervise, supervisor)
                await self._start_actors(supervisor, core, audio_in, audio_out)
                task_status.started(self)
                await self._close_requested.wait()
                await self._shutdown(supervisor)
                nursery.cancel_scope.cancel()
        finally:
            for engine in engines:
                engine.off("metrics_collected", core.report_metrics)
            self._emit_close()

    async def _supervise(
        self, supervisor: Supervisor, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        try:
            await supervisor.run(task_status=task_status)
        except SupervisorEscalation as exc:
            # The actors could not be kept running: the session ends, and says why in
            # its `close` event (reason "error").
            logger.error("session actors failed for good: %r", exc)
            self._request_close(CloseReason.ERROR, exc)

    async def _start_actors(
        self, supervisor: Supervisor, core: SessionCore, audio_in: AudioSource, audio_out: AudioSink
    ) -> None:
        frames_tx, frames_rx = open_frame_mailbox(self.mic_capacity)
        playout_events = EventEmitter()
        core.metrics = await supervisor.start_child(
            ChildSpec("metrics", lambda: MetricsCollector(core), inbox_capacity=256)
        )
        core.playout = await supervisor.start_child(
            ChildSpec("playout", lambda: Playout(audio_out, emitter=playout_events), inbox_capacity=256)
        )
        activity_actor: list[AgentActivity | RealtimeActivity] = []
        model = self.model

        def make_activity() -> AgentActivity | RealtimeActivity:
            actor: AgentActivity | RealtimeActivity
            if model is not None:
                actor = RealtimeActivity(
                    core, model, frames_rx, max_text_response_retries=self.max_text_response_retries
                )
            else:
                actor = AgentActivity(core)
            activity_actor[:] = [actor]
            return actor

        activity = await supervisor.start_child(
            # A realtime activity returns only once its model session is gone for good (the
            # session is closing then): no restart for that.
            ChildSpec(
                "activity", make_activity, inbox_capacity=256,
                restart="transient" if model is not None else "permanent",
            )
        )
        self._activity = activity
        core.turn_id_for_metrics = lambda: activity_actor[0].turn_id if activity_actor else None

        def forward(event: Any) -> None:
            try:
                activity.tell_nowait(event)
            except ActorStopped:
                pass  # shutting down: the activity stops before the playout does
            except trio.WouldBlock:
                logger.warning("activity inbox full: playback event lost: %r", event)

        for name in PLAYBACK_EVENTS:
            playout_events.on(name, forward)
        stt = self.stt
        if model is None and stt is not None:
            await supervisor.start_child(
                ChildSpec(
                    "recognition",
                    lambda: RecognitionActor(frames_rx, vad=self.vad, stt=stt, activity=activity),
                    restart="transient",
                )
            )
        await supervisor.start_child(
            ChildSpec("mic", lambda: MicReader(audio_in, frames_tx), restart="transient")
        )

    def _on_child_exited(self, exited: ChildExited) -> None:
        # A crashed actor is restarted by the supervisor (one_for_one, permanent or
        # transient): for the user that is a recoverable error of that component.
        if self._core is None or exited.reason != "exception" or exited.error is None:
            return
        self._core.report_error(exited.error, source=exited.name, recoverable=True)

    def _request_close(self, reason: CloseReason, error: BaseException | None) -> None:
        if not self._close_requested.is_set():
            self._close_reason = reason
            self._close_error = error
            self._close_requested.set()

    async def _shutdown(self, supervisor: Supervisor) -> None:
        with trio.move_on_after(self.close_timeout) as scope:
            for callback in self._shutdown_callbacks:
                try:
                    await callback()
                except Exception:
                    logger.exception("shutdown callback %r failed", callback)
        if scope.cancelled_caught:
            logger.warning("shutdown callbacks took longer than %.1f s; cut short", self.close_timeout)
        with trio.move_on_after(self.close_timeout):
            await supervisor.aclose()

    def _emit_close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        self._emitter.emit("close", CloseEvent(reason=self._close_reason, error=self._close_error))

    async def aclose(self) -> None:
        """Close the session and wait until it closed (bounded; never hangs)."""
        self._request_close(CloseReason.USER_INITIATED, None)
        if self._started:
            with trio.move_on_after(3 * self.close_timeout + 1):
                await self._closed.wait()

    async def wait_for_input_end(self) -> None:
        """Wait until the audio input ended and the agent finished its last reply."""
        if self._core is None:
            raise RuntimeError("the session is not running")
        await self._core.input_ended.wait()
        await self.wait_for_idle()

    async def wait_for_idle(self) -> None:
        """Wait until no reply is queued or playing and the agent is listening."""
        while True:
            await self._agent_state.wait_value(lambda s: s in ("listening", "idle"))
            speech = self.current_speech
            if speech is None:
                return
            await speech.wait_for_playout()

    # -- speaking ---------------------------------------------------------------------------

    def say(self, text: str, *, allow_interruptions: bool = True) -> SpeechHandle:
        """Speak `text` (queued behind the current reply); returns its handle.

        A realtime session (`model=...`) has no TTS: it raises `RealtimeSayUnsupported`.
        """
        if self.model is not None:
            raise RealtimeSayUnsupported(
                "say() needs a TTS and a realtime session (model=...) has none: use "
                "session.generate_reply(instructions=...) to make the model speak"
            )
        handle = SpeechHandle(
            source="say", allow_interruptions=allow_interruptions, turn_id=None, user_initiated=False
        )
        self._require_activity().tell_nowait(Say(handle, text))
        return handle

    def generate_reply(self, *, instructions: str | None = None) -> SpeechHandle:
        """Ask the LLM for a reply now (with optional extra instructions)."""
        handle = SpeechHandle(
            source="generate_reply",
            allow_interruptions=self.options.allow_interruptions,
            turn_id=None,
            user_initiated=False,
        )
        self._require_activity().tell_nowait(GenerateReply(handle, instructions))
        return handle

    def interrupt(self, *, force: bool = False) -> None:
        """Stop the current reply now (`force` also stops uninterruptible ones)."""
        self._require_activity().tell_control_nowait(InterruptSpeech(force=force))

    async def _inject_crash(self, actor: str) -> None:
        """Make the "activity" or "recognition" actor fail (for `voxtrio.testing`)."""
        if self._supervisor is None:
            raise RuntimeError("the session is not running")
        if actor not in ("activity", "recognition"):
            raise ValueError(f"crash injection supports 'activity' and 'recognition', not {actor!r}")
        await self._supervisor.ref(actor).tell_control(Crash())

    def _require_activity(self) -> ActorRef:
        if self._activity is None:
            raise RuntimeError("the session is not running: start it first")
        return self._activity


class MetricsCollector(Actor):
    """Receives every metrics record and totals usage and per-reply latencies."""

    def __init__(self, core: SessionCore) -> None:
        self.core = core

    async def run(self, ctx: ActorContext) -> None:
        ctx.started()
        async for metrics in ctx.messages():
            self.core.collect_metrics(metrics)
