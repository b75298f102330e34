"""A value that tasks can wait on.

    state = AsyncValue("idle")
    state.value = "speaking"                         # wakes matching waiters
    await state.wait_value("idle")                   # returns at once if already idle
    await state.wait_value(lambda s: s != "speaking", held_for=0.5)
    new, old = await state.wait_transition()         # the next change, whatever it is

Contract:

- Assigning `.value` a value equal (`==`) to the current one changes nothing: no
  transition, no wake-up. Otherwise every waiter whose condition holds is woken, in the
  order they started waiting, with the value it matched (not whatever the value is by
  the time the waiter runs).
- `wait_value(v_or_pred)` matches `value == v`, or `pred(value)` when given a callable
  (so an AsyncValue holding callables must be waited on with a predicate). It checks the
  current value first and returns at once (after a checkpoint) if it already matches.
  With `held_for=seconds` it returns only once the value has matched continuously for
  that long on trio's clock; the return value is the value at that moment.
- `wait_transition(v_or_pred=None)` ignores the current value and waits for the next
  change whose new value matches (any change when None); it returns `(new, old)`.
- A predicate that raises makes its own waiter raise; the assignment that ran it and the
  other waiters are unaffected.
- Waits are cancellable like any trio wait and leave nothing behind when cancelled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import trio

__all__ = ["AsyncValue"]

T = TypeVar("T")


class AsyncValue(Generic[T]):
    """Observable state: read and assign `.value`; wait for values or transitions."""

    def __init__(self, value: T) -> None:
        self._value = value
        self._waiters: list[_Waiter[T]] = []

    def __repr__(self) -> str:
        return f"AsyncValue({self._value!r})"

    @property
    def value(self) -> T:
        """The current value; assigning a different value wakes the matching waiters."""
        return self._value

    @value.setter
    def value(self, new: T) -> None:
        old = self._value
        if new == old:
            return
        self._value = new
        if not self._waiters:
            return
        remaining: list[_Waiter[T]] = []
        for waiter in self._waiters:
            try:
                matched = waiter.check(new, old)
            except Exception as exc:  # the waiter's predicate: its error is the waiter's
                waiter.error = exc
                matched = True
            if matched:
                waiter.result = (new, old)
                waiter.event.set()
            else:
                remaining.append(waiter)
        self._waiters = remaining

    async def wait_value(
        self, value_or_predicate: T | Callable[[T], bool], *, held_for: float = 0.0
    ) -> T:
        """Wait until the value matches (now or later) and return it.

        `held_for`: the value must keep matching this many seconds (trio clock); every
        change that breaks the match restarts the wait.
        """
        if held_for < 0:
            raise ValueError(f"held_for must be >= 0 seconds: got {held_for}")
        predicate = _as_predicate(value_or_predicate)
        while True:
            if predicate(self._value):
                if held_for == 0:
                    matched = self._value
                    await trio.lowlevel.checkpoint()
                    return matched
            else:
                matched, _ = await self._wait(lambda new, _old: predicate(new))
                if held_for == 0:
                    return matched
                if not predicate(self._value):
                    continue  # it changed again before this task ran: no hold yet
            with trio.move_on_after(held_for):
                await self._wait(lambda new, _old: not predicate(new))
                continue  # the match broke before held_for elapsed: start over
            return self._value

    async def wait_transition(
        self, value_or_predicate: T | Callable[[T], bool] | None = None
    ) -> tuple[T, T]:
        """Wait for the next change whose new value matches; return `(new, old)`."""
        if value_or_predicate is None:
            return await self._wait(lambda _new, _old: True)
        predicate = _as_predicate(value_or_predicate)
        return await self._wait(lambda new, _old: predicate(new))

    async def _wait(self, check: Callable[[T, T], bool]) -> tuple[T, T]:
        waiter: _Waiter[T] = _Waiter(check)
        self._waiters.append(waiter)
        try:
            await waiter.event.wait()
        finally:
            if not waiter.event.is_set():  # cancelled: forget this waiter
                self._waiters.remove(waiter)
        if waiter.error is not None:
            raise waiter.error
        assert waiter.result is not None
        return waiter.result


class _Waiter(Generic[T]):
    __slots__ = ("check", "event", "result", "error")

    def __init__(self, check: Callable[[T, T], bool]) -> None:
        self.check = check
        self.event = trio.Event()
        self.result: tuple[T, T] | None = None
        self.error: Exception | None = None


def _as_predicate(value_or_predicate: T | Callable[[T], bool]) -> Callable[[T], bool]:
    if callable(value_or_predicate):
        return value_or_predicate
    target = value_or_predicate
    return lambda value: bool(value == target)
