"""Give a batch-only STT a live stream, using a VAD to cut the audio into utterances.

    stt = StreamAdapter(stt=WhisperSTT(model_path=...), vad=SileroVAD())
    async with stt.stream() as stream:
        stream.push_frame(frame)
        async for event in stream:          # START_OF_SPEECH, END_OF_SPEECH, FINAL_TRANSCRIPT
            ...

Contract: frames go to a VAD stream. The VAD's START_OF_SPEECH becomes a
START_OF_SPEECH event; its END_OF_SPEECH becomes an END_OF_SPEECH event, and the
utterance's frames (with the VAD's prefix padding) go to `stt.recognize()` — one call
per utterance — whose transcript becomes one FINAL_TRANSCRIPT (empty transcripts are
skipped). There are no interim results. Recognition runs beside segmentation, so a
slow `recognize` never stalls the VAD; utterances wait in a bounded queue
(`max_pending_utterances`; the VAD waits when it is full). `flush()` on the stream is
a hard VAD boundary (a speech in progress is recognized at once).

Retries belong to `recognize()` (per the stream's `conn_options`); the stream itself
does not restart, so a failure that survives recognize's retries ends the iteration
with that error. The wrapped STT's metrics and errors are re-emitted by the adapter.
"""

from __future__ import annotations

from typing import Any

import attrs
import trio

from voxtrio.audio.frame import AudioFrame
from voxtrio.core.mailbox import MailboxReceiver, MailboxSender, open_mailbox
from voxtrio.engines._audio_stream import AudioInputStream
from voxtrio.engines.errors import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions, APIError
from voxtrio.engines.stt import (
    STT,
    Flush,
    RecognizeStream,
    SpeechEvent,
    SpeechEventType,
    STTCapabilities,
)
from voxtrio.engines.vad import VAD, VADEventType, VADStream

__all__ = ["StreamAdapter", "StreamAdapterStream"]


class StreamAdapter(STT):
    """A streaming STT made of a batch `stt` and a `vad` (see the module docstring)."""

    def __init__(self, *, stt: STT, vad: VAD, max_pending_utterances: int = 4) -> None:
        super().__init__(
            capabilities=STTCapabilities(streaming=True, interim_results=False),
            sample_rate=None,  # the VAD resamples; recognize() resamples to the STT's rate
            label=stt.label,
        )
        self._stt = stt
        self._vad = vad
        self._max_pending = max_pending_utterances
        stt.on("metrics_collected", self._forward_metrics)
        stt.on("error", self._forward_error)

    @property
    def wrapped_stt(self) -> STT:
        return self._stt

    @property
    def vad(self) -> VAD:
        return self._vad

    async def _recognize_impl(
        self, frame: AudioFrame, *, language: str | None, conn_options: APIConnectOptions
    ) -> SpeechEvent:
        return await self._stt.recognize(frame, language=language, conn_options=conn_options)

    async def recognize(self, buffer: Any, *, language: str | None = None,
                        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
                        ) -> SpeechEvent:
        """Batch recognition goes straight to the wrapped STT (its own retries/metrics)."""
        return await self._stt.recognize(buffer, language=language, conn_options=conn_options)

    def stream(
        self,
        *,
        language: str | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> StreamAdapterStream:
        return StreamAdapterStream(
            adapter=self,
            conn_options=conn_options,
            language=language,
            max_pending=self._max_pending,
        )

    async def aclose(self) -> None:
        self._stt.off("metrics_collected", self._forward_metrics)
        self._stt.off("error", self._forward_error)

    def _forward_metrics(self, metrics: Any) -> None:
        self.emit("metrics_collected", metrics)

    def _forward_error(self, error: Any) -> None:
        self.emit("error", error)


@attrs.frozen(slots=True)
class _Utterance:
    frames: tuple[AudioFrame, ...]


class StreamAdapterStream(RecognizeStream):
    """The stream of a `StreamAdapter`."""

    def __init__(
        self,
        *,
        adapter: StreamAdapter,
        conn_options: APIConnectOptions,
        language: str | None,
        max_pending: int,
    ) -> None:
        # recognize() retries; restarting the whole stream on top would repeat audio.
        super().__init__(
            stt=adapter,
            conn_options=attrs.evolve(conn_options, max_retry=0),
            language=language,
        )
        self._adapter = adapter
        self._recognize_options = conn_options
        self._max_pending = max_pending

    def _fail(self, exc: BaseException) -> None:
        if isinstance(exc, APIError):
            # From recognize(), which already emitted it (forwarded by the adapter).
            AudioInputStream._fail(self, exc)
        else:
            super()._fail(exc)

    async def _run(self) -> None:
        utterances_tx: MailboxSender[_Utterance]
        utterances_rx: MailboxReceiver[_Utterance]
        utterances_tx, utterances_rx = open_mailbox(self._max_pending)
        async with self._adapter.vad.stream() as vad_stream, trio.open_nursery() as nursery:
            nursery.start_soon(self._feed_vad, vad_stream)
            nursery.start_soon(self._segment, vad_stream, utterances_tx)
            await self._recognize_all(utterances_rx)

    async def _feed_vad(self, vad_stream: VADStream) -> None:
        async for item in self._input:
            if isinstance(item, Flush):
                vad_stream.flush()
            else:
                vad_stream.push_frame(item)
        vad_stream.end_input()

    async def _segment(self, vad_stream: VADStream, utterances: MailboxSender[_Utterance]) -> None:
        async with utterances:
            async for event in vad_stream:
                if event.type is VADEventType.START_OF_SPEECH:
                    await self._send_event(SpeechEvent(SpeechEventType.START_OF_SPEECH))
                elif event.type is VADEventType.END_OF_SPEECH:
                    await self._send_event(SpeechEvent(SpeechEventType.END_OF_SPEECH))
                    if event.frames:
                        await utterances.send(_Utterance(event.frames))

    async def _recognize_all(self, utterances: MailboxReceiver[_Utterance]) -> None:
        async for utterance in utterances:
            event = await self._adapter.wrapped_stt.recognize(
                list(utterance.frames),
                language=self.language,
                conn_options=self._recognize_options,
            )
            if event.alternatives and event.alternatives[0].text.strip():
                await self._send_event(
                    SpeechEvent(
                        SpeechEventType.FINAL_TRANSCRIPT,
                        request_id=event.request_id,
                        alternatives=event.alternatives,
                    )
                )
