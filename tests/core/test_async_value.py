"""AsyncValue: waiting for values, held_for, transitions, cancellation."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from voxtrio.core.async_value import AsyncValue


async def test_wait_value_returns_at_once_when_already_matching() -> None:
    state = AsyncValue("idle")
    with trio.testing.assert_checkpoints():
        assert await state.wait_value("idle") == "idle"
    assert await state.wait_value(lambda s: s.startswith("id")) == "idle"


async def test_wait_value_wakes_on_a_matching_assignment(
    autojump_clock: trio.testing.MockClock,
) -> None:
    state = AsyncValue(0)
    results: list[tuple[float, int]] = []

    async def waiter() -> None:
        value = await state.wait_value(lambda v: v >= 3)
        results.append((trio.current_time(), value))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter)
        for i in range(1, 6):
            await trio.sleep(1)
            state.value = i
    assert results == [(3.0, 3)]


async def test_waiter_gets_the_value_it_matched_not_a_later_one() -> None:
    state = AsyncValue("a")
    got: list[str] = []

    async def waiter() -> None:
        got.append(await state.wait_value("b"))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await trio.testing.wait_all_tasks_blocked()
        state.value = "b"
        state.value = "c"  # before the waiter runs
    assert got == ["b"]


async def test_assigning_an_equal_value_is_not_a_transition(
    autojump_clock: trio.testing.MockClock,
) -> None:
    state = AsyncValue(1)
    got: list[tuple[int, int]] = []

    async def waiter() -> None:
        got.append(await state.wait_transition())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await trio.sleep(1)
        state.value = 1
        await trio.sleep(1)
        assert got == []
        state.value = 2
    assert got == [(2, 1)]


async def test_wait_transition_with_a_value_skips_other_changes() -> None:
    state = AsyncValue("listening")
    got: list[tuple[str, str]] = []

    async def waiter() -> None:
        got.append(await state.wait_transition("speaking"))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await trio.testing.wait_all_tasks_blocked()
        state.value = "thinking"
        state.value = "speaking"
    assert got == [("speaking", "thinking")]


async def test_wait_transition_ignores_the_current_value(
    autojump_clock: trio.testing.MockClock,
) -> None:
    state = AsyncValue("speaking")
    with trio.move_on_after(5) as scope:
        await state.wait_transition("speaking")
    assert scope.cancelled_caught


async def test_held_for_requires_the_match_to_last(
    autojump_clock: trio.testing.MockClock,
) -> None:
    state = AsyncValue("speaking")
    done_at: list[float] = []

    async def waiter() -> None:
        await state.wait_value("idle", held_for=2.0)
        done_at.append(trio.current_time())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await trio.sleep(1)
        state.value = "idle"  # t=1
        await trio.sleep(1.5)
        state.value = "speaking"  # t=2.5: broke the hold
        await trio.sleep(0.5)
        state.value = "idle"  # t=3: the hold restarts
    assert done_at == [pytest.approx(5.0)]


async def test_held_for_counts_from_now_when_already_matching(
    autojump_clock: trio.testing.MockClock,
) -> None:
    state = AsyncValue(10)
    start = trio.current_time()
    assert await state.wait_value(lambda v: v > 5, held_for=3) == 10
    assert trio.current_time() - start == pytest.approx(3.0)


async def test_held_for_returns_the_value_at_the_end(
    autojump_clock: trio.testing.MockClock,
) -> None:
    state = AsyncValue(10)
    got: list[int] = []

    async def waiter() -> None:
        got.append(await state.wait_value(lambda v: v > 5, held_for=3))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await trio.sleep(1)
        state.value = 20  # still matching: the hold continues
    assert got == [20]
    assert trio.current_time() == pytest.approx(3.0)


async def test_negative_held_for_is_rejected() -> None:
    with pytest.raises(ValueError, match="held_for"):
        await AsyncValue(0).wait_value(0, held_for=-1)


async def test_cancelled_waits_leave_nothing_behind(
    autojump_clock: trio.testing.MockClock,
) -> None:
    state = AsyncValue(0)
    with trio.move_on_after(1):
        await state.wait_value(1)
    with trio.move_on_after(1):
        await state.wait_transition()
    assert state._waiters == []
    state.value = 1  # must not touch the dead waiters


async def test_a_raising_predicate_fails_only_its_waiter() -> None:
    state = AsyncValue(0)
    outcomes: list[object] = []

    def picky(value: int) -> bool:
        if value == 1:
            raise ArithmeticError("bad predicate")
        return False

    async def bad() -> None:
        with pytest.raises(ArithmeticError):
            await state.wait_value(picky)
        outcomes.append("bad raised")

    async def good() -> None:
        outcomes.append(await state.wait_value(1))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(bad)
        nursery.start_soon(good)
        await trio.testing.wait_all_tasks_blocked()
        state.value = 1
    assert sorted(map(str, outcomes)) == ["1", "bad raised"]


async def test_many_waiters_wake_in_order() -> None:
    state = AsyncValue(0)
    order: list[int] = []

    async def waiter(i: int) -> None:
        await state.wait_value(1)
        order.append(i)

    async with trio.open_nursery() as nursery:
        for i in range(5):
            nursery.start_soon(waiter, i)
            await trio.testing.wait_all_tasks_blocked()
        state.value = 1
    assert sorted(order) == [0, 1, 2, 3, 4]
    assert repr(state) == "AsyncValue(1)"


async def test_held_for_does_not_count_a_match_that_is_already_gone(
    autojump_clock: trio.testing.MockClock,
) -> None:
    state = AsyncValue("speaking")
    done_at: list[float] = []

    async def waiter() -> None:
        await state.wait_value("idle", held_for=1.0)
        done_at.append(trio.current_time())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await trio.testing.wait_all_tasks_blocked()
        state.value = "idle"
        state.value = "speaking"  # before the waiter ran: the match is already gone
        await trio.sleep(5)
        assert done_at == []
        state.value = "idle"  # t=5
    assert done_at == [pytest.approx(6.0)]
