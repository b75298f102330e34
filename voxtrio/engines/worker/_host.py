"""The parent side: start worker processes, talk to them, notice crashes, stop them cleanly.

    pool = WorkerPool("voxtrio.engines.espeak:make_handler", config={"voice": "en-us"})
    async with pool.lease() as worker:                 # a live process, started on demand
        reply = await worker.request("info")            # request/response
        call = await worker.start_call("synthesize", {"text": "Hello."})
        async for message in worker.replies(call):      # streaming replies until "end"
            ...
    await pool.aclose()                                 # close stdin -> wait -> kill

A `WorkerProcess` is one child (`python -m voxtrio.engines.worker._main target`) with
its stdin/stdout pipes. No background task reads it: whoever holds the lease sends and
receives (one sending task and one receiving task at a time), so a worker needs no
nursery and is owned by its pool. Replies of another open call are kept for its reader
(bounded); replies of finished or cancelled calls are skipped, and a cancelled call is
announced to the child so its job stops.

Crash handling: EOF on the child's stdout, a broken pipe or an exit means the process
is gone; every waiting operation raises `WorkerCrashed` (an `APIConnectionError`, so
the engine streams' retry machinery reconnects) with the exit code. The pool discards
a crashed process and the next lease starts a fresh one: that is the restart.

Bounds: frames are limited to `max_frame_size`; writes wait for the pipe (the OS pipe
buffer is the outgoing mailbox, so a slow child back-pressures its sender); shutdown
waits at most `shutdown_grace` seconds before SIGKILL, and always reaps the process.
"""

from __future__ import annotations

import itertools
import logging
import os
import subprocess
import sys
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import attrs
import trio

from voxtrio.core.fast_clock import real_work
from voxtrio.engines.errors import APIConnectionError, APIError
from voxtrio.engines.worker._protocol import (
    DEFAULT_MAX_FRAME_SIZE,
    FrameDecoder,
    FrameTooLarge,
    Message,
    encode_frame,
)

__all__ = [
    "WorkerCrashed",
    "WorkerPool",
    "WorkerPoolStatistics",
    "WorkerProcess",
    "WorkerRemoteError",
    "WorkerStartError",
]

logger = logging.getLogger("voxtrio.engines.worker")

_READ_SIZE = 1 << 16
_STASH_LIMIT = 1024
# The directory holding the `voxtrio` package (for children run by another interpreter).
_VOXTRIO_ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
)


class WorkerCrashed(APIConnectionError):
    """The worker process died (or broke the protocol); retrying starts a fresh one."""

    def __init__(self, message: str, *, returncode: int | None = None) -> None:
        super().__init__(message)
        self.returncode = returncode


class WorkerStartError(APIConnectionError):
    """The worker did not come up: its factory failed, or it was not ready in time."""


class WorkerRemoteError(APIError):
    """The child's handler raised while serving a request; the process lives on.

    `remote_type` is the name of the exception class in the child. Not retryable:
    the same request would fail the same way.
    """

    def __init__(self, message: str, *, remote_type: str) -> None:
        super().__init__(message, retryable=False)
        self.remote_type = remote_type


class WorkerProcess:
    """One child process speaking the framed protocol; start with `await WorkerProcess.start()`.

    Use from one task for sending and one for receiving at a time (a lease gives you
    exclusive use). `alive` turns False at the first sign of death.
    """

    def __init__(
        self, process: trio.Process, target: str, *, max_frame_size: int, shutdown_grace: float
    ) -> None:
        self._process = process
        self.target = target
        self.max_frame_size = max_frame_size
        self.shutdown_grace = shutdown_grace
        self._decoder = FrameDecoder(max_frame_size)
        self._ready: deque[Message] = deque()
        self._calls = itertools.count(1)
        self._send_lock = trio.StrictFIFOLock()
        self._receive_lock = trio.StrictFIFOLock()
        self._dead_reason: str | None = None
        #: calls started but not finished: their leftovers are skipped, not returned
        self._open_calls: set[int] = set()
        #: replies that arrived while another call's reader was receiving
        self._stash: dict[int, deque[Message]] = {}

    @classmethod
    async def start(
        cls,
        target: str,
        config: Mapping[str, Any] | None = None,
        *,
        start_timeout: float = 20.0,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        shutdown_grace: float = 2.0,
        nice: int = 10,
        python: str | None = None,
    ) -> WorkerProcess:
        """Spawn `target` ("package.module:factory"), hand it `config`, wait for `ready`.

        `nice`: how much lower than ours the child's CPU priority is (0: the same), so
        the trio loop wins CPU contention against engine work. `python`: another
        interpreter (e.g. a separate venv holding an engine's dependencies); voxtrio's
        source directory is put on its PYTHONPATH (the venv needs numpy, attrs, trio).
        Raises WorkerStartError if the factory fails or no `ready` comes within
        `start_timeout` seconds (the process is then stopped and reaped).
        """
        command = [
            python or sys.executable,
            "-m",
            "voxtrio.engines.worker._main",
            target,
            str(max_frame_size),
            str(nice),
        ]
        env = None
        if python is not None:
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (_VOXTRIO_ROOT, env.get("PYTHONPATH", "")) if p
            )
        with real_work():  # spawning runs in a thread: a fast-forward clock must wait
            process = await trio.lowlevel.open_process(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
            )
        worker = cls(process, target, max_frame_size=max_frame_size, shutdown_grace=shutdown_grace)
        try:
            with trio.fail_after(start_timeout), real_work():
                await worker.send(Message("init", call=0, data=dict(config or {})))
                reply = await worker.receive()
            if reply.op != "ready":
                raise WorkerStartError(
                    f"worker {target} failed to start: "
                    f"{reply.data.get('type')}: {reply.data.get('message')}",
                    retryable=False,
                )
        except trio.TooSlowError:
            await worker.aclose()
            raise WorkerStartError(
                f"worker {target} was not ready within {start_timeout} s; "
                "raise start_timeout if the model is slow to load"
            ) from None
        except WorkerCrashed as exc:
            await worker.aclose()
            raise WorkerStartError(
                f"worker {target} exited during start-up (exit code {exc.returncode}); "
                "its traceback is on stderr",
                retryable=False,
            ) from exc
        except BaseException:
            with trio.CancelScope(shield=True):
                await worker.aclose()
            raise
        logger.debug("worker %s started, pid %d", target, process.pid)
        return worker

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.returncode

    @property
    def alive(self) -> bool:
        return self._dead_reason is None and self._process.returncode is None

    def new_call_id(self) -> int:
        return next(self._calls)

    async def send(self, message: Message) -> None:
        """Write one frame; WorkerCrashed if the child is gone (then it is marked dead)."""
        frame = encode_frame(message, self.max_frame_size)
        self._check_alive()
        stdin = self._process.stdin
        assert stdin is not None
        async with self._send_lock:
            try:
                await stdin.send_all(frame)
            except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                raise self._crashed("its stdin pipe broke") from exc
            except trio.Cancelled:
                # A frame may be half written: the stream is unusable from here on.
                self._dead_reason = "a write to it was cancelled half-way"
                raise

    async def receive(self) -> Message:
        """The next message from the child, whatever its call; WorkerCrashed on EOF."""
        async with self._receive_lock:
            while not self._ready:
                self._check_alive()
                stdout = self._process.stdout
                assert stdout is not None
                try:
                    chunk = await stdout.receive_some(_READ_SIZE)
                except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                    raise self._crashed("its stdout pipe broke") from exc
                if not chunk:
                    await self._wait_briefly()  # so the error can name the exit code
                    raise self._crashed("it closed its stdout")
                try:
                    self._ready.extend(self._decoder.feed(chunk))
                except (FrameTooLarge, ValueError, KeyError) as exc:
                    raise self._crashed(f"it broke the protocol ({exc})") from exc
            return self._ready.popleft()

    async def request(
        self,
        op: str,
        data: Mapping[str, Any] | None = None,
        payload: bytes = b"",
    ) -> Message:
        """Send one message and return the first reply of its call.

        An `error` reply raises WorkerRemoteError. Bound the wait with `trio.fail_after`.
        """
        call = await self.start_call(op, data, payload)
        try:
            with real_work():
                reply = await self.next_reply(call)
        except BaseException:
            await self.finish_call(call)
            raise
        self._close_call(call)
        return reply

    async def ping(self) -> float:
        """Health check: seconds for a round trip (the child answers even mid-job).

        with trio.fail_after(5): await worker.ping()
        """
        started = trio.current_time()
        await self.request("ping")
        return trio.current_time() - started

    async def start_call(
        self, op: str, data: Mapping[str, Any] | None = None, payload: bytes = b""
    ) -> int:
        """Start a call (a request whose replies may stream); returns its id."""
        call = self.new_call_id()
        self._open_calls.add(call)
        await self.send(Message(op, call=call, data=data or {}, payload=payload))
        return call

    async def send_to_call(
        self, call: int, op: str, data: Mapping[str, Any] | None = None, payload: bytes = b""
    ) -> None:
        """More input for an open call (e.g. audio for a recognition session)."""
        await self.send(Message(op, call=call, data=data or {}, payload=payload))

    async def next_reply(self, call: int) -> Message:
        """The next reply of `call`; `error` raises WorkerRemoteError.

        Replies of other calls that are still open are kept for their own reader (up to
        `_STASH_LIMIT` each, oldest dropped beyond); replies of finished or abandoned
        calls are skipped.
        """
        while True:
            stash = self._stash.get(call)
            if stash:
                message = stash.popleft()
            else:
                message = await self.receive()
                if message.call != call:
                    self._keep_for_later(message)
                    continue
            if message.op == "error":
                self._close_call(call)  # the child gave up on this call
                raise WorkerRemoteError(
                    f"worker {self.target} failed: {message.data.get('type')}: "
                    f"{message.data.get('message')}",
                    remote_type=str(message.data.get("type")),
                )
            return message

    def _close_call(self, call: int) -> None:
        self._open_calls.discard(call)
        self._stash.pop(call, None)

    def _keep_for_later(self, message: Message) -> None:
        if message.call not in self._open_calls:
            logger.debug("worker %s: skipped %r of call %d", self.target, message.op, message.call)
            return
        stash = self._stash.setdefault(message.call, deque())
        if len(stash) >= _STASH_LIMIT:
            stash.popleft()
            logger.warning(
                "worker %s: call %d has %d unread replies; dropping the oldest",
                self.target,
                message.call,
                _STASH_LIMIT,
            )
        stash.append(message)

    async def replies(self, call: int, *, end: str = "end") -> AsyncIterator[Message]:
        """Iterate `call`'s replies up to (not including) the one whose op is `end`."""
        while True:
            message = await self.next_reply(call)
            if message.op == end:
                self._close_call(call)
                return
            yield message

    async def finish_call(self, call: int) -> None:
        """Mark `call` done; if it may still be running in the child, ask it to stop.

        Safe to call from a cancelled context: the cancel notice is sent shielded with a
        short deadline; if even that fails the worker is marked dead.
        """
        self._stash.pop(call, None)
        if call not in self._open_calls:
            return
        self._open_calls.discard(call)
        if not self.alive:
            return
        with trio.CancelScope(shield=True) as scope, real_work():
            scope.deadline = trio.current_time() + 1.0
            try:
                await self.send(Message("cancel", call=call))
            except WorkerCrashed:
                pass
        if scope.cancelled_caught:
            self._dead_reason = "it did not take a cancel message within 1 s"

    async def aclose(self) -> None:
        """Clean shutdown: close stdin, wait `shutdown_grace` s, then SIGKILL; always reaps."""
        if self._dead_reason is None:
            self._dead_reason = "it was closed"
        process = self._process
        # real_work: the child's exit takes real time, a fast-forward clock must wait.
        with trio.CancelScope(shield=True), real_work():
            if process.stdin is not None:
                await process.stdin.aclose()
            with trio.move_on_after(self.shutdown_grace):
                await process.wait()
            if process.returncode is None:
                logger.warning(
                    "worker %s (pid %d) ignored EOF for %.1f s: killing it",
                    self.target,
                    process.pid,
                    self.shutdown_grace,
                )
                process.kill()
                await process.wait()
            if process.stdout is not None:
                await process.stdout.aclose()

    async def _wait_briefly(self) -> None:
        with trio.CancelScope(shield=True), trio.move_on_after(1.0), real_work():
            await self._process.wait()

    def _check_alive(self) -> None:
        if self._dead_reason is not None:
            raise WorkerCrashed(
                f"worker {self.target} (pid {self.pid}) is unusable: {self._dead_reason}",
                returncode=self._process.returncode,
            )

    def _crashed(self, how: str) -> WorkerCrashed:
        self._dead_reason = f"{how}; exit code {self._process.poll()}"
        return WorkerCrashed(
            f"worker {self.target} (pid {self.pid}) crashed: {self._dead_reason}; "
            "a new lease starts a fresh process",
            returncode=self._process.poll(),
        )


@attrs.frozen(slots=True)
class WorkerPoolStatistics:
    """Counts since the pool was made: processes started and found crashed; live now."""

    started: int
    crashed: int
    alive: int
    idle: int
    leased: int


class WorkerPool:
    """Up to `max_workers` processes of one target, leased one holder at a time.

        pool = WorkerPool("voxtrio.engines.pocketsphinx:make_handler", max_workers=2)
        async with pool.lease() as worker: ...
        await pool.aclose()

    A lease reuses an idle live process or starts one (restart after a crash is just
    this); with `max_workers` leased, the next lease waits. A process that crashed
    during a lease is reaped and dropped when the lease ends. `prewarm()` starts one
    ahead of time so the first request does not pay the start-up.
    """

    def __init__(
        self,
        target: str,
        config: Mapping[str, Any] | None = None,
        *,
        max_workers: int = 1,
        start_timeout: float = 20.0,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        shutdown_grace: float = 2.0,
        nice: int = 10,
        python: str | None = None,
    ) -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be >= 1, got {max_workers}")
        self.target = target
        self.config = dict(config or {})
        self.max_workers = max_workers
        self._start_options: dict[str, Any] = {
            "start_timeout": start_timeout,
            "max_frame_size": max_frame_size,
            "shutdown_grace": shutdown_grace,
            "nice": nice,
            "python": python,
        }
        self._slots = trio.Semaphore(max_workers)
        self._idle: list[WorkerProcess] = []
        self._leased: set[WorkerProcess] = set()
        self._started = 0
        self._crashed = 0
        self._closed = False

    @asynccontextmanager
    async def lease(self) -> AsyncIterator[WorkerProcess]:
        """Exclusive use of one live worker for the duration of the block."""
        if self._closed:
            raise RuntimeError(f"WorkerPool({self.target!r}) is closed")
        async with self._slots:
            worker = await self._take()
            self._leased.add(worker)
            try:
                yield worker
            finally:
                self._leased.discard(worker)
                await self._give_back(worker)

    async def prewarm(self) -> None:
        """Start a worker now (if none is idle), so the first lease finds it ready."""
        async with self.lease():
            pass

    def pids(self) -> list[int]:
        """Process ids of the live workers (idle and leased)."""
        return [w.pid for w in (*self._idle, *self._leased) if w.alive]

    def statistics(self) -> WorkerPoolStatistics:
        alive = sum(w.alive for w in (*self._idle, *self._leased))
        return WorkerPoolStatistics(
            started=self._started,
            crashed=self._crashed,
            alive=alive,
            idle=len(self._idle),
            leased=len(self._leased),
        )

    async def aclose(self) -> None:
        """Stop every idle worker (leased ones stop when their lease ends). Idempotent."""
        self._closed = True
        idle, self._idle = self._idle, []
        with trio.CancelScope(shield=True):
            for worker in idle:
                await worker.aclose()

    async def __aenter__(self) -> WorkerPool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _take(self) -> WorkerProcess:
        while self._idle:
            worker = self._idle.pop()
            if worker.alive:
                return worker
            await self._discard(worker)
        worker = await WorkerProcess.start(self.target, self.config, **self._start_options)
        self._started += 1
        return worker

    async def _give_back(self, worker: WorkerProcess) -> None:
        if not worker.alive:
            await self._discard(worker)
        elif self._closed:
            await worker.aclose()
        else:
            self._idle.append(worker)

    async def _discard(self, worker: WorkerProcess) -> None:
        # Only the pool closes its workers, and never while they are idle or leased:
        # a dead one here died on its own.
        self._crashed += 1
        logger.warning(
            "worker %s (pid %d) died (exit code %s); the next lease starts a new one",
            self.target,
            worker.pid,
            worker.returncode,
        )
        await worker.aclose()
