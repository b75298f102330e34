"""The child side of a worker process: `python -m voxtrio.engines.worker._main pkg.mod:factory`.

Arguments: the factory, then optionally the max frame size and a niceness increment.

    class Echo:                               # the whole cost of a new out-of-process engine
        def handle(self, message):
            yield message.reply("echo", payload=message.payload)

    def make_echo(config): return Echo()

The parent sends `init` (data = the factory's config); the child calls
`factory(config)`, answers `ready` and then serves messages one at a time, in order:
each goes to `handler.handle(message)`, which returns an iterable of replies (a
generator streams them). `ping` is answered by the host itself, also in the middle of
a long job. `cancel` for the call being handled stops its generator; the handler's
optional `cancel(call)` hook hears about every cancel. An exception in `handle`
becomes an `error` reply for that call and the child keeps serving. EOF on stdin (the
parent closed the pipe or died) ends the process with exit code 0.

The protocol uses private copies of fds 0 and 1; fd 1 is then pointed at stderr, so a
stray print in an engine library cannot corrupt the frames.
"""

from __future__ import annotations

import importlib
import os
import select
import signal
import sys
import traceback
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from voxtrio.engines.worker._protocol import (
    DEFAULT_MAX_FRAME_SIZE,
    FrameDecoder,
    Message,
    WorkerHandler,
    encode_frame,
)

__all__ = ["main", "serve"]

EXIT_BAD_HANDSHAKE = 2
EXIT_FACTORY_FAILED = 3

# Frames read ahead while a job streams replies; beyond this we stop polling and let
# the pipe apply back-pressure to the parent.
_MAX_BACKLOG = 4096


class _Pipe:
    def __init__(self, read_fd: int, write_fd: int, max_frame_size: int) -> None:
        self._read_fd = read_fd
        self._write_fd = write_fd
        self._decoder = FrameDecoder(max_frame_size)
        self._ready: deque[Message] = deque()
        self._max_frame_size = max_frame_size
        self.eof = False

    def read(self) -> Message | None:
        """Block for the next message; None at EOF."""
        while not self._ready:
            if self.eof or not self._fill():
                return None
        return self._ready.popleft()

    def read_nowait(self) -> Message | None:
        """The next message if one is complete without blocking, else None."""
        while not self._ready and not self.eof:
            readable, _, _ = select.select([self._read_fd], [], [], 0)
            if not readable or not self._fill():
                break
        return self._ready.popleft() if self._ready else None

    def write(self, message: Message) -> None:
        view = memoryview(encode_frame(message, self._max_frame_size))
        while view:
            view = view[os.write(self._write_fd, view) :]

    def _fill(self) -> bool:
        chunk = os.read(self._read_fd, 1 << 16)
        if not chunk:
            self.eof = True
            return False
        self._ready.extend(self._decoder.feed(chunk))
        return True


def _error(message: Message, exc: BaseException) -> Message:
    return message.reply("error", {"type": type(exc).__name__, "message": str(exc)})


def _load_factory(target: str) -> Callable[[Mapping[str, Any]], WorkerHandler]:
    module_name, _, attr = target.partition(":")
    if not attr:
        raise ValueError(f"worker target must look like 'package.module:factory', got {target!r}")
    factory: Callable[[Mapping[str, Any]], WorkerHandler] = getattr(
        importlib.import_module(module_name), attr
    )
    return factory


def serve(handler: WorkerHandler, pipe: _Pipe) -> None:
    """Answer messages until EOF."""
    backlog: deque[Message] = deque()
    cancel_hook = getattr(handler, "cancel", None)
    while True:
        message = backlog.popleft() if backlog else pipe.read()
        if message is None:
            return
        if message.op == "ping":
            pipe.write(message.reply("pong", message.data))
            continue
        if message.op == "cancel":
            if cancel_hook is not None:
                cancel_hook(message.call)
            continue
        replies = None
        try:
            replies = handler.handle(message)
            for reply in replies or ():
                pipe.write(
                    reply if reply.call else message.reply(reply.op, reply.data, reply.payload)
                )
                if _poll(pipe, message.call, backlog):
                    if cancel_hook is not None:
                        cancel_hook(message.call)
                    break
        except Exception as exc:  # the handler's failure belongs to this call only
            traceback.print_exc(file=sys.stderr)
            pipe.write(_error(message, exc))
        finally:
            close = getattr(replies, "close", None)
            if close is not None:
                close()


def _poll(pipe: _Pipe, call: int, backlog: deque[Message]) -> bool:
    """Read what has arrived while a job runs; True if the job was cancelled."""
    while len(backlog) < _MAX_BACKLOG:
        message = pipe.read_nowait()
        if message is None:
            return pipe.eof  # the parent is gone: stop working for it
        if message.op == "cancel" and message.call == call:
            return True
        if message.op == "ping":
            pipe.write(message.reply("pong", message.data))
        else:
            backlog.append(message)
    return False


def main(argv: list[str]) -> int:
    # A terminal's Ctrl-C goes to the whole foreground process group. The worker's life
    # belongs to its parent (EOF on stdin ends it), so it must not die of the user's
    # Ctrl-C while the parent is still closing its session cleanly.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if len(argv) < 2:
        print(
            "usage: python -m voxtrio.engines.worker._main package.module:factory", file=sys.stderr
        )
        return EXIT_BAD_HANDSHAKE
    max_frame_size = int(argv[2]) if len(argv) > 2 else DEFAULT_MAX_FRAME_SIZE
    niceness = int(argv[3]) if len(argv) > 3 else 0
    if niceness > 0:
        # Below the parent's priority: under CPU contention the trio loop (latency)
        # wins over the engine's bulk work (throughput).
        os.nice(niceness)
    read_fd, write_fd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    pipe = _Pipe(read_fd, write_fd, max_frame_size)

    init = pipe.read()
    if init is None:
        return 0
    if init.op != "init":
        print(f"worker expected an 'init' message first, got {init.op!r}", file=sys.stderr)
        return EXIT_BAD_HANDSHAKE
    try:
        handler = _load_factory(argv[1])(init.data)
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        pipe.write(_error(init, exc))
        return EXIT_FACTORY_FAILED
    pipe.write(init.reply("ready", {"pid": os.getpid()}))
    try:
        serve(handler, pipe)
    except BrokenPipeError:
        pass  # the parent went away while we wrote: nothing left to do
    close = getattr(handler, "close", None)
    if close is not None:
        close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
