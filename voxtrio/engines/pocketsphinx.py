"""Offline speech-to-text with pocketsphinx, decoded in a worker process.

    stt = PocketSphinxSTT()                                  # en-us model from the wheel
    event = await stt.recognize(frames)                      # batch: one utterance
    async with stt.stream() as stream:                       # live: partials and finals
        stream.push_frame(frame); ...; stream.end_input()
        async for event in stream: ...
    await stt.aclose()                                       # stops the worker processes

    PocketSphinxSTT(grammar=jsgf_text)                       # closed set of phrases: exact
    PocketSphinxSTT(keywords=["hey computer", "stop"])       # keyword spotting

Why a process: pocketsphinx holds the GIL while it decodes (measured: a 20 ms chunk
in a thread delays the trio loop by up to ~80 ms), so decoding runs in a worker
process from `voxtrio.engines.worker`; the trio thread only moves bytes.

Stream behaviour: audio is resampled to 16 kHz and sent to the worker as it arrives.
With `endpointing=True` (default) the worker splits speech itself (pocketsphinx's
built-in endpointer: fine on clean audio, unreliable below ~20 dB SNR) and sends
START_OF_SPEECH, INTERIM_TRANSCRIPT (at most every `interim_interval` s of audio, when
the hypothesis changed), FINAL_TRANSCRIPT, END_OF_SPEECH, then RECOGNITION_USAGE.
`flush()` always ends the current utterance (a final if anything was heard). With
`endpointing=False` only `flush()`/`end_input()` end an utterance (let a VAD drive it).

Failures: a worker crash surfaces as `WorkerCrashed` (an `APIConnectionError`); the
stream retries per `APIConnectOptions` on a fresh worker and first replays the audio
the dead worker had not finished with (see `PocketSphinxStream`), so the utterance in
flight is still transcribed. Replayed audio counts again in RECOGNITION_USAGE.

Accuracy (measured): ~6 % WER on natural (piper) speech, but ~67 % on espeak's robotic
voice: for espeak-driven tests pass a JSGF `grammar`, which makes them exact.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import trio

from voxtrio.audio.frame import AudioFrame
from voxtrio.core.fast_clock import ClockHold
from voxtrio.engines._audio_stream import Flush
from voxtrio.engines.errors import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions, APIError
from voxtrio.engines.stt import (
    STT,
    RecognitionUsage,
    RecognizeStream,
    SpeechData,
    SpeechEvent,
    SpeechEventType,
    STTCapabilities,
)
from voxtrio.engines.worker._host import WorkerPool, WorkerProcess
from voxtrio.engines.worker._protocol import Message

__all__ = ["PocketSphinxSTT", "PocketSphinxStream", "make_handler"]

logger = logging.getLogger("voxtrio.engines.pocketsphinx")

SAMPLE_RATE = 16_000
_TARGET = "voxtrio.engines.pocketsphinx:make_handler"
# Coalesce queued 20 ms frames into one pipe message of at most this many bytes.
_MAX_BATCH_BYTES = 32_000


class PocketSphinxSTT(STT):
    """Streaming offline STT (see the module docstring).

    `grammar`: a JSGF grammar text (`#JSGF V1.0; grammar g; public <s> = yes | no;`).
    `keywords`: phrases to spot, each a string or `(phrase, threshold)`. The default
    threshold 1e-5 suits single words (measured: no false alarms on the fixtures, where
    1e-20 had two); longer phrases want lower ones (1e-20 to 1e-40): lower catches
    more, with more false alarms. Give at most one of `grammar` and `keywords`.
    `model_dir`: a directory laid out like the wheel's `model/en-us` (acoustic model in
    `en-us/`, `cmudict-en-us.dict`, `en-us.lm.bin`); `dictionary`/`language_model`
    override those two files. Default: the en-us model shipped in the pocketsphinx wheel. `max_workers`: decoder processes (one per live stream or batch
    call in flight; more wait). Call `aclose()` (or use `async with`) to stop them.
    """

    def __init__(
        self,
        *,
        grammar: str | None = None,
        keywords: Sequence[str | tuple[str, float]] | None = None,
        endpointing: bool = True,
        interim_interval: float = 0.1,
        model_dir: str | None = None,
        dictionary: str | None = None,
        language_model: str | None = None,
        max_workers: int = 4,
        start_timeout: float = 30.0,
    ) -> None:
        if grammar is not None and keywords:
            raise ValueError("give either a grammar or keywords, not both")
        super().__init__(
            capabilities=STTCapabilities(streaming=True, interim_results=True),
            sample_rate=SAMPLE_RATE,
            label="pocketsphinx",
        )
        kws = [(k, 1e-5) if isinstance(k, str) else (k[0], float(k[1])) for k in keywords or ()]
        config: dict[str, Any] = {
            "grammar": grammar,
            "keywords": [[phrase.lower(), threshold] for phrase, threshold in kws],
            "model_dir": model_dir,
            "dictionary": dictionary,
            "language_model": language_model,
        }
        self.endpointing = endpointing
        self.interim_interval = interim_interval
        self.pool = WorkerPool(
            _TARGET, config, max_workers=max_workers, start_timeout=start_timeout
        )

    async def prewarm(self) -> None:
        """Start a decoder process now, so the first stream does not wait ~1 s for it."""
        await self.pool.prewarm()

    def stream(
        self,
        *,
        language: str | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        input_capacity: int = 500,
    ) -> PocketSphinxStream:
        """A live recognition stream (`input_capacity`: queued input items, ~20 ms each)."""
        return PocketSphinxStream(
            stt=self, language=language, conn_options=conn_options, input_capacity=input_capacity
        )

    async def aclose(self) -> None:
        await self.pool.aclose()

    async def _recognize_impl(
        self, frame: AudioFrame, *, language: str | None, conn_options: APIConnectOptions
    ) -> SpeechEvent:
        async with self.pool.lease() as worker:
            reply = await worker.request("recognize", payload=frame.to_bytes())
        data = SpeechData(
            language=language or "en",
            text=str(reply.data["text"]),
            start_time=0.0,
            end_time=frame.duration,
            confidence=float(reply.data["confidence"]),
        )
        return SpeechEvent(SpeechEventType.FINAL_TRANSCRIPT, alternatives=(data,))


class PocketSphinxStream(RecognizeStream):
    """One live recognition session on a leased decoder process.

    Crash safety: audio sent to the worker stays in a replay buffer until a final
    transcript (or a flush) shows the worker is done with it. A retry after a crash
    first replays that buffer into the fresh worker, so the utterance in flight is
    transcribed after all and nothing accepted is lost (pipe buffers can swallow
    seconds of audio on the way into a dying process). The buffer holds at most
    `max_replay` seconds (oldest audio dropped beyond that).
    """

    _stt: PocketSphinxSTT
    max_replay = 30.0

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # ("audio", first stream sample, pcm) or ("flush", stream sample, b"")
        self._replay: deque[tuple[str, int, bytes]] = deque()
        self._replay_bytes = 0
        self._sent = 0  # stream samples handed to some worker so far
        self._base = 0  # stream sample where the current worker session started
        self._in_flight = ClockHold()

    async def _run(self) -> None:
        stt = self._stt
        # Audio and flushes the worker has not processed yet: real work in flight.
        self._in_flight = ClockHold()
        try:
            await self._run_on_worker(stt)
        finally:
            self._in_flight.release_all()

    async def _run_on_worker(self, stt: PocketSphinxSTT) -> None:
        async with stt.pool.lease() as worker:
            self._base = self._replay[0][1] if self._replay else self._sent
            call = await worker.start_call(
                "open",
                {"endpointing": stt.endpointing, "interim_interval": stt.interim_interval},
            )
            try:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._forward, worker, call)
                    await self._receive(worker, call)
            except BaseExceptionGroup as group:
                raise _single_api_error(group) from None
            finally:
                await worker.finish_call(call)

    async def _forward(self, worker: WorkerProcess, call: int) -> None:
        for op, _, pcm in list(self._replay):
            self._in_flight.add()
            await worker.send_to_call(call, op, payload=pcm)
        pending: list[bytes] = []

        async def send_pending() -> None:
            if pending:
                pcm = b"".join(pending)
                pending.clear()
                self._remember("audio", pcm)
                self._in_flight.add()
                await worker.send_to_call(call, "audio", payload=pcm)

        while True:
            try:
                item = await self._input.receive()
            except (trio.EndOfChannel, trio.ClosedResourceError):
                break
            # Take everything already queued: one pipe message instead of many.
            while True:
                if isinstance(item, Flush):
                    await send_pending()
                    self._remember("flush", b"")
                    self._in_flight.add()
                    await worker.send_to_call(call, "flush")
                else:
                    pending.append(item.to_bytes())
                    if sum(map(len, pending)) >= _MAX_BATCH_BYTES:
                        await send_pending()
                try:
                    item = self._input.receive_nowait()
                except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
                    break
            await send_pending()
        self._in_flight.add()  # until its "end" comes back
        await worker.send_to_call(call, "close")

    def _remember(self, op: str, pcm: bytes) -> None:
        self._replay.append((op, self._sent, pcm))
        self._sent += len(pcm) // 2
        self._replay_bytes += len(pcm)
        limit = int(self.max_replay * SAMPLE_RATE) * 2
        while self._replay_bytes > limit and len(self._replay) > 1:
            self._replay_bytes -= len(self._replay.popleft()[2])

    def _forget_until(self, decoded: int) -> None:
        """The worker is done with the stream's audio before sample `decoded`."""
        position = self._base + decoded
        while self._replay:
            op, start, pcm = self._replay[0]
            end = start + len(pcm) // 2
            if end > position:
                if op == "audio" and start < position:
                    cut = (position - start) * 2
                    self._replay[0] = (op, position, pcm[cut:])
                    self._replay_bytes -= cut
                break
            self._replay.popleft()
            self._replay_bytes -= len(pcm)

    async def _receive(self, worker: WorkerProcess, call: int) -> None:
        language = self._language or "en"
        base_s = self._base / SAMPLE_RATE
        while True:
            message = await worker.next_reply(call)
            if message.op == "end":
                return
            if message.op == "processed":
                self._in_flight.done()
                continue
            data = message.data
            if message.op == "start":
                await self._send_event(
                    SpeechEvent(SpeechEventType.START_OF_SPEECH, request_id=self.request_id)
                )
                continue
            if message.op == "usage":
                self._forget_until(int(data["decoded"]))
                await self._send_event(
                    SpeechEvent(
                        SpeechEventType.RECOGNITION_USAGE,
                        request_id=self.request_id,
                        recognition_usage=RecognitionUsage(float(data["audio_duration"])),
                    )
                )
                continue
            if message.op == "end_of_speech":
                await self._send_event(
                    SpeechEvent(SpeechEventType.END_OF_SPEECH, request_id=self.request_id)
                )
                continue
            kind = {
                "partial": SpeechEventType.INTERIM_TRANSCRIPT,
                "final": SpeechEventType.FINAL_TRANSCRIPT,
            }.get(message.op)
            if kind is None:
                logger.debug("pocketsphinx stream: ignored %r", message.op)
                continue
            speech = SpeechData(
                language=language,
                text=str(data["text"]),
                start_time=base_s + float(data["start"]),
                end_time=base_s + float(data["end"]),
                confidence=float(data.get("confidence", 0.0)),
            )
            await self._send_event(
                SpeechEvent(kind, request_id=self.request_id, alternatives=(speech,))
            )


def _single_api_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The nursery's one real failure (an APIError if there is one), for the retry logic."""
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                walk(inner)
        elif not isinstance(exc, trio.Cancelled):
            leaves.append(exc)

    walk(group)
    for leaf in leaves:
        if isinstance(leaf, APIError):
            return leaf
    return leaves[0] if leaves else group


# -- the child side: runs inside the worker process -----------------------------------


def make_handler(config: Mapping[str, Any]) -> PocketSphinxHandler:
    """Worker factory: builds the decoder (loads the model: ~0.3-0.7 s)."""
    return PocketSphinxHandler(config)


class PocketSphinxHandler:
    """Decoder state machine in the worker process; one recognition session at a time."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        import pocketsphinx  # type: ignore[import-untyped]

        model = config.get("model_dir") or os.path.join(pocketsphinx.get_model_path(), "en-us")
        options: dict[str, Any] = {
            "hmm": os.path.join(model, "en-us")
            if os.path.isdir(os.path.join(model, "en-us"))
            else model,
            "samprate": SAMPLE_RATE,
            "loglevel": "FATAL",
        }
        if config.get("dictionary"):
            options["dict"] = config["dictionary"]
        else:
            options["dict"] = os.path.join(model, "cmudict-en-us.dict")
        if config.get("language_model"):
            options["lm"] = config["language_model"]
        else:
            options["lm"] = os.path.join(model, "en-us.lm.bin")
        if config.get("grammar"):
            # The lattice best path (pocketsphinx's default bestpath=yes) ignores the
            # grammar's final state, so it can end mid-phrase ("what time is it" came
            # back "what time"); the grammar search's own backtrace keeps to the grammar.
            options["bestpath"] = False
        self._ps = pocketsphinx
        self.decoder = pocketsphinx.Decoder(**options)
        if config.get("grammar"):
            self.decoder.add_jsgf_string("grammar", str(config["grammar"]))
            self.decoder.activate_search("grammar")
        elif config.get("keywords"):
            with tempfile.NamedTemporaryFile("w", suffix=".kws", delete=False) as f:
                for phrase, threshold in config["keywords"]:
                    f.write(f"{phrase} /{threshold:g}/\n")
            try:
                self.decoder.add_kws("keywords", f.name)
            finally:
                os.unlink(f.name)
            self.decoder.activate_search("keywords")
        self._session: _Session | None = None

    def handle(self, message: Message) -> Iterator[Message]:
        op = message.op
        if op == "recognize":
            yield message.reply("result", self._recognize(message.payload))
        elif op == "open":
            self._end_session()
            self._session = _Session(self, message.call, message.data)
        elif op in ("audio", "flush", "close"):
            session = self._session
            if session is None or session.call != message.call:
                return  # audio of an abandoned session
            if op == "audio":
                yield from session.audio(message.payload)
            else:
                yield from session.flush()
                if op == "close":
                    self._session = None
                    yield message.reply("end")
                    return
            # Tells the parent this input is decoded (its fast-forward clock waits for it).
            yield message.reply("processed")
        else:
            raise ValueError(f"pocketsphinx worker: unknown op {op!r}")

    def cancel(self, call: int) -> None:
        if self._session is not None and self._session.call == call:
            self._end_session()

    def _end_session(self) -> None:
        if self._session is not None:
            self._session.abort()
            self._session = None

    def _recognize(self, pcm: bytes) -> dict[str, Any]:
        decoder = self.decoder
        decoder.start_utt()
        # In the stream's chunk size, not full_utt=True: the live path and the batch
        # path then decode alike (full-utterance mode measured worse on the fixtures).
        for i in range(0, len(pcm), 640):
            decoder.process_raw(pcm[i : i + 640], False, False)
        decoder.end_utt()
        return {"text": self.text(), "confidence": self.confidence()}

    def text(self) -> str:
        hyp = self.decoder.hyp()
        return " ".join(hyp.hypstr.split()) if hyp is not None else ""

    def confidence(self) -> float:
        hyp = self.decoder.hyp()
        if hyp is None or not hyp.hypstr:
            return 0.0
        # The mean posterior of the spoken words (the binding's `prob` values are
        # probabilities already). The whole hypothesis' posterior (`hyp.prob`) shrinks
        # with every word, so a long, right sentence would look unsure.
        try:
            words = [seg.prob for seg in self.decoder.seg() if not _is_filler(seg.word)]
        except Exception:  # some searches have no posterior
            return 0.0
        if not words:
            return 0.0
        return max(0.0, min(1.0, sum(words) / len(words)))


def _is_filler(word: str) -> bool:
    """Silence, sentence marks and noise words (`<sil>`, `</s>`, `[NOISE]`, `+breath+`)."""
    return word[:1] in ("<", "[", "+")


class _Session:
    """One stream: endpointing, partial pacing and stream-relative times.

    Every sample goes to the decoder (nothing is cut at an utterance's start, so
    streaming is as accurate as batch); the endpointer only decides where utterances
    begin and end. Silence before speech is decoded into the next utterance; a long
    silence is dropped every `_MAX_IDLE_S` seconds so the decoder's memory stays bounded.
    """

    _MAX_IDLE_S = 5.0
    _KEEP_S = 0.5  # audio re-fed after an idle reset (the start of speech may be in it)

    def __init__(self, handler: PocketSphinxHandler, call: int, options: Mapping[str, Any]) -> None:
        self.handler = handler
        self.call = call
        self.decoder = handler.decoder
        self.endpointing = bool(options.get("endpointing", True))
        self.endpointer = handler._ps.Endpointer() if self.endpointing else None
        self.endpointer_offset = 0.0  # stream time when the endpointer was (re)made
        self.interim_bytes = int(float(options.get("interim_interval", 0.1)) * SAMPLE_RATE) * 2
        self.buffer = bytearray()  # input not yet a whole endpointer frame
        self.utterance_audio = bytearray()  # what the open utterance decoded (idle reset)
        self.decoder_open = False
        self.speaking = False
        self.decoded = 0  # samples decoded in this session
        self.utterance_start = 0.0
        self.usage_samples = 0
        self.since_interim = 0
        self.last_partial = ""

    def reply(self, op: str, data: Mapping[str, Any] | None = None) -> Message:
        return Message(op, call=self.call, data=data or {})

    def audio(self, pcm: bytes) -> Iterator[Message]:
        self.usage_samples += len(pcm) // 2
        if self.endpointer is None:
            if not self.speaking:
                self.speaking = True
                self.utterance_start = self.decoded / SAMPLE_RATE
                yield self.reply("start")
            yield from self._decode(pcm)
            return
        self.buffer += pcm
        ep = self.endpointer
        size = ep.frame_bytes
        while len(self.buffer) >= size:
            chunk = bytes(self.buffer[:size])
            del self.buffer[:size]
            was_in_speech = ep.in_speech
            ep.process(chunk)
            if not was_in_speech and ep.in_speech:
                self.speaking = True
                self.utterance_start = float(ep.speech_start) + self.endpointer_offset
                yield self.reply("start")
            yield from self._decode(chunk)
            if was_in_speech and not ep.in_speech:
                yield from self._final(float(ep.speech_end) + self.endpointer_offset)
            elif (
                not self.speaking and len(self.utterance_audio) > self._MAX_IDLE_S * SAMPLE_RATE * 2
            ):
                self._idle_reset()

    def flush(self) -> Iterator[Message]:
        if self.buffer:
            yield from self._decode(bytes(self.buffer))
            self.buffer.clear()
        if self.speaking:
            yield from self._final(self.decoded / SAMPLE_RATE)
        elif self.decoder_open:
            self.decoder.end_utt()  # only silence so far: nothing to say
            self.decoder_open = False
            self.utterance_audio.clear()
        if self.endpointer is not None:
            # A fresh endpointer forgets the old speech state and counts from zero.
            self.endpointer = self.handler._ps.Endpointer()
            self.endpointer_offset = self.decoded / SAMPLE_RATE
        if self.usage_samples:
            yield self._usage()

    def abort(self) -> None:
        if self.decoder_open:
            self.decoder.end_utt()
            self.decoder_open = False

    def _decode(self, pcm: bytes) -> Iterator[Message]:
        if not self.decoder_open:
            self.decoder.start_utt()
            self.decoder_open = True
            self.since_interim = 0
            self.last_partial = ""
        self.decoder.process_raw(pcm, False, False)
        self.decoded += len(pcm) // 2
        self.utterance_audio += pcm
        if not self.speaking:
            return
        self.since_interim += len(pcm)
        if self.since_interim >= self.interim_bytes:
            self.since_interim = 0
            text = self.handler.text()
            if text and text != self.last_partial:
                self.last_partial = text
                yield self.reply(
                    "partial",
                    {
                        "text": text,
                        "start": self.utterance_start,
                        "end": self.decoded / SAMPLE_RATE,
                    },
                )

    def _idle_reset(self) -> None:
        keep = bytes(self.utterance_audio[-int(self._KEEP_S * SAMPLE_RATE) * 2 :])
        self.decoder.end_utt()
        self.decoder_open = False
        self.utterance_audio.clear()
        self.decoded -= len(keep) // 2  # _decode counts them again
        list(self._decode(keep))  # not speaking: yields nothing

    def _final(self, end: float) -> Iterator[Message]:
        self.decoder.end_utt()
        self.decoder_open = False
        self.speaking = False
        self.utterance_audio.clear()
        text = self.handler.text()
        if text:
            yield self.reply(
                "final",
                {
                    "text": text,
                    "start": self.utterance_start,
                    "end": max(end, self.utterance_start),
                    "confidence": self.handler.confidence(),
                },
            )
        yield self.reply("end_of_speech")
        yield self._usage()

    def _usage(self) -> Message:
        usage = self.reply(
            "usage", {"audio_duration": self.usage_samples / SAMPLE_RATE, "decoded": self.decoded}
        )
        self.usage_samples = 0
        return usage
