"""OpenAI Realtime (GA) over trio-websocket: a speech-to-speech model session.

    model = RealtimeModel(instructions="Be brief.", voice="marin")     # key: OPENAI_API_KEY
    async with model.connect() as session:
        async with session.events.events() as stream:                 # every event, bounded
            session.push_audio(mic_frame)                             # any rate; 24 kHz sent
            async for event in stream:
                match event.args[0]:
                    case OutputAudio(frame=frame): playout.push(frame)
                    case FunctionCallReceived(call_id=cid, arguments=args): ...
                    case ResponseFinished(metrics=m): log.info("ttft %.3f", m.ttft)

Contract: `connect()` opens the socket (`{base_url}/realtime?model=...`, header
`Authorization: Bearer <key>`, message cap 16 MiB), waits for `session.created`, sends
one `session.update` with the configured instructions, voice, audio formats, turn
detection (ServerVad by default; `NULL` for push-to-talk), input transcription and tools,
and waits for `session.updated`. Connection failures raise `APIConnectionError`, an HTTP
refusal `APIStatusError`, a silent server `APITimeoutError`.

Audio in: `push_audio` resamples to the wire rate (24 kHz PCM, 8 kHz G.711), downmixes
nothing (send mono), and sends ~`audio_batch_ms` appends; `commit_audio` flushes the rest
first. Audio out: every `response.output_audio.delta` becomes an `OutputAudio` event
holding an AudioFrame tagged with response, item and speech id; the session counts the
samples received per item so `truncate()` can clamp `audio_end_ms` to what exists.

Events are emitted on `session.events` (a voxtrio EventEmitter) under the names in
`EVENT_NAMES`, each with one attrs payload. `ResponseFinished` carries
`RealtimeModelMetrics` (ttft = first audio delta - response.created, on trio's clock;
token counts from `usage`). Server `error` events become `RealtimeErrorEvent(recoverable=True)`.

Reconnect: when the socket drops (and `reconnect=True`, the default) the session emits a
recoverable `error` (code "connection_lost"), finishes a response in flight with status
"failed" / reason "connection_lost", and reconnects per `conn_options` (first retry after
0.1 s, then every `retry_interval`, at most `max_retry` times). On the new socket it sends
the configuration the last server confirmed and replays `history` as text items
(`replay_items`), then emits "session_reconnected". Events queued meanwhile go out on the
new socket (input audio beyond the 256-message queue is dropped and counted). When it
gives up: `RealtimeErrorEvent(recoverable=False)`, then "closed"; later sends raise
`APIConnectionError`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Literal

import attrs
import numpy as np
import trio
import trio_websocket

from voxtrio.audio.frame import AudioFrame
from voxtrio.audio.resample import AudioResampler
from voxtrio.core.emitter import EventEmitter
from voxtrio.engines.errors import (
    APIConnectionError,
    APIConnectOptions,
    APIStatusError,
    APITimeoutError,
    unwrap_error,
)
from voxtrio.engines.metrics import (
    InputTokenDetails,
    MetricsMetadata,
    OutputTokenDetails,
    RealtimeModelMetrics,
)
from voxtrio.engines.openai.realtime_events import (
    EVENT_NAMES,
    FunctionCallReceived,
    InputSpeechStarted,
    InputSpeechStopped,
    InputTranscriptionCompleted,
    InputTranscriptionDelta,
    InputTranscriptionFailed,
    OutputAudio,
    OutputTranscriptDelta,
    RealtimeErrorEvent,
    ResponseFinished,
    ResponseStarted,
)
from voxtrio.engines.openai.realtime_history import (
    item_id_of,
    keep_transcripts,
    replay_items,
    with_item_id,
)
from voxtrio.protocols.openai_realtime import client_events as ce
from voxtrio.protocols.openai_realtime import server_events as se
from voxtrio.protocols.openai_realtime.audio import (
    frame_from_base64,
    frame_to_base64,
    sample_rate_of,
)
from voxtrio.protocols.openai_realtime.codec import decode, encode
from voxtrio.protocols.openai_realtime.errors import ProtocolError
from voxtrio.protocols.openai_realtime.items import (
    FunctionCallOutputItem,
    InputAudio,
    Item,
    MessageItem,
)
from voxtrio.protocols.openai_realtime.items import OutputAudio as OutputAudioPart
from voxtrio.protocols.openai_realtime.responses import ResponseCreateParams, Usage
from voxtrio.protocols.openai_realtime.session_config import (
    AudioConfig,
    AudioFormat,
    AudioInputConfig,
    AudioOutputConfig,
    InputTranscription,
    PcmFormat,
    ServerVad,
    SessionConfig,
    Tool,
    TurnDetection,
)
from voxtrio.protocols.openai_realtime.values import Null

__all__ = [
    "EVENT_NAMES",
    "FunctionCallReceived",
    "InputSpeechStarted",
    "InputSpeechStopped",
    "InputTranscription",
    "InputTranscriptionCompleted",
    "InputTranscriptionDelta",
    "InputTranscriptionFailed",
    "OutputAudio",
    "OutputTranscriptDelta",
    "RealtimeErrorEvent",
    "RealtimeModel",
    "RealtimeSession",
    "ResponseFinished",
    "ResponseStarted",
    "replay_items",
]

log = logging.getLogger("voxtrio.engines.openai.realtime")

MAX_MESSAGE_SIZE = 16 * 1024 * 1024
_REQUEST_KEY = "voxtrio_request_id"
# A connection that lived this long resets the retry budget; one that drops sooner counts
# as a failed attempt, so a server that accepts and hangs up at once cannot loop forever.
_STABLE_AFTER = 10.0

# -- the model (configuration) -----------------------------------------------------------


@attrs.frozen(kw_only=True)
class RealtimeModel:
    """Configuration for sessions with an OpenAI Realtime (GA) server; see the module docstring."""

    model: str = "gpt-realtime"
    api_key: str | None = None
    base_url: str = "wss://api.openai.com/v1"
    instructions: str | None = None
    voice: str | None = "marin"
    audio_format: AudioFormat = attrs.field(factory=PcmFormat)
    turn_detection: TurnDetection | Null = attrs.field(factory=ServerVad)
    input_transcription: InputTranscription | Null | None = None
    tools: Sequence[Tool] = ()
    connect_timeout: float = 10.0
    audio_batch_ms: int = 100
    max_message_size: int = MAX_MESSAGE_SIZE
    reconnect: bool = True
    conn_options: APIConnectOptions = attrs.field(factory=APIConnectOptions)

    def session_config(self) -> SessionConfig:
        """The `session.update` payload this model sends on connect."""
        return SessionConfig(
            model=self.model,
            instructions=self.instructions,
            output_modalities=("audio",),
            audio=AudioConfig(
                input=AudioInputConfig(
                    format=self.audio_format,
                    turn_detection=self.turn_detection,
                    transcription=self.input_transcription,
                ),
                output=AudioOutputConfig(format=self.audio_format, voice=self.voice),
            ),
            tools=tuple(self.tools),
        )

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[RealtimeSession]:
        """Open a configured session; it closes when the block exits."""
        api_key = self.api_key or os.environ.get("OPENAI_API_KEY")
        if not api_key:
            raise APIConnectionError(
                "no OpenAI API key: pass RealtimeModel(api_key=...) or set OPENAI_API_KEY",
                retryable=False,
            )
        try:
            async with trio.open_nursery() as nursery:
                session = RealtimeSession(self, api_key, nursery)
                await nursery.start(session._main)
                try:
                    yield session
                finally:
                    await session._drain()
                    nursery.cancel_scope.cancel()
        except BaseExceptionGroup as group:
            # trio wraps whatever leaves the nursery (our errors and the caller's) in a
            # group; a lone error comes out as itself.
            inner = unwrap_error(group)
            if inner is group:
                raise
            raise inner  # noqa: B904  (the group is kept as context)

    @asynccontextmanager
    async def _open_socket(self, api_key: str) -> AsyncIterator[trio_websocket.WebSocketConnection]:
        url = f"{self.base_url.rstrip('/')}/realtime?model={self.model}"
        opened = False
        try:
            async with trio_websocket.open_websocket_url(
                url,
                extra_headers=[(b"Authorization", f"Bearer {api_key}".encode())],
                max_message_size=self.max_message_size,
                message_queue_size=256,
                connect_timeout=self.connect_timeout,
                disconnect_timeout=2.0,
            ) as ws:
                opened = True
                yield ws
        except trio_websocket.ConnectionRejected as exc:
            raise APIStatusError(
                f"realtime server refused the connection to {url}", status_code=exc.status_code
            ) from exc
        except trio_websocket.HandshakeError as exc:
            raise APIConnectionError(f"WebSocket handshake with {url} failed") from exc
        except OSError as exc:
            if opened:
                raise
            raise APIConnectionError(f"cannot connect to {url}") from exc


# -- the session -------------------------------------------------------------------------


@attrs.define
class _Response:
    response_id: str
    speech_id: str
    created_at: float
    user_initiated: bool
    first_audio_at: float | None = None
    transcript: list[str] = attrs.Factory(list)


class RealtimeSession:
    """One connected session; made by `RealtimeModel.connect()`."""

    def __init__(self, model: RealtimeModel, api_key: str, nursery: trio.Nursery) -> None:
        self.model = model
        self.events = EventEmitter(valid_events=EVENT_NAMES)
        self.events.bind(nursery)
        self.session_config: SessionConfig | None = None  # as the server last reported it
        self._effective_config: SessionConfig | None = None  # after our last update
        self.dropped_audio_batches = 0
        self._api_key = api_key
        self._nursery = nursery
        self.reconnects = 0
        self._send_tx, self._send_rx = trio.open_memory_channel[str](256)
        self._rate = sample_rate_of(model.audio_format)
        self._resampler: AudioResampler | None = None
        self._pending_audio: list[AudioFrame] = []
        self._pending_samples = 0
        self._responses: dict[str, _Response] = {}
        self._active_response: str | None = None
        self._requests: dict[str, trio.MemorySendChannel[ResponseStarted]] = {}
        self._request_counter = 0
        self._item_samples: dict[str, int] = {}
        self._started_at = trio.current_time()
        self._history: list[Item] = []
        self._history_changed = trio.Event()
        self._item_counter = 0
        self._closed = False
        self._closing = False
        self._writer_done = trio.Event()

    # -- audio in ------------------------------------------------------------------------

    def push_audio(self, frame: AudioFrame) -> None:
        """Queue mono audio at any rate; sent in ~`audio_batch_ms` appends at the wire rate."""
        if frame.num_channels != 1:
            raise ValueError(f"push mono audio: got {frame.num_channels} channels")
        if frame.sample_rate != self._rate:
            if self._resampler is None or self._resampler.in_rate != frame.sample_rate:
                self._resampler = AudioResampler(frame.sample_rate, self._rate)
            frames = self._resampler.push(frame)
        else:
            frames = [frame]
        for out in frames:
            self._pending_audio.append(out)
            self._pending_samples += out.samples_per_channel
        if self._pending_samples * 1000 >= self.model.audio_batch_ms * self._rate:
            self._flush_audio()

    async def commit_audio(self) -> None:
        """Send the buffered audio and commit it as a user turn (push-to-talk)."""
        if self._resampler is not None:
            for frame in self._resampler.flush():  # the filter's tail belongs to this turn
                self._pending_audio.append(frame)
                self._pending_samples += frame.samples_per_channel
        self._flush_audio()
        await self.send(ce.InputAudioBufferCommit())

    async def clear_audio(self) -> None:
        """Drop audio not yet committed, here and on the server."""
        self._pending_audio.clear()
        self._pending_samples = 0
        await self.send(ce.InputAudioBufferClear())

    # -- responses -----------------------------------------------------------------------

    async def create_response(
        self,
        *,
        instructions: str | None = None,
        on_duplicate: Literal["cancel_existing", "cancel_new", "keep_both"] = "cancel_existing",
        wait_created: float = 10.0,
    ) -> ResponseStarted | None:
        """Ask for a reply; returns when the server has created it (None if not created).

        With a response in flight, "cancel_existing" cancels it first, "cancel_new" does
        nothing and returns None, "keep_both" asks anyway. Raises APITimeoutError when
        `response.created` does not come within `wait_created` seconds.
        """
        if self._active_response is not None:
            if on_duplicate == "cancel_new":
                return None
            if on_duplicate == "cancel_existing":
                await self.cancel_response()
        self._request_counter += 1
        request_id = f"req_{self._request_counter}"
        tx, rx = trio.open_memory_channel[ResponseStarted](1)
        self._requests[request_id] = tx
        try:
            params = ResponseCreateParams(
                instructions=instructions, metadata={_REQUEST_KEY: request_id}
            )
            await self.send(ce.ResponseCreate(response=params, event_id=request_id))
            with trio.move_on_after(wait_created):
                try:
                    return await rx.receive()
                except trio.EndOfChannel:
                    raise APIConnectionError(
                        "connection lost before response.created", retryable=False
                    ) from None
            raise APITimeoutError(f"no response.created within {wait_created} s of response.create")
        finally:
            del self._requests[request_id]

    async def cancel_response(self) -> None:
        """Cancel the response in flight (harmless when there is none)."""
        await self.send(ce.ResponseCancel())

    async def truncate(
        self,
        item_id: str,
        content_index: int,
        audio_end_ms: int,
        *,
        heard_transcript: str | None = None,
    ) -> int:
        """Cut `item_id` at what the user heard; returns the `audio_end_ms` actually sent.

        The value is clamped to the audio received for that item, since the server
        rejects a cut beyond its audio. The server drops the transcript of the cut item;
        `heard_transcript` (the words played) is kept in `history` instead.
        """
        received_ms = self.received_audio_ms(item_id)
        clamped = max(0, min(int(audio_end_ms), int(received_ms)))
        if heard_transcript is not None:
            self._set_transcript(item_id, content_index, heard_transcript)
        await self.send(
            ce.ConversationItemTruncate(
                item_id=item_id, content_index=content_index, audio_end_ms=clamped
            )
        )
        return clamped

    def received_audio_ms(self, item_id: str) -> float:
        """Milliseconds of audio received so far for an item."""
        return self._item_samples.get(item_id, 0) * 1000.0 / self._rate

    async def send_function_output(self, call_id: str, output: str) -> None:
        """Return a tool's result to the model (then call `create_response`)."""
        await self.send(
            ce.ConversationItemCreate(item=FunctionCallOutputItem(call_id=call_id, output=output))
        )

    async def add_item(self, item: Item, previous_item_id: str | None = None) -> None:
        """Add an item to the server's conversation."""
        await self.send(ce.ConversationItemCreate(item=item, previous_item_id=previous_item_id))

    @property
    def history(self) -> tuple[Item, ...]:
        """The conversation as the server holds it (item events applied in order).

        User audio items gain their transcript when transcription completes; a truncated
        assistant item holds the transcript passed to `truncate(heard_transcript=...)`.
        """
        return tuple(self._history)

    async def update_chat_ctx(self, items: Sequence[Item], *, wait: float = 10.0) -> None:
        """Make the server's conversation equal `items` (deletes, then ordered creates).

        Items are matched by id; items without an id get one. Returns once the server
        confirmed every change; raises APITimeoutError after `wait` seconds otherwise.
        """
        wanted: list[Item] = []
        for item in items:
            if item_id_of(item) is None:
                self._item_counter += 1
                item = with_item_id(item, f"item_vx{self._item_counter:04d}")
            wanted.append(item)
        wanted_ids = [item_id_of(item) for item in wanted]
        current_ids = [item_id_of(item) for item in self._history]
        deletes = [i for i in current_ids if i is not None and i not in wanted_ids]
        for deleted in deletes:
            await self.send(ce.ConversationItemDelete(item_id=deleted))
        previous = "root"
        for item, wanted_id in zip(wanted, wanted_ids, strict=True):
            if wanted_id not in current_ids:
                await self.add_item(item, previous_item_id=previous)
            previous = wanted_id if wanted_id is not None else previous

        def settled() -> bool:
            ids = {item_id_of(item) for item in self._history}
            return all(i in ids for i in wanted_ids) and not any(i in ids for i in deletes)

        with trio.move_on_after(wait):
            while not settled():
                if self._closed:
                    raise APIConnectionError("connection lost during update_chat_ctx")
                await self._history_changed.wait()
            return
        raise APITimeoutError(f"the server did not confirm the conversation update within {wait} s")

    async def update_instructions(self, instructions: str) -> None:
        """Replace the session instructions (`session.update`); kept across reconnects."""
        await self.send(ce.SessionUpdate(session=SessionConfig(instructions=instructions)))

    async def update_tools(self, tools: Sequence[Tool]) -> None:
        """Replace the session tools (`session.update`); kept across reconnects."""
        await self.send(ce.SessionUpdate(session=SessionConfig(tools=tuple(tools))))

    async def send(self, event: ce.ClientEvent) -> None:
        """Queue any client event (in order with audio appends)."""
        if self._closed:
            raise APIConnectionError("the realtime session is closed", retryable=False)
        try:
            await self._send_tx.send(encode(event))
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            raise APIConnectionError("the realtime session is closed", retryable=False) from None

    # -- internals -----------------------------------------------------------------------

    def _flush_audio(self) -> None:
        if not self._pending_audio:
            return
        data = np.concatenate([f.data for f in self._pending_audio])
        frame = AudioFrame(data, self._rate)
        self._pending_audio.clear()
        self._pending_samples = 0
        append = ce.InputAudioBufferAppend(audio=frame_to_base64(frame, self.model.audio_format))
        try:
            self._send_tx.send_nowait(encode(append))
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            log.debug("realtime session closed: input audio discarded")
        except trio.WouldBlock:
            # Live audio: losing a batch beats stalling the caller's audio thread.
            self.dropped_audio_batches += 1
            log.warning(
                "realtime send queue full: dropped %d ms of input audio",
                frame.samples_per_channel * 1000 // self._rate,
            )

    async def _drain(self) -> None:
        # Let queued events (a final truncate, say) reach the socket before closing.
        self._closing = True
        self._flush_audio()
        self._send_tx.close()
        if not self._closed:
            with trio.move_on_after(1.0):
                await self._writer_done.wait()

    async def _main(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Connect, serve, and reconnect per `conn_options` until the session closes."""
        options = self.model.conn_options
        failures = 0
        first = True
        while True:
            reason = "connection closed"
            try:
                async with self.model._open_socket(self._api_key) as ws:
                    await self._handshake(ws, replay=not first)
                    if first:
                        first = False
                        task_status.started()
                    else:
                        self.reconnects += 1
                        self.events.emit("session_reconnected", self.reconnects)
                    served_from = trio.current_time()
                    reason = await self._serve(ws)
                    if trio.current_time() - served_from >= _STABLE_AFTER:
                        failures = 0  # a long-lived connection: start the retry budget afresh
            except (APIConnectionError, APIStatusError) as exc:
                if first:
                    raise
                reason = str(exc)
            if self._closing:
                return
            self._abandon_response(reason)
            failures += 1
            if not self.model.reconnect or failures > options.max_retry:
                suffix = (
                    f" (gave up after {failures - 1} reconnect attempts)" if failures > 1 else ""
                )
                self._lost(reason + suffix)
                return
            self.events.emit(
                "error",
                RealtimeErrorEvent(message=f"{reason}; reconnecting", code="connection_lost"),
            )
            await trio.sleep(options.interval_for_retry(failures - 1))

    async def _handshake(self, ws: trio_websocket.WebSocketConnection, *, replay: bool) -> None:
        """session.created -> session.update (-> replayed items) -> session.updated."""
        timeout = self.model.connect_timeout
        try:
            with trio.move_on_after(timeout) as scope:
                first = await self._receive(ws)
            if scope.cancelled_caught:
                raise APITimeoutError("no session.created from the realtime server")
            if not isinstance(first, se.SessionCreated):
                raise APIConnectionError(f"expected session.created first, got {first.type}")
            self._on_event(first)
            config = self.model.session_config()
            if replay and self._effective_config is not None:
                config = self._effective_config.without_server_fields()
            await ws.send_message(encode(ce.SessionUpdate(session=config)))
            if replay:
                # The new server conversation is empty: rebuild it, audio as text.
                items = replay_items(self._history)
                self._history = []
                previous = "root"
                for item in items:
                    create = ce.ConversationItemCreate(item=item, previous_item_id=previous)
                    await ws.send_message(encode(create))
                    previous = item_id_of(item) or previous
            with trio.move_on_after(timeout) as scope:
                while not isinstance(event := await self._receive(ws), se.SessionUpdated):
                    self._on_event(event)
                self._on_event(event)
            if scope.cancelled_caught:
                raise APITimeoutError("no session.updated after session.update")
        except trio_websocket.ConnectionClosed as exc:
            raise APIConnectionError(
                f"server closed the connection during the session handshake: {exc.reason}"
            ) from None

    async def _serve(self, ws: trio_websocket.WebSocketConnection) -> str:
        """Run reader and writer until the connection ends; return why it ended."""
        reason = "connection closed"

        async def reader(cancel: trio.CancelScope) -> None:
            nonlocal reason
            try:
                while True:
                    self._on_event(await self._receive(ws))
            except trio_websocket.ConnectionClosed as exc:
                reason = f"connection closed: {exc.reason}"
            cancel.cancel()

        async def writer(cancel: trio.CancelScope) -> None:
            nonlocal reason
            try:
                async for text in self._send_rx:
                    await ws.send_message(text)
                self._writer_done.set()  # the session is closing: all sent
                return
            except trio_websocket.ConnectionClosed as exc:
                reason = f"connection closed while sending: {exc.reason}"
            cancel.cancel()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(reader, nursery.cancel_scope)
            nursery.start_soon(writer, nursery.cancel_scope)
        return reason

    async def _receive(self, ws: trio_websocket.WebSocketConnection) -> se.ServerEvent:
        while True:
            message = await ws.get_message()
            try:
                # Lenient: a new enumeration value from the server must not cost us
                # a response.done.
                return decode(message, lenient_enums=True)
            except ProtocolError as exc:
                log.warning("ignoring malformed server event: %s", exc)
                self.events.emit("error", RealtimeErrorEvent(message=str(exc), code="protocol"))

    def _abandon_response(self, reason: str) -> None:
        """A response in flight when the socket went away will never finish: say so."""
        response_id = self._active_response
        if response_id is None:
            return
        self._active_response = None
        state = self._responses[response_id]
        now = trio.current_time()
        metrics = _metrics(
            None,
            label="openai.realtime",
            request_id=response_id,
            speech_id=state.speech_id,
            duration=now - state.created_at,
            session_duration=now - self._started_at,
            ttft=-1.0 if state.first_audio_at is None else state.first_audio_at - state.created_at,
            cancelled=True,
            model=self.model.model,
        )
        self.events.emit(
            "response_done",
            ResponseFinished(
                response_id=response_id,
                speech_id=state.speech_id,
                status="failed",
                reason="connection_lost",
                transcript="".join(state.transcript),
                metrics=metrics,
            ),
        )

    def _lost(self, why: str) -> None:
        if self._closed:
            return
        self._closed = True
        # Wake everything that waits on the server: it will not answer any more.
        for waiter in self._requests.values():
            waiter.close()
        self._notify_history()
        self.events.emit(
            "error", RealtimeErrorEvent(message=why, code="connection_lost", recoverable=False)
        )
        self.events.emit("closed", why)

    def _on_event(self, event: se.ServerEvent) -> None:
        self.events.emit("server_event", event)
        now = trio.current_time()
        match event:
            case se.SessionCreated(session=SessionConfig() as config):
                self.session_config = config
            case se.SessionUpdated(session=SessionConfig() as config):
                self.session_config = self._effective_config = config
            case se.InputAudioBufferSpeechStarted():
                self.events.emit(
                    "input_speech_started",
                    InputSpeechStarted(item_id=event.item_id, audio_start_ms=event.audio_start_ms),
                )
            case se.InputAudioBufferSpeechStopped():
                self.events.emit(
                    "input_speech_stopped",
                    InputSpeechStopped(item_id=event.item_id, audio_end_ms=event.audio_end_ms),
                )
            case se.ConversationItemInputAudioTranscriptionDelta(delta=str() as delta):
                self.events.emit(
                    "input_transcription_delta",
                    InputTranscriptionDelta(item_id=event.item_id, delta=delta),
                )
            case (
                se.ConversationItemAdded()
                | se.ConversationItemDone()
                | se.ConversationItemCreated()
            ):
                self._upsert(event.item, event.previous_item_id)
            case se.ConversationItemRetrieved():
                self._upsert(event.item, None)
            case se.ConversationItemDeleted():
                self._history = [i for i in self._history if item_id_of(i) != event.item_id]
                self._notify_history()
            case se.ConversationItemInputAudioTranscriptionCompleted():
                self._set_transcript(event.item_id, event.content_index, event.transcript)
                self.events.emit(
                    "input_transcription_completed",
                    InputTranscriptionCompleted(item_id=event.item_id, transcript=event.transcript),
                )
            case se.ConversationItemInputAudioTranscriptionFailed():
                self.events.emit(
                    "input_transcription_failed",
                    InputTranscriptionFailed(
                        item_id=event.item_id, message=event.error.message or "transcription failed"
                    ),
                )
            case se.ResponseCreated():
                self._on_response_created(event, now)
            case se.ResponseOutputAudioDelta():
                self._on_audio(event, now)
            case se.ResponseOutputAudioTranscriptDelta() | se.ResponseOutputTextDelta():
                state = self._response(event.response_id, now)
                state.transcript.append(event.delta)
                self.events.emit(
                    "output_transcript_delta",
                    OutputTranscriptDelta(
                        response_id=event.response_id,
                        item_id=event.item_id,
                        speech_id=state.speech_id,
                        delta=event.delta,
                    ),
                )
            case se.ResponseFunctionCallArgumentsDone():
                self.events.emit(
                    "function_call",
                    FunctionCallReceived(
                        response_id=event.response_id,
                        item_id=event.item_id,
                        call_id=event.call_id,
                        name=event.name,
                        arguments=event.arguments,
                    ),
                )
            case se.ResponseDone():
                self._on_response_done(event, now)
            case se.ErrorEvent():
                self.events.emit(
                    "error",
                    RealtimeErrorEvent(
                        message=event.error.message,
                        code=event.error.code,
                        client_event_id=event.error.event_id,
                    ),
                )
            case _:
                pass

    def _upsert(self, item: Item, previous_item_id: str | None) -> None:
        item_id = item_id_of(item)
        if item_id is None:
            return
        for index, existing in enumerate(self._history):
            if item_id_of(existing) == item_id:
                self._history[index] = keep_transcripts(existing, item)
                break
        else:
            ids = [item_id_of(i) for i in self._history]
            if previous_item_id == "root":
                self._history.insert(0, item)
            elif previous_item_id in ids:
                self._history.insert(ids.index(previous_item_id) + 1, item)
            else:
                self._history.append(item)
        self._notify_history()

    def _set_transcript(self, item_id: str, content_index: int, transcript: str) -> None:
        for index, item in enumerate(self._history):
            if item_id_of(item) == item_id and isinstance(item, MessageItem):
                parts = list(item.content)
                if 0 <= content_index < len(parts):
                    part = parts[content_index]
                    if isinstance(part, (InputAudio, OutputAudioPart)):
                        parts[content_index] = attrs.evolve(part, transcript=transcript)
                        self._history[index] = attrs.evolve(item, content=tuple(parts))
                        self._notify_history()
                return

    def _notify_history(self) -> None:
        changed, self._history_changed = self._history_changed, trio.Event()
        changed.set()

    def _response(self, response_id: str, now: float) -> _Response:
        state = self._responses.get(response_id)
        if state is None:  # events of a response whose response.created we missed
            state = self._responses[response_id] = _Response(
                response_id, _speech_id(response_id), now, user_initiated=False
            )
        return state

    def _on_response_created(self, event: se.ResponseCreated, now: float) -> None:
        response_id = event.response.id or f"resp_local_{len(self._responses)}"
        request_id = (event.response.metadata or {}).get(_REQUEST_KEY)
        state = _Response(
            response_id, _speech_id(response_id), now, user_initiated=request_id is not None
        )
        self._responses[response_id] = state
        self._active_response = response_id
        started = ResponseStarted(
            response_id=response_id, speech_id=state.speech_id, user_initiated=state.user_initiated
        )
        if request_id is not None and request_id in self._requests:
            self._requests[request_id].send_nowait(started)
        self.events.emit("response_created", started)

    def _on_audio(self, event: se.ResponseOutputAudioDelta, now: float) -> None:
        state = self._response(event.response_id, now)
        if state.first_audio_at is None:
            state.first_audio_at = now
        try:
            before = self._item_samples.get(event.item_id, 0)
            frame = frame_from_base64(event.delta, self.model.audio_format, pts=before / self._rate)
        except ProtocolError as exc:
            self.events.emit("error", RealtimeErrorEvent(message=str(exc), code="protocol"))
            return
        self._item_samples[event.item_id] = before + frame.samples_per_channel
        self.events.emit(
            "output_audio",
            OutputAudio(
                response_id=event.response_id,
                item_id=event.item_id,
                speech_id=state.speech_id,
                frame=frame,
            ),
        )

    def _on_response_done(self, event: se.ResponseDone, now: float) -> None:
        response = event.response
        response_id = response.id or (self._active_response or "")
        state = self._response(response_id, now)
        if self._active_response == response_id:
            self._active_response = None
        status = response.status or "completed"
        details = response.status_details
        duration = now - state.created_at
        metrics = _metrics(
            response.usage,
            label="openai.realtime",
            request_id=response_id,
            speech_id=state.speech_id,
            duration=duration,
            session_duration=now - self._started_at,
            ttft=-1.0 if state.first_audio_at is None else state.first_audio_at - state.created_at,
            cancelled=status == "cancelled",
            model=self.model.model,
        )
        self.events.emit(
            "response_done",
            ResponseFinished(
                response_id=response_id,
                speech_id=state.speech_id,
                status=status,
                reason=details.reason if details else None,
                transcript="".join(state.transcript),
                metrics=metrics,
            ),
        )
        self.events.emit("metrics_collected", metrics)


def _speech_id(response_id: str) -> str:
    return "speech_" + response_id.removeprefix("resp_")


def _metrics(
    usage: Usage | None,
    *,
    label: str,
    request_id: str,
    speech_id: str,
    duration: float,
    session_duration: float,
    ttft: float,
    cancelled: bool,
    model: str,
) -> RealtimeModelMetrics:
    usage = usage or Usage()
    inp = usage.input_token_details
    cached = inp.cached_tokens_details if inp else None
    out = usage.output_token_details
    output_tokens = usage.output_tokens or 0
    return RealtimeModelMetrics(
        label=label,
        request_id=request_id,
        speech_id=speech_id,
        metadata=MetricsMetadata(model_name=model, model_provider="openai"),
        duration=duration,
        session_duration=session_duration,
        ttft=ttft,
        cancelled=cancelled,
        input_tokens=usage.input_tokens or 0,
        output_tokens=output_tokens,
        total_tokens=usage.total_tokens or 0,
        tokens_per_second=output_tokens / duration if duration > 0 else 0.0,
        input_token_details=InputTokenDetails(
            audio_tokens=(inp.audio_tokens or 0) if inp else 0,
            text_tokens=(inp.text_tokens or 0) if inp else 0,
            image_tokens=(inp.image_tokens or 0) if inp else 0,
            cached_tokens=(inp.cached_tokens or 0) if inp else 0,
            cached_audio_tokens=(cached.audio_tokens or 0) if cached else 0,
            cached_text_tokens=(cached.text_tokens or 0) if cached else 0,
            cached_image_tokens=(cached.image_tokens or 0) if cached else 0,
        ),
        output_token_details=OutputTokenDetails(
            text_tokens=(out.text_tokens or 0) if out else 0,
            audio_tokens=(out.audio_tokens or 0) if out else 0,
        ),
    )
