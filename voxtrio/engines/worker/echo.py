"""A tiny worker engine for tests and as the template for a new out-of-process engine.

    pool = WorkerPool("voxtrio.engines.worker.echo:make_handler", config={"prefix": "> "})

Ops: `echo` (one reply, same payload, data.text prefixed), `count` (streams `n`
`item` replies, then `end`), `fail` (raises ValueError), `exit` (the process dies with
data.code, as a crash would), `spin` (busy for data.seconds, streaming `tick`s).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from typing import Any

from voxtrio.engines.worker._protocol import Message

__all__ = ["EchoHandler", "make_handler"]


class EchoHandler:
    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.cancelled: list[int] = []

    def handle(self, message: Message) -> Iterator[Message]:
        if message.op == "echo":
            text = self.prefix + str(message.data.get("text", ""))
            yield message.reply("echo", {"text": text, "pid": os.getpid()}, message.payload)
        elif message.op == "count":
            for i in range(int(message.data["n"])):
                yield message.reply("item", {"i": i})
            yield message.reply("end")
        elif message.op == "fail":
            raise ValueError(str(message.data.get("message", "asked to fail")))
        elif message.op == "exit":
            os._exit(int(message.data.get("code", 1)))
        elif message.op == "spin":
            deadline = time.monotonic() + float(message.data["seconds"])
            while time.monotonic() < deadline:
                time.sleep(0.01)
                yield message.reply("tick")
            yield message.reply("end")
        elif message.op == "cancelled":
            yield message.reply("cancelled", {"calls": self.cancelled})
        else:
            raise ValueError(f"unknown op {message.op!r}")

    def cancel(self, call: int) -> None:
        self.cancelled.append(call)


def make_handler(config: Mapping[str, Any]) -> EchoHandler:
    if config.get("fail_to_start"):
        raise RuntimeError("factory asked to fail")
    return EchoHandler(prefix=str(config.get("prefix", "")))
