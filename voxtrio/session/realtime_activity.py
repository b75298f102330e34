"""The realtime activity actor: a speech-to-speech model in the session graph.

    activity = RealtimeActivity(core, model, frames)   # built and supervised by AgentSession

It owns one `RealtimeSession` (from the `RealtimeModel` given to `AgentSession(model=...)`,
configured with the agent's instructions and tools) and turns the model's events into
session events:

- mic frames (from the frame mailbox) are pushed to the model as they come;
- server VAD speech started / stopped -> `user_state_changed`; speech started while a
  reply is queued or playing interrupts it (`Interrupt(speech_id)` to the playout);
- server VAD positions are mapped onto trio's clock through the live mic audio, so
  `user_state_changed.created_at` is back-dated to where the speech started / ended;
- input transcription -> `user_input_transcribed` (interim: the text so far; final) and
  the user `ChatMessage` (`conversation_item_added`);
- each model response is one reply (`SpeechHandle`, `speech_id` = the model's
  "speech_<response>"): `speech_created`, agent state thinking, its audio to the
  playout as `SegmentAudio`, speaking on the first frame played, and the assistant
  message when the playout finished it;
- interruption: once the playout reports `PlaybackFinished(interrupted=True)`, the
  response is cancelled (if still streaming) and its item truncated at exactly the
  played position (`audio_end_ms` from the samples the sink got); the assistant message
  holds the words heard by then (`PacedTranscript` over the output transcript);
- function calls run as the agent's tools when their response is done (errors become
  tool outputs), then `function_call_output` items and one `response.create`;
  `function_tools_executed` is emitted;
- `RealtimeModelMetrics` go to the metrics collector (`metrics_collected`);
- text-response recovery: a completed response with text but no audio (audio was
  asked for) is deleted and asked again, up to `max_text_response_retries` times; then
  an unrecoverable `RealtimeTextResponseError` is reported;
- the model session reconnects by itself (and replays the conversation): each drop is a
  recoverable `error`; the audio of a reply cut by the drop that had arrived still plays,
  and what of it was heard is added to the new server conversation as assistant text;
  when the model session gives up, an unrecoverable `error` and the session closes with
  reason "error".

Edge cases: `say()` is refused by `AgentSession` in realtime mode (no TTS; use
`generate_reply(instructions=...)`). `generate_reply` interrupts the reply in progress,
since the model holds one response at a time. A failure to connect is reported as an
unrecoverable error and closes the session.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING, Any

import attrs
import trio

from voxtrio.actors.messages_audio import (
    EndOfSegment,
    Interrupt,
    PlaybackFinished,
    PlaybackPosition,
    PlaybackStarted,
    SegmentAudio,
)
from voxtrio.audio.frame import AudioFrame
from voxtrio.audio.mix import to_mono
from voxtrio.core.actor import Actor, ActorContext, ActorStopped
from voxtrio.core.mailbox import MailboxReceiver
from voxtrio.core.misc import shortuuid
from voxtrio.engines.chat import ChatMessage, FunctionCall, FunctionCallOutput
from voxtrio.engines.errors import APIError
from voxtrio.engines.metrics import RealtimeModelMetrics, with_ids
from voxtrio.engines.openai.realtime import RealtimeModel, RealtimeSession
from voxtrio.engines.openai.realtime_events import (
    FunctionCallReceived,
    InputSpeechStarted,
    InputSpeechStopped,
    InputTranscriptionCompleted,
    InputTranscriptionDelta,
    OutputAudio,
    OutputTranscriptDelta,
    RealtimeErrorEvent,
    ResponseFinished,
    ResponseStarted,
)
from voxtrio.engines.openai.realtime_history import item_id_of
from voxtrio.protocols.openai_realtime import client_events as ce
from voxtrio.protocols.openai_realtime.items import MessageItem
from voxtrio.protocols.openai_realtime.session_config import FunctionTool as WireFunctionTool
from voxtrio.session.events import (
    CloseReason,
    ConversationItemAddedEvent,
    FunctionToolsExecutedEvent,
    SpeechCreatedEvent,
    UserInputTranscribedEvent,
)
from voxtrio.session.messages import Crash, GenerateReply, InjectedCrash, InterruptSpeech, Say
from voxtrio.session.speech import SpeechHandle, SpeechSource
from voxtrio.session.transcript import PacedTranscript

if TYPE_CHECKING:
    from voxtrio.session.core import SessionCore

__all__ = [
    "RealtimeActivity",
    "RealtimeModelError",
    "RealtimeSayUnsupported",
    "RealtimeTextResponseError",
]

logger = logging.getLogger("voxtrio.session.realtime")

#: Audio deltas waiting for the playout's inbox (a backlog of this many is a bug).
AUDIO_QUEUE = 1024


class RealtimeModelError(Exception):
    """An error the realtime model reported (server error, lost connection)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message if code is None else f"{message} (code {code})")
        self.code = code


class RealtimeTextResponseError(RuntimeError):
    """The model kept answering in text although audio was requested."""


class RealtimeSayUnsupported(RuntimeError):
    """`say()` needs a TTS; a realtime session speaks only through its model."""


@attrs.define(eq=False)
class _Intent:
    """A response this actor asked for; the next client-initiated response adopts it."""

    source: SpeechSource
    turn_id: str | None
    handle: SpeechHandle | None = None
    user_initiated: bool = False


@attrs.define(eq=False)
class _Reply:
    """One model response and its playout."""

    handle: SpeechHandle
    response_id: str
    paced: PacedTranscript = attrs.Factory(PacedTranscript)
    item_id: str | None = None  # the item whose audio plays
    text_item_id: str | None = None  # an item that got transcript or text deltas
    audio_sent: bool = False
    response_done: bool = False
    status: str | None = None
    started_playing_at: float | None = None
    interrupt_requested: bool = False
    finished: bool = False
    user_stopped_at: float | None = None
    lost: bool = False  # the socket dropped mid-response: the server never kept it
    cancel_sent: bool = False
    calls: list[FunctionCallReceived] = attrs.Factory(list)


class RealtimeActivity(Actor):
    """See the module docstring."""

    def __init__(
        self,
        core: SessionCore,
        model: RealtimeModel,
        frames: MailboxReceiver[AudioFrame],
        *,
        max_text_response_retries: int = 5,
    ) -> None:
        self.core = core
        self.model = model
        self.frames = frames
        self.max_text_response_retries = max_text_response_retries
        self._session: RealtimeSession | None = None
        self._nursery: trio.Nursery | None = None
        self._audio_tx, self._audio_rx = trio.open_memory_channel[SegmentAudio | EndOfSegment](
            AUDIO_QUEUE
        )
        self._replies: dict[str, _Reply] = {}  # by response id
        self._by_speech: dict[str, _Reply] = {}
        self._intents: deque[_Intent] = deque()
        self._turns: dict[str, str] = {}  # user item id -> turn id
        self._partial: dict[str, str] = {}  # user item id -> transcript so far
        # Where the server's input audio timeline stands: ms pushed, and when (trio time).
        self._pushed_ms = 0.0
        self._pushed_at = 0.0
        self._last_turn_id: str | None = None
        self._user_stopped_at: float | None = None
        self._text_retries = 0
        self.dropped_audio = 0

    @property
    def turn_id(self) -> str | None:
        """The latest user turn (for metrics joins)."""
        return self._last_turn_id

    # -- the loop -----------------------------------------------------------------------

    async def run(self, ctx: ActorContext) -> None:
        # A restarted activity must not leave a reply of the failed incarnation playing.
        await self.core.playout.tell_control(Interrupt(clear_queue=True))
        ctx.started()
        try:
            async with self._configured_model().connect() as session:
                self._session = session
                self._subscribe(session)
                async with trio.open_nursery() as nursery:
                    self._nursery = nursery
                    nursery.start_soon(self._forward_audio)
                    nursery.start_soon(self._pump_mic, session)
                    nursery.start_soon(self._watch_user_away)
                    self.core.set_agent_state("listening")
                    async for msg in ctx.messages():
                        self._handle(msg)
                    nursery.cancel_scope.cancel()
        except APIError as exc:
            self._fail(exc)

    async def _watch_user_away(self) -> None:
        """`user_away_timeout`: user and agent both quiet that long -> the user is "away".

        The server's VAD drives the user's state here (speech started/stopped), replies
        drive the agent's; any change of either restarts the wait.
        """
        away = self.core.user_away_timeout
        if away is None:
            return
        core = self.core

        def quiet() -> bool:
            return core.user_state.value == "listening" and core.agent_state.value == "listening"

        while True:
            while not quiet():
                await self._next_state_change()
            with trio.move_on_after(away):
                while quiet():
                    await self._next_state_change()
                continue
            core.set_user_state("away", at=trio.current_time())
            await core.user_state.wait_value(lambda state: state != "away")

    async def _next_state_change(self) -> None:
        """Return at the next change of the user's or the agent's state."""
        async with trio.open_nursery() as nursery:

            async def wait(value: Any) -> None:
                await value.wait_transition()
                nursery.cancel_scope.cancel()

            nursery.start_soon(wait, self.core.user_state)
            nursery.start_soon(wait, self.core.agent_state)

    def _configured_model(self) -> RealtimeModel:
        """The model with the agent's instructions and tools added."""
        agent = self.core.agent
        tools = tuple(
            WireFunctionTool(name=t.name, description=t.description, parameters=t.parameters)
            for t in agent.tools
        )
        return attrs.evolve(
            self.model,
            instructions=agent.instructions or self.model.instructions,
            tools=(*self.model.tools, *tools),
        )

    def _fail(self, error: BaseException) -> None:
        """The model session is gone for good: say so, and close the session."""
        self.core.report_error(error, source="realtime", recoverable=False)
        # The session cannot go on without its model; `request_close` is the session's
        # own close hook, shared with the core for exactly this.
        self.core.request_close(CloseReason.ERROR, error)

    def _handle(self, msg: Any) -> None:
        if isinstance(msg, PlaybackStarted):
            self._on_playback_started(msg)
        elif isinstance(msg, PlaybackFinished):
            self._on_playback_finished(msg)
        elif isinstance(msg, PlaybackPosition):
            pass
        elif isinstance(msg, GenerateReply):
            self._generate_reply(msg)
        elif isinstance(msg, Say):
            error = RealtimeSayUnsupported(
                "say() needs a TTS and a realtime session has none: use "
                "session.generate_reply(instructions=...) to make the model speak"
            )
            msg.handle.error = error
            msg.handle._finish()
            self.core.report_error(error, source="realtime", recoverable=True)
        elif isinstance(msg, InterruptSpeech):
            self._interrupt_all(force=msg.force)
        elif isinstance(msg, Crash):
            raise InjectedCrash(f"realtime activity: {msg.reason}")
        else:
            logger.debug("realtime activity ignores %r", msg)

    def _spawn(self, fn: Any, *args: Any) -> None:
        if self._nursery is not None:
            self._nursery.start_soon(fn, *args)

    # -- input ----------------------------------------------------------------------------

    async def _pump_mic(self, session: RealtimeSession) -> None:
        async for frame in self.frames:
            if frame.num_channels != 1:
                frame = to_mono(frame)  # the model takes mono input
            session.push_audio(frame)
            self._pushed_ms += frame.duration * 1000
            self._pushed_at = trio.current_time()
        self.core.audio_input_ended()

    async def _forward_audio(self) -> None:
        # Audio goes to the playout from its own task, so a full playout inbox never holds
        # up the model's events (an interruption must not wait behind queued audio).
        async for msg in self._audio_rx:
            try:
                await self.core.playout.tell(msg)
            except ActorStopped:
                return

    # -- model events (sync callbacks, in the order the server sent them) ------------------

    def _subscribe(self, session: RealtimeSession) -> None:
        on = session.events.on
        on("input_speech_started", self._on_speech_started)
        on("input_speech_stopped", self._on_speech_stopped)
        on("input_transcription_delta", self._on_transcription_delta)
        on("input_transcription_completed", self._on_transcription_completed)
        on("response_created", self._on_response_created)
        on("output_audio", self._on_output_audio)
        on("output_transcript_delta", self._on_transcript_delta)
        on("function_call", self._on_function_call)
        on("response_done", self._on_response_done)
        on("metrics_collected", self._on_metrics)
        on("error", self._on_model_error)
        on("closed", self._on_model_closed)
        on("session_reconnected", self._on_reconnected)

    def _audio_time(self, audio_ms: int) -> float:
        """The trio time the mic captured the server's input audio position `audio_ms`.

        Server VAD reports positions on its input buffer; the mic is live, so a position
        `d` ms behind the last audio pushed was captured `d` ms before that push.
        """
        now = trio.current_time()
        behind = max(self._pushed_ms - audio_ms, 0.0) / 1000
        return min(self._pushed_at - behind, now) if self._pushed_ms else now

    def _on_reconnected(self, _count: int) -> None:
        self._pushed_ms = 0.0  # a new server session: its input timeline starts again
    def _on_speech_started(self, event: InputSpeechStarted) -> None:
        started = self._audio_time(event.audio_start_ms)
        turn_id = self._turns.get(event.item_id)
        if turn_id is None:
            turn_id = self._turns[event.item_id] = shortuuid("turn_")
        self._last_turn_id = turn_id
        self.core.set_user_state("speaking", at=started, turn_id=turn_id)
        for reply in list(self._replies.values()):
            if reply.audio_sent and not reply.finished:
                self._interrupt(reply, force=False)

    def _on_speech_stopped(self, event: InputSpeechStopped) -> None:
        ended = self._audio_time(event.audio_end_ms)
        self._user_stopped_at = ended
        turn_id = self._turns.get(event.item_id, self._last_turn_id)
        self.core.set_user_state("listening", at=ended, turn_id=turn_id)

    def _on_transcription_delta(self, event: InputTranscriptionDelta) -> None:
        # Interim transcripts carry the whole hypothesis so far, as in the cascade.
        text = self._partial[event.item_id] = self._partial.get(event.item_id, "") + event.delta
        if not event.delta.strip():
            return
        self.core.emit(
            "user_input_transcribed",
            UserInputTranscribedEvent(
                transcript=text.strip(), is_final=False, item_id=event.item_id,
                turn_id=self._turns.get(event.item_id),
            ),
        )

    def _on_transcription_completed(self, event: InputTranscriptionCompleted) -> None:
        turn_id = self._turns.get(event.item_id)
        if turn_id is None:
            turn_id = self._turns[event.item_id] = shortuuid("turn_")
        self._partial.pop(event.item_id, None)
        self._turns.pop(event.item_id, None)  # the item's VAD events came before this
        text = event.transcript.strip()
        self.core.emit(
            "user_input_transcribed",
            UserInputTranscribedEvent(
                transcript=text, is_final=True, item_id=event.item_id, turn_id=turn_id
            ),
        )
        if not text:
            return
        message = ChatMessage(role="user", content=[text], id=event.item_id, turn_id=turn_id)
        if self._user_stopped_at is not None:
            message.metrics["stopped_speaking_at"] = self.core.wall_at(self._user_stopped_at)
        self.core.history.append(message)
        self.core.emit(
            "conversation_item_added", ConversationItemAddedEvent(item=message, turn_id=turn_id)
        )

    def _on_response_created(self, started: ResponseStarted) -> None:
        intent: _Intent | None = None
        if started.user_initiated and self._intents:
            intent = self._intents.popleft()
        if intent is None:
            # The server answered the user's turn on its own (server VAD).
            intent = _Intent(source="generate_reply", turn_id=self._last_turn_id, user_initiated=True)
        handle = intent.handle
        if handle is None:
            handle = SpeechHandle(
                source=intent.source,
                allow_interruptions=self.core.options.allow_interruptions,
                turn_id=intent.turn_id,
                user_initiated=intent.user_initiated,
            )
        # One id for the reply everywhere: events, playout, metrics, chat items.
        handle.speech_id = started.speech_id
        if handle.turn_id is None:
            handle.turn_id = intent.turn_id
        reply = _Reply(handle=handle, response_id=started.response_id)
        reply.user_stopped_at = self._user_stopped_at if handle.user_initiated else None
        self._replies[started.response_id] = reply
        self._by_speech[started.speech_id] = reply
        self.core.current_speech = handle
        self.core.emit(
            "speech_created",
            SpeechCreatedEvent(
                speech_id=handle.speech_id, source=handle.source,
                user_initiated=handle.user_initiated, turn_id=handle.turn_id,
            ),
        )
        if self.core.agent_state.value != "speaking":
            self.core.set_agent_state("thinking", speech_id=handle.speech_id, turn_id=handle.turn_id)

    def _on_output_audio(self, event: OutputAudio) -> None:
        reply = self._replies.get(event.response_id)
        if reply is None or reply.finished or reply.interrupt_requested:
            return  # audio of a reply that was cut: nobody will hear it
        if reply.item_id is None:
            reply.item_id = event.item_id
        reply.paced.push_audio_duration(event.frame.duration)
        reply.audio_sent = True
        self._queue_audio(SegmentAudio(reply.handle.speech_id, event.frame))

    def _on_transcript_delta(self, event: OutputTranscriptDelta) -> None:
        reply = self._replies.get(event.response_id)
        if reply is None:
            return
        reply.text_item_id = reply.text_item_id or event.item_id
        reply.paced.push_text(event.delta)

    def _on_function_call(self, event: FunctionCallReceived) -> None:
        reply = self._replies.get(event.response_id)
        if reply is not None:
            reply.calls.append(event)

    def _on_response_done(self, event: ResponseFinished) -> None:
        reply = self._replies.get(event.response_id)
        if reply is None:
            return
        reply.response_done = True
        reply.status = event.status
        reply.lost = event.status == "failed" and event.reason == "connection_lost"
        reply.paced.mark_text_complete()
        if reply.calls and event.status == "completed":
            # Held from now on, so the agent stays "thinking" while the tools run.
            follow_up = _Intent(source="tool_response", turn_id=reply.handle.turn_id)
            self._intents.append(follow_up)
            self._spawn(self._run_tools, reply, list(reply.calls), follow_up)
        text_only = (
            event.status == "completed"
            and not reply.audio_sent
            and not reply.calls
            and bool(reply.paced.text.strip())
        )
        if text_only:
            self._recover_from_text(reply)  # before finishing: the agent is not listening yet
        if reply.audio_sent:
            self._text_retries = 0
            if not reply.interrupt_requested:
                self._queue_audio(EndOfSegment(reply.handle.speech_id))
        elif not reply.interrupt_requested:
            # Nothing to play (tool calls, text, a cancelled reply): it ends now.
            self._finish(reply, played=0.0, played_ms=0, interrupted=event.status == "cancelled")

    def _on_metrics(self, metrics: RealtimeModelMetrics) -> None:
        reply = self._by_speech.get(metrics.speech_id or "")
        turn_id = reply.handle.turn_id if reply is not None else self._last_turn_id
        self.core.report_metrics(with_ids(metrics, turn_id=turn_id))

    def _on_model_error(self, event: RealtimeErrorEvent) -> None:
        error = RealtimeModelError(event.message, event.code)
        self.core.report_error(error, source="realtime", recoverable=event.recoverable)

    def _on_model_closed(self, why: str) -> None:
        # The unrecoverable `error` came just before; the session ends with this one.
        error = RealtimeModelError(f"the realtime model session closed: {why}", "connection_lost")
        self.core.request_close(CloseReason.ERROR, error)
        if self._nursery is not None:
            self._nursery.cancel_scope.cancel()

    # -- replies ------------------------------------------------------------------------

    def _queue_audio(self, msg: SegmentAudio | EndOfSegment) -> None:
        try:
            self._audio_tx.send_nowait(msg)
        except trio.WouldBlock:
            self.dropped_audio += 1
            logger.warning("realtime audio queue full: %r dropped", type(msg).__name__)

    def _on_playback_started(self, event: PlaybackStarted) -> None:
        reply = self._by_speech.get(event.speech_id)
        if reply is None or reply.finished:
            return
        reply.started_playing_at = event.at
        self.core.set_agent_state("speaking", speech_id=event.speech_id, turn_id=reply.handle.turn_id)

    def _on_playback_finished(self, event: PlaybackFinished) -> None:
        reply = self._by_speech.get(event.speech_id)
        if reply is None or reply.finished:
            return
        interrupted = event.interrupted or reply.interrupt_requested
        if event.sample_rate > 0:
            played_ms = event.played_samples * 1000 // event.sample_rate
        else:
            played_ms = int(event.played_duration * 1000)
        self._finish(reply, played=event.played_duration, played_ms=played_ms, interrupted=interrupted)

    def _interrupt(self, reply: _Reply, *, force: bool) -> None:
        if reply.finished or reply.interrupt_requested:
            return
        if not reply.handle.allow_interruptions and not force:
            return
        reply.interrupt_requested = True
        reply.handle.interrupted = True
        # The playout answers with PlaybackFinished(interrupted=True, played_duration),
        # also when none of the reply's audio reached it yet (0.0 s).
        self.core.playout.tell_control_nowait(Interrupt(reply.handle.speech_id))

    def _interrupt_all(self, *, force: bool) -> None:
        for reply in list(self._replies.values()):
            self._interrupt(reply, force=force)

    def _finish(self, reply: _Reply, *, played: float, played_ms: int, interrupted: bool) -> None:
        core = self.core
        handle = reply.handle
        reply.finished = True
        text = reply.paced.released_text(played) if interrupted else reply.paced.text.strip()
        if not reply.audio_sent:
            text = ""  # nothing was heard (text-only answers are not conversation)
        handle.interrupted = interrupted
        handle.played_text = text
        handle.played_duration = played
        if interrupted and reply.item_id is not None:
            self._spawn(self._cut, reply, played_ms, text)
        elif interrupted and not reply.response_done and not reply.cancel_sent:
            reply.cancel_sent = True
            self._spawn(self._cancel)
        if reply.lost and text:
            self._spawn(self._restore, reply.item_id, text)
        if text:
            metrics: dict[str, float] = {}
            if reply.started_playing_at is not None:
                metrics["started_speaking_at"] = core.wall_at(reply.started_playing_at)
                if reply.user_stopped_at is not None:
                    metrics["e2e_latency"] = reply.started_playing_at - reply.user_stopped_at
            message = ChatMessage(
                role="assistant", content=[text], interrupted=interrupted,
                turn_id=handle.turn_id, speech_id=handle.speech_id, metrics=metrics,
            )
            if reply.item_id is not None:
                message.id = reply.item_id
            core.history.append(message)
            core.emit(
                "conversation_item_added",
                ConversationItemAddedEvent(
                    item=message, turn_id=handle.turn_id, speech_id=handle.speech_id
                ),
            )
        del self._replies[reply.response_id]
        self._by_speech.pop(handle.speech_id, None)
        handle._finish()
        if core.current_speech is handle:
            core.current_speech = None
        if not self._replies and not self._intents:
            core.set_agent_state("listening", speech_id=handle.speech_id, turn_id=handle.turn_id)

    async def _cut(self, reply: _Reply, played_ms: int, heard: str) -> None:
        """Cancel what is still streaming and cut the item where the user stopped hearing."""
        session = self._session
        assert reply.item_id is not None and session is not None
        try:
            if not reply.response_done and not reply.cancel_sent:
                reply.cancel_sent = True
                await session.cancel_response()
            await session.truncate(reply.item_id, 0, played_ms, heard_transcript=heard)
        except APIError as exc:
            self.core.report_error(exc, source="realtime", recoverable=True)

    async def _restore(self, item_id: str | None, heard: str) -> None:
        """Give the reconnected model the part of a cut reply the user heard."""
        session = self._session
        if session is None:
            return
        for item in session.history:
            if item_id is not None and item_id_of(item) == item_id:
                if isinstance(item, MessageItem) and item.text.strip():
                    return  # the replay carried it already
        try:
            await session.add_item(MessageItem.assistant_text(heard))
        except APIError as exc:
            self.core.report_error(exc, source="realtime", recoverable=True)

    async def _cancel(self) -> None:
        if self._session is not None:
            try:
                await self._session.cancel_response()
            except APIError as exc:
                self.core.report_error(exc, source="realtime", recoverable=True)

    async def _request_response(self, intent: _Intent, instructions: str | None = None) -> None:
        """Ask the model for a response that `intent` describes."""
        session = self._session
        if session is None:
            return
        if intent not in self._intents:
            self._intents.append(intent)
        try:
            started = await session.create_response(
                instructions=instructions, on_duplicate="cancel_existing"
            )
        except APIError as exc:
            started = None
            self.core.report_error(exc, source="realtime", recoverable=True)
        if intent in self._intents:  # never adopted: no response will come for it
            if intent.handle is not None and started is None:
                intent.handle._finish()
            self._drop_intent(intent)

    def _generate_reply(self, msg: GenerateReply) -> None:
        self._interrupt_all(force=False)
        for reply in self._replies.values():
            # create_response(on_duplicate="cancel_existing") cancels the one streaming;
            # a second response.cancel would only earn a server error.
            reply.cancel_sent = True
        intent = _Intent(
            source="generate_reply", turn_id=self._last_turn_id, handle=msg.handle,
            user_initiated=msg.handle.user_initiated,
        )
        self._spawn(self._request_response, intent, msg.instructions)

    async def _run_tools(
        self, reply: _Reply, calls: list[FunctionCallReceived], follow_up: _Intent
    ) -> None:
        core = self.core
        handle = reply.handle
        tools = {tool.name: tool for tool in core.agent.tools}
        made: list[FunctionCall] = []
        outputs: list[FunctionCallOutput] = []
        reply_required = False
        for call in calls:
            tool = tools.get(call.name)
            if tool is None:
                output, is_error, required = (
                    f"unknown tool {call.name!r}; tools: {sorted(tools)}", True, True
                )
            else:
                result = await tool.execute(call.arguments)  # never raises: errors are outputs
                output, is_error, required = result.output, result.is_error, result.reply_required
            reply_required = reply_required or required
            made.append(
                FunctionCall(
                    call_id=call.call_id, name=call.name, arguments=call.arguments,
                    id=call.item_id, turn_id=handle.turn_id, speech_id=handle.speech_id,
                )
            )
            outputs.append(
                FunctionCallOutput(
                    call_id=call.call_id, name=call.name, output=output, is_error=is_error,
                    turn_id=handle.turn_id, speech_id=handle.speech_id,
                )
            )
        for function_call, output_item in zip(made, outputs, strict=True):
            core.history.append(function_call)
            core.history.append(output_item)
        core.emit(
            "function_tools_executed",
            FunctionToolsExecutedEvent(
                function_calls=made, function_call_outputs=outputs, turn_id=handle.turn_id,
                speech_id=handle.speech_id,
            ),
        )
        session = self._session
        if session is None:
            return
        try:
            for output_item in outputs:
                await session.send_function_output(output_item.call_id, output_item.output)
        except APIError as exc:
            core.report_error(exc, source="realtime", recoverable=True)
            self._drop_intent(follow_up)
            return
        if reply_required:
            await self._request_response(follow_up)
        else:
            self._drop_intent(follow_up)

    def _recover_from_text(self, reply: _Reply) -> None:
        """The model wrote instead of speaking: drop the text answer and ask again."""
        if self._text_retries >= self.max_text_response_retries:
            retries, self._text_retries = self._text_retries, 0
            self.core.report_error(
                RealtimeTextResponseError(
                    f"the realtime model answered in text instead of audio {retries + 1} times "
                    f"(max_text_response_retries={self.max_text_response_retries}); check that "
                    "the model and session support audio output"
                ),
                source="realtime",
                recoverable=False,
            )
            return
        self._text_retries += 1
        logger.info(
            "realtime model answered in text; asking again (retry %d of %d)",
            self._text_retries, self.max_text_response_retries,
        )
        handle = reply.handle
        intent = _Intent(
            source=handle.source, turn_id=handle.turn_id, user_initiated=handle.user_initiated
        )
        self._intents.append(intent)  # held now so the agent does not turn to listening
        self._spawn(self._retry_text, reply.text_item_id, intent)

    async def _retry_text(self, item_id: str | None, intent: _Intent) -> None:
        session = self._session
        if session is None:
            return
        try:
            if item_id is not None:
                await session.send(ce.ConversationItemDelete(item_id=item_id))
        except APIError as exc:
            self.core.report_error(exc, source="realtime", recoverable=True)
            self._drop_intent(intent)
            return
        await self._request_response(intent)

    def _drop_intent(self, intent: _Intent) -> None:
        if intent in self._intents:
            self._intents.remove(intent)
        if not self._replies and not self._intents:
            self.core.set_agent_state("listening")

