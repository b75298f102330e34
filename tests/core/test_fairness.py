"""Fairness and prompt cancellation of the mailbox fast path.

Busy actors here never run out of input, so they never park: only the fast path's
periodic checkpoint lets other tasks run. Virtual time cannot advance while tasks stay
runnable (autojump waits for idleness), so these tests run on the real clock, bounded by
`trio.fail_after` and measured with `trio.current_time()`. Bounds are generous for a
loaded CI machine; a fast path that never yields fails them by hanging past fail_after or
by starving the ticker entirely.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import trio

from voxtrio.core.mailbox import MailboxReceiver, MailboxSender, open_mailbox
from voxtrio.core.pacing import sleep_until as paced_sleep_until

RUN_FOR = 0.3
TICK = 0.005


async def busy_pair(counts: list[int], index: int, *, in_flight: int = 8) -> None:
    """Two actors bouncing `in_flight` messages between them forever: each always has
    input, so neither ever waits on an empty mailbox."""
    a_tx, a_rx = open_mailbox(in_flight * 2)
    b_tx, b_rx = open_mailbox(in_flight * 2)
    for i in range(in_flight):
        a_tx.send_nowait(i)

    async def bounce(rx: MailboxReceiver[int], tx: MailboxSender[int]) -> None:
        async for msg in rx:
            counts[index] += 1
            await tx.send(msg)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(bounce, a_rx, b_tx)
        nursery.start_soon(bounce, b_rx, a_tx)


async def ticker(
    lateness: list[float], sleep_until: Callable[[float], Awaitable[None]], stop: float
) -> None:
    next_at = trio.current_time()
    while next_at < stop:
        next_at += TICK
        await sleep_until(next_at)
        lateness.append(trio.current_time() - next_at)


async def run_busy_with_ticker(
    sleep_until: Callable[[float], Awaitable[None]],
) -> tuple[list[int], list[float]]:
    counts = [0, 0]
    lateness: list[float] = []
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(busy_pair, counts, 0)
            nursery.start_soon(busy_pair, counts, 1)
            await ticker(lateness, sleep_until, trio.current_time() + RUN_FOR)
            nursery.cancel_scope.cancel()
    return counts, lateness


def check_fair(counts: list[int], lateness: list[float]) -> None:
    # Both busy pairs progressed (tens of thousands of messages each on any machine).
    assert min(counts) > 2_000, counts
    assert max(counts) < 20 * min(counts), counts
    # The ticker ran on its grid: (almost) every tick happened, none was badly late.
    assert len(lateness) >= int(RUN_FOR / TICK) - 1
    lateness.sort()
    assert lateness[len(lateness) // 2] < 0.005, lateness[-5:]
    assert lateness[-1] < 0.050, lateness[-5:]


async def test_busy_actors_and_a_ticker_all_progress() -> None:
    counts, lateness = await run_busy_with_ticker(trio.sleep_until)
    check_fair(counts, lateness)


async def test_busy_actors_and_a_paced_ticker_all_progress() -> None:
    counts, lateness = await run_busy_with_ticker(paced_sleep_until)
    check_fair(counts, lateness)


async def test_busy_producer_does_not_starve_a_ticker_behind_a_fast_consumer() -> None:
    """A producer whose consumer keeps up never blocks on a full mailbox either."""
    tx, rx = open_mailbox(64, overflow="drop_oldest")
    lateness: list[float] = []
    received = 0

    async def produce() -> None:
        i = 0
        while True:
            await tx.send(i)
            i += 1

    async def consume() -> None:
        nonlocal received
        async for _ in rx:
            received += 1

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(produce)
            nursery.start_soon(consume)
            await ticker(lateness, trio.sleep_until, trio.current_time() + RUN_FOR)
            nursery.cancel_scope.cancel()
    assert received > 2_000
    assert len(lateness) >= int(RUN_FOR / TICK) - 1
    assert max(lateness) < 0.050


async def test_cancelling_busy_fast_path_loops_is_prompt() -> None:
    counts = [0, 0, 0, 0]
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            for i in range(4):
                nursery.start_soon(busy_pair, counts, i)
            await trio.sleep(0.1)
            at_cancel = list(counts)
            cancelled_at = trio.current_time()
            nursery.cancel_scope.cancel()
        exit_took = trio.current_time() - cancelled_at
    assert min(at_cancel) > 0
    # Each bouncing actor notices cancellation at its next checkpoint: at most about one
    # yield period per end (receive + send) after the cancel, never a long tail.
    after = [c - a for c, a in zip(counts, at_cancel, strict=True)]
    assert max(after) <= 4 * 64, after
    assert exit_took < 0.05, exit_took


async def test_cancelled_busy_pipeline_loses_and_duplicates_nothing() -> None:
    """Cancel a producer -> relay -> consumer pipeline mid-burst: the consumer got a
    gap-free prefix, and every message is either received or still buffered."""
    a_tx, a_rx = open_mailbox(16)
    b_tx, b_rx = open_mailbox(16)
    sent: list[int] = []
    got: list[int] = []

    async def produce() -> None:
        i = 0
        while True:
            await a_tx.send(i)
            sent.append(i)
            i += 1

    async def relay() -> None:
        async for m in a_rx:
            await b_tx.send(m)

    async def consume() -> None:
        async for m in b_rx:
            got.append(m)

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(produce)
            nursery.start_soon(relay)
            nursery.start_soon(consume)
            await trio.sleep(0.1)
            nursery.cancel_scope.cancel()
    assert got == list(range(len(got)))
    leftover = [*drain(a_rx), *drain(b_rx)]
    # The relay may hold one message it took but had not yet forwarded when cancelled.
    accounted = sorted(got + leftover)
    missing = set(sent) - set(accounted)
    assert len(missing) <= 1, sorted(missing)[:5]
    assert len(accounted) == len(set(accounted))


def drain(rx: MailboxReceiver[int]) -> list[int]:
    out = []
    while True:
        try:
            out.append(rx.receive_nowait())
        except (trio.WouldBlock, trio.EndOfChannel):
            return out
