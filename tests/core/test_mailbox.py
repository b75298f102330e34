"""Mailbox semantics: capacity validation, overflow policies and counters, end lifecycle
(clone/close/EndOfChannel/Broken), and cancellation of blocked operations.

Anything where time passes runs on `autojump_clock`.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import trio
import trio.testing

from voxtrio.core.mailbox import (
    MailboxFull,
    MailboxReceiver,
    MailboxSender,
    MailboxStatistics,
    open_mailbox,
)


def consistent(stats: MailboxStatistics) -> bool:
    return stats.sent == stats.received + stats.buffered + stats.dropped + stats.discarded


# --- capacity and policy validation -------------------------------------------------------


@pytest.mark.parametrize("capacity", [0, -1, -64])
def test_capacity_must_be_positive(capacity: int) -> None:
    with pytest.raises(ValueError, match="positive int"):
        open_mailbox(capacity)


@pytest.mark.parametrize("capacity", [math.inf, 1.0, 2.5, "8", None, True])
def test_capacity_must_be_an_int(capacity: Any) -> None:
    with pytest.raises(ValueError, match="positive int"):
        open_mailbox(capacity)


def test_infinite_capacity_message_says_why() -> None:
    with pytest.raises(ValueError, match="unbounded"):
        open_mailbox(math.inf)  # type: ignore[arg-type]


def test_unknown_overflow_policy() -> None:
    with pytest.raises(ValueError, match="drop_oldest"):
        open_mailbox(4, overflow="drop_everything")  # type: ignore[arg-type]


def test_yield_every_validated() -> None:
    with pytest.raises(ValueError, match="yield_every"):
        open_mailbox(4, yield_every=0)


# --- overflow policies ----------------------------------------------------------------------


async def test_block_send_nowait_raises_wouldblock_when_full() -> None:
    tx, rx = open_mailbox(2)
    tx.send_nowait(1)
    tx.send_nowait(2)
    with pytest.raises(trio.WouldBlock):
        tx.send_nowait(3)
    assert [rx.receive_nowait(), rx.receive_nowait()] == [1, 2]
    s = tx.statistics()
    assert (s.sent, s.received, s.dropped, s.buffered, s.overflow) == (2, 2, 0, 0, "block")
    assert consistent(s)


async def test_block_send_waits_for_room(autojump_clock: trio.testing.MockClock) -> None:
    tx, rx = open_mailbox(1)
    await tx.send("a")
    done = trio.Event()

    async def sender() -> None:
        await tx.send("b")
        done.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(sender)
        await trio.sleep(1)
        assert not done.is_set()
        assert tx.statistics().tasks_waiting_send == 1
        assert await rx.receive() == "a"
        await done.wait()
        assert await rx.receive() == "b"
    s = rx.statistics()
    assert (s.sent, s.received, s.buffered, s.tasks_waiting_send) == (2, 2, 0, 0)


async def test_drop_oldest_keeps_newest() -> None:
    tx, rx = open_mailbox(3, overflow="drop_oldest")
    for i in range(10):
        await tx.send(i)
    tx.send_nowait(10)
    s = rx.statistics()
    assert (s.sent, s.dropped, s.buffered) == (11, 8, 3)
    assert [rx.receive_nowait() for _ in range(3)] == [8, 9, 10]
    assert consistent(rx.statistics())


async def test_drop_newest_keeps_oldest() -> None:
    tx, rx = open_mailbox(3, overflow="drop_newest")
    for i in range(10):
        await tx.send(i)
    tx.send_nowait(10)
    s = rx.statistics()
    assert (s.sent, s.dropped, s.buffered) == (11, 8, 3)
    assert [rx.receive_nowait() for _ in range(3)] == [0, 1, 2]
    assert consistent(rx.statistics())


async def test_error_policy_raises_mailbox_full() -> None:
    tx, rx = open_mailbox(2, overflow="error")
    await tx.send(1)
    tx.send_nowait(2)
    with pytest.raises(MailboxFull, match="'error'"):
        tx.send_nowait(3)
    with pytest.raises(MailboxFull):
        await tx.send(4)
    s = rx.statistics()
    assert (s.sent, s.dropped, s.rejected, s.buffered) == (2, 0, 2, 2)
    assert [rx.receive_nowait(), rx.receive_nowait()] == [1, 2]


@pytest.mark.parametrize("overflow", ["drop_oldest", "drop_newest", "error"])
async def test_non_blocking_policies_never_park(
    overflow: Any, autojump_clock: trio.testing.MockClock
) -> None:
    tx, rx = open_mailbox(1, overflow=overflow)
    with trio.fail_after(1):
        for i in range(200):
            try:
                await tx.send(i)
            except MailboxFull:
                pass
    assert tx.statistics().buffered == 1


async def test_send_hands_message_to_parked_receiver(
    autojump_clock: trio.testing.MockClock,
) -> None:
    tx, rx = open_mailbox(1, overflow="drop_newest")
    got: list[int] = []

    async def receiver() -> None:
        got.append(await rx.receive())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(receiver)
        await trio.sleep(1)
        assert rx.statistics().tasks_waiting_receive == 1
        # Handed straight to the waiting receiver: the buffer stays empty, nothing dropped.
        tx.send_nowait(1)
        tx.send_nowait(2)
    assert got == [1]
    s = rx.statistics()
    assert (s.sent, s.received, s.buffered, s.dropped) == (2, 1, 1, 0)


# --- end lifecycle --------------------------------------------------------------------------


async def test_end_of_channel_after_all_senders_close() -> None:
    tx, rx = open_mailbox(8)
    tx2 = tx.clone()
    await tx.send(1)
    await tx2.send(2)
    tx.close()
    await tx2.send(3)
    await tx2.aclose()
    assert [m async for m in rx] == [1, 2, 3]
    with pytest.raises(trio.EndOfChannel):
        await rx.receive()
    with pytest.raises(trio.EndOfChannel):
        rx.receive_nowait()


async def test_closing_last_sender_wakes_parked_receivers(
    autojump_clock: trio.testing.MockClock,
) -> None:
    tx, rx = open_mailbox(4)
    rx2 = rx.clone()
    ended: list[str] = []

    async def wait_end(name: str, r: MailboxReceiver[Any]) -> None:
        with pytest.raises(trio.EndOfChannel):
            await r.receive()
        ended.append(name)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(wait_end, "a", rx)
        nursery.start_soon(wait_end, "b", rx2)
        await trio.sleep(1)
        tx.close()
    assert sorted(ended) == ["a", "b"]


async def test_closed_ends_raise_closed_resource_error() -> None:
    tx, rx = open_mailbox(4)
    tx.close()
    tx.close()  # idempotent
    with pytest.raises(trio.ClosedResourceError):
        tx.send_nowait(1)
    with pytest.raises(trio.ClosedResourceError):
        await tx.send(1)
    with pytest.raises(trio.ClosedResourceError):
        tx.clone()
    rx.close()
    with pytest.raises(trio.ClosedResourceError):
        rx.receive_nowait()
    with pytest.raises(trio.ClosedResourceError):
        await rx.receive()
    with pytest.raises(trio.ClosedResourceError):
        rx.clone()


async def test_send_after_all_receivers_closed_is_broken() -> None:
    tx, rx = open_mailbox(4, overflow="drop_oldest")
    rx2 = rx.clone()
    await tx.send(1)
    rx.close()
    await tx.send(2)  # one receiver still open
    rx2.close()
    with pytest.raises(trio.BrokenResourceError):
        await tx.send(3)
    with pytest.raises(trio.BrokenResourceError):
        tx.send_nowait(3)
    s = tx.statistics()
    assert (s.discarded, s.buffered, s.open_receivers) == (2, 0, 0)
    assert consistent(s)


async def test_closing_last_receiver_breaks_blocked_senders(
    autojump_clock: trio.testing.MockClock,
) -> None:
    tx, rx = open_mailbox(1)
    await tx.send(0)

    async def blocked() -> None:
        with pytest.raises(trio.BrokenResourceError):
            await tx.send(1)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(blocked)
        nursery.start_soon(blocked)
        await trio.sleep(1)
        assert tx.statistics().tasks_waiting_send == 2
        rx.close()
    assert tx.statistics().tasks_waiting_send == 0


async def test_closing_an_end_fails_only_its_own_parked_tasks(
    autojump_clock: trio.testing.MockClock,
) -> None:
    tx, rx = open_mailbox(1)
    rx2 = rx.clone()
    outcome: dict[str, Any] = {}

    async def recv(name: str, r: MailboxReceiver[Any]) -> None:
        try:
            outcome[name] = await r.receive()
        except trio.ClosedResourceError:
            outcome[name] = "closed"

    async with trio.open_nursery() as nursery:
        nursery.start_soon(recv, "first", rx)
        await trio.sleep(1)
        nursery.start_soon(recv, "second", rx2)
        await trio.sleep(1)
        rx.close()
        await trio.sleep(1)
        await tx.send("msg")
    assert outcome == {"first": "closed", "second": "msg"}


async def test_sender_close_fails_its_parked_senders(
    autojump_clock: trio.testing.MockClock,
) -> None:
    tx, rx = open_mailbox(1)
    tx2 = tx.clone()
    await tx.send(0)

    async def blocked() -> None:
        with pytest.raises(trio.ClosedResourceError):
            await tx2.send(1)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(blocked)
        await trio.sleep(1)
        tx2.close()
    assert tx.statistics().open_senders == 1
    assert rx.receive_nowait() == 0


async def test_context_managers_close_ends() -> None:
    tx, rx = open_mailbox(2)
    with tx, rx:
        pass
    s = tx.statistics()
    assert (s.open_senders, s.open_receivers) == (0, 0)
    tx, rx = open_mailbox(2)
    async with tx, rx:
        pass
    s = rx.statistics()
    assert (s.open_senders, s.open_receivers) == (0, 0)


async def test_clones_each_message_delivered_once(autojump_clock: trio.testing.MockClock) -> None:
    tx, rx = open_mailbox(4)
    seen: list[int] = []

    async def consume(r: MailboxReceiver[int]) -> None:
        async with r:
            async for m in r:
                seen.append(m)
                await trio.sleep(0.001)

    async def produce(t: MailboxSender[int], start: int) -> None:
        async with t:
            for i in range(start, start + 500):
                await t.send(i)

    async with trio.open_nursery() as nursery:
        for _ in range(3):
            nursery.start_soon(consume, rx.clone())
        rx.close()
        nursery.start_soon(produce, tx.clone(), 0)
        nursery.start_soon(produce, tx.clone(), 1000)
        tx.close()
    assert sorted(seen) == list(range(500)) + list(range(1000, 1500))


async def test_blocked_sender_value_moves_into_buffer_in_order() -> None:
    tx, rx = open_mailbox(2)
    out: list[int] = []
    async with trio.open_nursery() as nursery:
        for i in range(6):
            nursery.start_soon(tx.send, i)
            await trio.testing.wait_all_tasks_blocked()
        for _ in range(6):
            out.append(await rx.receive())
    assert out == list(range(6))
    assert consistent(rx.statistics())


# --- cancellation ---------------------------------------------------------------------------


async def test_cancelled_receive_loses_nothing(autojump_clock: trio.testing.MockClock) -> None:
    tx, rx = open_mailbox(4)
    with trio.move_on_after(1) as scope:
        await rx.receive()
    assert scope.cancelled_caught
    assert rx.statistics().tasks_waiting_receive == 0
    await tx.send("after")
    assert rx.receive_nowait() == "after"


async def test_cancelled_blocked_send_sends_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    tx, rx = open_mailbox(1)
    await tx.send(1)
    with trio.move_on_after(1) as scope:
        await tx.send(2)
    assert scope.cancelled_caught
    s = tx.statistics()
    assert (s.sent, s.buffered, s.tasks_waiting_send) == (1, 1, 0)
    assert rx.receive_nowait() == 1
    with pytest.raises(trio.WouldBlock):
        rx.receive_nowait()


async def test_random_cancellation_neither_loses_nor_duplicates(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Senders and receivers are cancelled at random points; every message a send
    reported as sent is received exactly once."""
    import random

    rng = random.Random(1234)
    tx, rx = open_mailbox(3, yield_every=5)
    sent: list[int] = []
    received: list[int] = []

    async def sender() -> None:
        i = 0
        while i < 3000:
            with trio.move_on_after(rng.choice([0.0005, 0.001, 0.003])):
                while i < 3000:
                    await tx.send(i)
                    sent.append(i)
                    i += 1
                    if rng.random() < 0.1:
                        await trio.sleep(0.001)
        tx.close()

    async def receiver() -> None:
        while True:
            with trio.move_on_after(rng.choice([0.0005, 0.002, 0.004])):
                while True:
                    try:
                        received.append(await rx.receive())
                    except trio.EndOfChannel:
                        return
                    if rng.random() < 0.1:
                        await trio.sleep(0.001)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(sender)
        nursery.start_soon(receiver)
    assert sent == list(range(3000))
    assert received == sent
    s = rx.statistics()
    assert (s.sent, s.received) == (3000, 3000)


async def test_receive_is_a_checkpoint_at_least_every_yield_every_ops() -> None:
    tx, rx = open_mailbox(1000, yield_every=10)
    for i in range(1000):
        tx.send_nowait(i)
    cancelled_after = None
    with trio.CancelScope() as scope:
        scope.cancel()
        for n in range(1000):
            await rx.receive()
            cancelled_after = n
    assert cancelled_after is not None and cancelled_after < 10
    # The cancelled receive took nothing.
    assert rx.statistics().received == cancelled_after + 1


async def test_send_is_a_checkpoint_at_least_every_yield_every_ops() -> None:
    tx, rx = open_mailbox(1000, yield_every=10)
    count = 0
    with trio.CancelScope() as scope:
        scope.cancel()
        for i in range(1000):
            await tx.send(i)
            count += 1
    assert count < 10
    assert tx.statistics().sent == count


def test_repr_mentions_state() -> None:
    tx, rx = open_mailbox(3, overflow="drop_oldest")
    assert "0/3" in repr(tx) and "drop_oldest" in repr(rx)
    tx.close()
    assert "closed" in repr(tx)
