"""The worker-process host: real child processes, real time, every wait bounded.

Rules: each test bounds its waits with trio.fail_after; every process a test starts
is reaped before the test ends (checked through /proc).
"""

from __future__ import annotations

import os
import signal

import pytest
import trio

from voxtrio.engines.errors import APIConnectionError
from voxtrio.engines.worker import (
    FrameTooLarge,
    Message,
    WorkerCrashed,
    WorkerPool,
    WorkerProcess,
    WorkerRemoteError,
    WorkerStartError,
)
from voxtrio.engines.worker._protocol import FrameDecoder, encode_frame

ECHO = "voxtrio.engines.worker.echo:make_handler"
START = 20.0  # generous: a cold python start on a loaded 2-core CI box


def is_running_or_zombie(pid: int) -> bool:
    return os.path.exists(f"/proc/{pid}")


def test_frames_survive_any_split() -> None:
    messages = [Message("a", call=1, data={"x": [1, 2]}, payload=b"\x00\x01" * 100), Message("b")]
    wire = b"".join(encode_frame(m) for m in messages)
    decoder = FrameDecoder()
    got = []
    for i in range(len(wire)):
        got.extend(decoder.feed(wire[i : i + 1]))
    assert got == messages and decoder.buffered == 0


def test_oversized_frames_are_refused_both_ways() -> None:
    with pytest.raises(FrameTooLarge, match="max_frame_size=100"):
        encode_frame(Message("a", payload=b"x" * 200), max_frame_size=100)
    with pytest.raises(FrameTooLarge, match="corrupt"):
        FrameDecoder(max_frame_size=100).feed(b"\xff\xff\xff\xff")


async def test_round_trip_stream_ping_and_clean_shutdown() -> None:
    with trio.fail_after(START):
        worker = await WorkerProcess.start(ECHO, {"prefix": "> "})
    pid = worker.pid
    try:
        with trio.fail_after(5):
            reply = await worker.request("echo", {"text": "hi"}, b"\x01\x02")
            assert reply.data["text"] == "> hi" and reply.payload == b"\x01\x02"
            assert reply.data["pid"] == pid != os.getpid()
            assert await worker.ping() < 1.0
            call = await worker.start_call("count", {"n": 5})
            items = [m.data["i"] async for m in worker.replies(call)]
            assert items == [0, 1, 2, 3, 4]
    finally:
        with trio.fail_after(5):
            await worker.aclose()
    assert worker.returncode == 0  # it left on EOF, not by SIGKILL
    assert not is_running_or_zombie(pid)


async def test_handler_error_is_remote_and_the_worker_lives_on() -> None:
    async with WorkerPool(ECHO) as pool, pool.lease() as worker:
        with trio.fail_after(START):
            await worker.ping()
        with trio.fail_after(5):
            with pytest.raises(WorkerRemoteError, match="ValueError: bad input") as info:
                await worker.request("fail", {"message": "bad input"})
            assert info.value.remote_type == "ValueError" and not info.value.retryable
            assert (await worker.request("echo", {"text": "still here"})).data[
                "text"
            ] == "still here"


async def test_crash_is_detected_and_the_next_lease_restarts() -> None:
    async with WorkerPool(ECHO) as pool:
        with trio.fail_after(START):
            async with pool.lease() as worker:
                first_pid = worker.pid
                with pytest.raises(WorkerCrashed, match="crashed") as info:
                    await worker.request("exit", {"code": 3})
                assert isinstance(info.value, APIConnectionError) and info.value.retryable
                assert not worker.alive
        assert pool.statistics().crashed == 1
        assert not is_running_or_zombie(first_pid)
        with trio.fail_after(START):
            async with pool.lease() as worker:
                assert worker.pid != first_pid
                assert (await worker.request("echo", {"text": "back"})).data["text"] == "back"
        assert pool.statistics().started == 2


async def test_killed_mid_stream_raises_worker_crashed() -> None:
    async with WorkerPool(ECHO) as pool:
        with trio.fail_after(START):
            async with pool.lease() as worker:
                call = await worker.start_call("spin", {"seconds": 30})
                await worker.next_reply(call)  # the job is running
                os.kill(worker.pid, signal.SIGKILL)
                with pytest.raises(WorkerCrashed) as info:
                    async for _ in worker.replies(call):
                        pass
                pid = worker.pid
        assert info.value.returncode == -signal.SIGKILL
        assert not is_running_or_zombie(pid)


async def test_cancelled_call_stops_the_job_and_the_worker_is_reused() -> None:
    async with WorkerPool(ECHO) as pool:
        with trio.fail_after(START):
            await pool.prewarm()
        with trio.fail_after(5):
            async with pool.lease() as worker:
                pid = worker.pid
                with trio.move_on_after(0.2):
                    call = await worker.start_call("spin", {"seconds": 30})
                    async for _ in worker.replies(call):
                        pass
                await worker.finish_call(call)
            started = trio.current_time()
            async with pool.lease() as worker:
                assert worker.pid == pid
                reply = await worker.request("cancelled")  # leftover ticks are skipped
                assert call in reply.data["calls"]
            assert trio.current_time() - started < 2.0  # not 30 s of spinning


async def test_shutdown_kills_a_child_that_does_not_leave() -> None:
    with trio.fail_after(START):
        worker = await WorkerProcess.start(ECHO, shutdown_grace=0.3)
    with trio.fail_after(5):
        call = await worker.start_call("spin", {"seconds": 30})
        await worker.next_reply(call)
        # Busy in a job that never reads stdin again until done: EOF goes unnoticed.
        await worker.aclose()
    assert worker.returncode is not None and not is_running_or_zombie(worker.pid)


async def test_factory_failure_is_a_start_error() -> None:
    with trio.fail_after(START):
        with pytest.raises(WorkerStartError, match="factory asked to fail") as info:
            await WorkerProcess.start(ECHO, {"fail_to_start": True})
    assert not info.value.retryable


async def test_too_large_frame_is_refused_before_writing() -> None:
    async with WorkerPool(ECHO, max_frame_size=1024) as pool:
        with trio.fail_after(START):
            async with pool.lease() as worker:
                with pytest.raises(FrameTooLarge):
                    await worker.request("echo", payload=b"x" * 4096)
                assert (await worker.request("echo", {"text": "ok"})).data["text"] == "ok"


async def test_ping_is_answered_in_the_middle_of_a_long_job() -> None:
    async with WorkerPool(ECHO) as pool:
        with trio.fail_after(START):
            async with pool.lease() as worker:
                call = await worker.start_call("spin", {"seconds": 30})
                await worker.next_reply(call)
                # The pong is found among the job's ticks, long before the job ends,
                # and the ticks that came before it are kept for the job's reader.
                with trio.fail_after(2):
                    assert await worker.ping() < 2.0
                    assert (await worker.next_reply(call)).op == "tick"
                await worker.finish_call(call)


async def test_another_interpreter_gets_voxtrio_on_its_path() -> None:
    import sys

    async with WorkerPool(ECHO, python=sys.executable) as pool:
        with trio.fail_after(START):
            async with pool.lease() as worker:
                reply = await worker.request("echo", {"text": "from afar"})
    assert reply.data["text"] == "from afar"
