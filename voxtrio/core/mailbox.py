"""Bounded mailboxes: the only way voxtrio actors talk to each other.

    tx, rx = open_mailbox(64, overflow="drop_oldest")
    async with tx, rx:
        await tx.send(frame)
        async for frame in rx:
            ...

A mailbox is a bounded FIFO with a sender end and a receiver end, with the semantics of a
trio memory channel (`trio.open_memory_channel`) plus an explicit overflow policy:

- ``"block"`` (default): a send into a full mailbox waits for room (back-pressure);
  `send_nowait` raises `trio.WouldBlock`.
- ``"drop_oldest"``: a send into a full mailbox discards the oldest buffered message
  (live audio: a slow consumer loses old frames, never the newest). Never blocks.
- ``"drop_newest"``: a send into a full mailbox discards the message being sent. Never blocks.
- ``"error"``: a send into a full mailbox raises `MailboxFull`. Never blocks.

`capacity` must be a positive int: there are no unbounded or zero-size mailboxes.

Ends behave like trio's: `clone()` makes another end sharing the mailbox; once every sender
is closed, receivers drain the buffer and then get `trio.EndOfChannel` (which ends
`async for`); sending after every receiver closed raises `trio.BrokenResourceError`; using
a closed end raises `trio.ClosedResourceError`. Closing the last receiver discards whatever
is still buffered.

Fast path. `await send()` / `await receive()` that need not wait complete without a trip
through the scheduler (a trio channel pays one per call). So that a task that always has
input still lets others run, and still notices cancellation, every end performs a real
checkpoint (`trio.lowlevel.checkpoint`) at least every `YIELD_EVERY` operations, before the
operation, so a cancelled call never loses or duplicates a message. Operations that wait
(an empty mailbox, a full "block" mailbox) park the task and are cancellable at once.
docs/mailboxes.md gives the measurement behind `YIELD_EVERY`.

`statistics()` returns a `MailboxStatistics`; the counters obey
``sent == received + buffered + dropped + discarded``.
"""

from __future__ import annotations

import math
from collections import deque
from types import TracebackType
from typing import Any, Generic, Literal, TypeVar, final

import attrs
import trio
from outcome import Error, Value

__all__ = [
    "OVERFLOW_POLICIES",
    "YIELD_EVERY",
    "MailboxFull",
    "MailboxReceiver",
    "MailboxSender",
    "MailboxStatistics",
    "Overflow",
    "open_mailbox",
]

T = TypeVar("T")

Overflow = Literal["block", "drop_oldest", "drop_newest", "error"]
OVERFLOW_POLICIES: tuple[str, ...] = ("block", "drop_oldest", "drop_newest", "error")

#: Non-waiting operations an end may perform between two real checkpoints. Chosen by
#: measurement (docs/mailboxes.md, `bench/relay.py --mode yield`): 64 gives ~90 % of the
#: best burst throughput while no scheduler batch runs longer than ~0.35 ms of CPU.
YIELD_EVERY = 64

# A closed end's budget: so low that the fast path's `budget > 0` test also tests "open".
_CLOSED_BUDGET = -(1 << 62)

_checkpoint = trio.lowlevel.checkpoint
_current_task = trio.lowlevel.current_task
_reschedule = trio.lowlevel.reschedule
_wait_task_rescheduled = trio.lowlevel.wait_task_rescheduled
_ABORT_SUCCEEDED = trio.lowlevel.Abort.SUCCEEDED


class MailboxFull(Exception):
    """A send into a full mailbox whose overflow policy is ``"error"``."""


@final
@attrs.frozen(slots=True)
class MailboxStatistics:
    """A snapshot of one mailbox, as returned by `statistics()` on either end.

    `sent` counts messages accepted by a send (including those later dropped);
    `dropped` counts messages discarded by a drop policy; `discarded` counts messages
    still buffered when the last receiver closed. `rejected` counts sends refused with
    `MailboxFull`. `tasks_waiting_send` / `tasks_waiting_receive` count parked tasks.
    """

    capacity: int
    buffered: int
    sent: int
    received: int
    dropped: int
    open_senders: int
    open_receivers: int
    overflow: str
    discarded: int = 0
    rejected: int = 0
    tasks_waiting_send: int = 0
    tasks_waiting_receive: int = 0


def open_mailbox(
    capacity: int, overflow: Overflow = "block", *, yield_every: int = YIELD_EVERY
) -> tuple[MailboxSender[Any], MailboxReceiver[Any]]:
    """Open a bounded mailbox; return its ``(sender, receiver)`` pair.

        tx, rx = open_mailbox(16)                          # back-pressure
        tx, rx = open_mailbox(50, overflow="drop_oldest")  # live audio

    `capacity` is the number of messages the mailbox buffers (a positive int).
    `overflow` says what a send into a full mailbox does (see the module docs).
    `yield_every` bounds how many non-waiting operations an end performs between
    checkpoints (keep the default unless a measurement says otherwise).
    """
    if isinstance(capacity, bool) or not isinstance(capacity, int):
        if isinstance(capacity, float) and math.isinf(capacity):
            raise ValueError(
                "mailbox capacity must be a positive int: got inf, but voxtrio has no "
                "unbounded mailboxes; pick a bound and an overflow policy"
            )
        raise ValueError(
            f"mailbox capacity must be a positive int: got {capacity!r} ({type(capacity).__name__})"
        )
    if capacity < 1:
        raise ValueError(
            f"mailbox capacity must be a positive int: got {capacity}; a mailbox holds at "
            "least one message"
        )
    if overflow not in OVERFLOW_POLICIES:
        raise ValueError(
            f"unknown overflow policy {overflow!r}: use one of "
            + ", ".join(repr(p) for p in OVERFLOW_POLICIES)
        )
    if isinstance(yield_every, bool) or not isinstance(yield_every, int) or yield_every < 1:
        raise ValueError(f"yield_every must be a positive int: got {yield_every!r}")
    state: _State = _State(capacity, overflow, yield_every)
    return MailboxSender(state), MailboxReceiver(state)


@final
class MailboxSender(Generic[T]):
    """The sending end of a mailbox (see `open_mailbox`).

    await tx.send(msg)      # waits for room only under overflow="block"
    tx.send_nowait(msg)     # trio.WouldBlock when full under "block"
    """

    __slots__ = ("_state", "_closed", "_budget")

    def __init__(self, state: _State) -> None:
        self._state = state
        self._closed = False
        self._budget = state.yield_every
        state.open_senders += 1

    def send_nowait(self, value: T) -> None:
        """Send without waiting.

        Raises `trio.WouldBlock` if the mailbox is full under ``"block"``, `MailboxFull`
        under ``"error"``; the drop policies never raise for a full mailbox.
        """
        if self._closed:
            raise trio.ClosedResourceError("this mailbox sender is closed")
        st = self._state
        if not st.open_receivers:
            raise trio.BrokenResourceError("every receiver of this mailbox is closed")
        if st.receive_tasks:
            task = st.receive_tasks.popleft()
            st.received += 1
            _reschedule(task, Value(value))
            return
        buf = st.buffer
        if len(buf) < st.capacity:
            buf.append(value)
            return
        self._overflow(value)

    async def send(self, value: T) -> None:
        """Send `value`, waiting for room only under ``overflow="block"``.

        If cancelled, the message was not sent. Raises `MailboxFull` when full under
        ``"error"``, `trio.BrokenResourceError` when every receiver is closed,
        `trio.ClosedResourceError` when this end is closed.
        """
        budget = self._budget - 1
        self._budget = budget
        if budget > 0:  # never true for a closed end
            st = self._state
            if st.open_receivers:
                if st.receive_tasks:
                    task = st.receive_tasks.popleft()
                    st.received += 1
                    _reschedule(task, Value(value))
                    return
                buf = st.buffer
                if len(buf) < st.capacity:
                    buf.append(value)
                    return
        await self._send_slow(value)

    async def _send_slow(self, value: T) -> None:
        st = self._state
        if self._closed:
            raise trio.ClosedResourceError("this mailbox sender is closed")
        if self._budget <= 0:
            # Yield before acting: a Cancelled raised here means nothing was sent.
            self._budget = st.yield_every
            await _checkpoint()
        if (
            self._closed
            or not st.open_receivers
            or st.receive_tasks
            or len(st.buffer) < st.capacity
            or st.overflow != "block"
        ):
            self.send_nowait(value)  # completes, drops, or raises; never waits
            return
        # Full under "block": park until a receiver moves our message into the buffer.
        task = _current_task()
        task.custom_sleep_data = (value, self)
        st.send_tasks.append(task)
        self._budget = st.yield_every

        def abort(_: object) -> trio.lowlevel.Abort:
            st.send_tasks.remove(task)
            return _ABORT_SUCCEEDED

        await _wait_task_rescheduled(abort)

    def _overflow(self, value: T) -> None:
        st = self._state
        policy = st.overflow
        if policy == "drop_oldest":
            st.buffer.popleft()
            st.buffer.append(value)
            st.dropped += 1
        elif policy == "drop_newest":
            st.dropped += 1
        elif policy == "error":
            st.rejected += 1
            raise MailboxFull(
                f"mailbox is full ({st.capacity} messages) and its overflow policy is "
                "'error': receive faster, raise the capacity, or choose another policy"
            )
        else:
            raise trio.WouldBlock

    def clone(self) -> MailboxSender[T]:
        """Another sender for the same mailbox; receivers see EndOfChannel only once
        every sender (clones included) is closed."""
        if self._closed:
            raise trio.ClosedResourceError("cannot clone a closed mailbox sender")
        return MailboxSender(self._state)

    def close(self) -> None:
        """Close this end (idempotent). Tasks blocked sending through it get
        `trio.ClosedResourceError`; closing the last sender ends the receivers' stream."""
        if self._closed:
            return
        self._closed = True
        self._budget = _CLOSED_BUDGET  # keeps every call off the fast path
        st = self._state
        for task in list(st.send_tasks):
            if task.custom_sleep_data[1] is self:
                st.send_tasks.remove(task)
                _reschedule(task, Error(trio.ClosedResourceError("mailbox sender was closed")))
        st.open_senders -= 1
        if st.open_senders == 0:
            tasks = list(st.receive_tasks)
            st.receive_tasks.clear()
            for task in tasks:
                _reschedule(task, Error(trio.EndOfChannel()))

    async def aclose(self) -> None:
        """Close this end, then checkpoint."""
        self.close()
        await _checkpoint()

    def statistics(self) -> MailboxStatistics:
        """Counters of the mailbox (shared by all its ends)."""
        return self._state.statistics()

    def __enter__(self) -> MailboxSender[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> MailboxSender[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<MailboxSender {state} {self._state.describe()}>"


@final
class MailboxReceiver(Generic[T]):
    """The receiving end of a mailbox (see `open_mailbox`).

    msg = await rx.receive()
    async for msg in rx:    # ends when every sender is closed and the buffer is drained
        ...
    """

    __slots__ = ("_state", "_closed", "_budget")

    def __init__(self, state: _State) -> None:
        self._state = state
        self._closed = False
        self._budget = state.yield_every
        state.open_receivers += 1

    def receive_nowait(self) -> T:
        """Take the oldest message without waiting.

        Raises `trio.WouldBlock` if the mailbox is empty, `trio.EndOfChannel` if it is
        empty and every sender is closed.
        """
        if self._closed:
            raise trio.ClosedResourceError("this mailbox receiver is closed")
        st = self._state
        buf = st.buffer
        if st.send_tasks:
            task = st.send_tasks.popleft()
            buf.append(task.custom_sleep_data[0])
            _reschedule(task)
        if buf:
            st.received += 1
            value: T = buf.popleft()
            return value
        if not st.open_senders:
            raise trio.EndOfChannel
        raise trio.WouldBlock

    async def receive(self) -> T:
        """Take the oldest message, waiting while the mailbox is empty.

        If cancelled, no message was taken. Raises `trio.EndOfChannel` once every
        sender is closed and the buffer is drained.
        """
        budget = self._budget - 1
        self._budget = budget
        if budget > 0:  # never true for a closed end
            st = self._state
            if not st.send_tasks:
                buf = st.buffer
                if buf:
                    st.received += 1
                    value: T = buf.popleft()
                    return value
                if st.open_senders:
                    # Empty: park; a sender hands us its message directly.
                    task = _current_task()
                    task.custom_sleep_data = self
                    st.receive_tasks.append(task)
                    self._budget = st.yield_every

                    def abort(_: object) -> trio.lowlevel.Abort:
                        st.receive_tasks.remove(task)
                        return _ABORT_SUCCEEDED

                    value = await _wait_task_rescheduled(abort)
                    return value
        return await self._receive_slow()

    async def _receive_slow(self) -> T:
        st = self._state
        if self._closed:
            raise trio.ClosedResourceError("this mailbox receiver is closed")
        if self._budget <= 0:
            # Yield before acting: a Cancelled raised here means nothing was taken.
            self._budget = st.yield_every
            await _checkpoint()
        if self._closed or st.buffer or st.send_tasks or not st.open_senders:
            return self.receive_nowait()  # takes a message or raises; never waits
        task = _current_task()
        task.custom_sleep_data = self
        st.receive_tasks.append(task)
        self._budget = st.yield_every

        def abort(_: object) -> trio.lowlevel.Abort:
            st.receive_tasks.remove(task)
            return _ABORT_SUCCEEDED

        value: T = await _wait_task_rescheduled(abort)
        return value

    def __aiter__(self) -> MailboxReceiver[T]:
        return self

    async def __anext__(self) -> T:
        # Same as receive(), inlined (`async for` is how actors read), ending the loop
        # at EndOfChannel.
        budget = self._budget - 1
        self._budget = budget
        try:
            if budget > 0:  # never true for a closed end
                st = self._state
                if not st.send_tasks:
                    buf = st.buffer
                    if buf:
                        st.received += 1
                        value: T = buf.popleft()
                        return value
                    if st.open_senders:
                        task = _current_task()
                        task.custom_sleep_data = self
                        st.receive_tasks.append(task)
                        self._budget = st.yield_every

                        def abort(_: object) -> trio.lowlevel.Abort:
                            st.receive_tasks.remove(task)
                            return _ABORT_SUCCEEDED

                        value = await _wait_task_rescheduled(abort)
                        return value
            return await self._receive_slow()
        except trio.EndOfChannel:
            raise StopAsyncIteration from None

    def clone(self) -> MailboxReceiver[T]:
        """Another receiver for the same mailbox; each message goes to exactly one
        receiver (the first one waiting)."""
        if self._closed:
            raise trio.ClosedResourceError("cannot clone a closed mailbox receiver")
        return MailboxReceiver(self._state)

    def close(self) -> None:
        """Close this end (idempotent). Tasks blocked receiving through it get
        `trio.ClosedResourceError`; closing the last receiver discards the buffer and
        makes senders fail with `trio.BrokenResourceError`."""
        if self._closed:
            return
        self._closed = True
        self._budget = _CLOSED_BUDGET  # keeps every call off the fast path
        st = self._state
        for task in list(st.receive_tasks):
            if task.custom_sleep_data is self:
                st.receive_tasks.remove(task)
                _reschedule(task, Error(trio.ClosedResourceError("mailbox receiver was closed")))
        st.open_receivers -= 1
        if st.open_receivers == 0:
            tasks = list(st.send_tasks)
            st.send_tasks.clear()
            for task in tasks:
                _reschedule(
                    task,
                    Error(trio.BrokenResourceError("every receiver of this mailbox is closed")),
                )
            st.discarded += len(st.buffer)
            st.buffer.clear()

    async def aclose(self) -> None:
        """Close this end, then checkpoint."""
        self.close()
        await _checkpoint()

    def statistics(self) -> MailboxStatistics:
        """Counters of the mailbox (shared by all its ends)."""
        return self._state.statistics()

    def __enter__(self) -> MailboxReceiver[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> MailboxReceiver[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<MailboxReceiver {state} {self._state.describe()}>"


class _State:
    """What the ends of one mailbox share: the buffer, the parked tasks (in arrival
    order) and the counters."""

    __slots__ = (
        "capacity",
        "overflow",
        "yield_every",
        "buffer",
        "receive_tasks",
        "send_tasks",
        "open_senders",
        "open_receivers",
        "received",
        "dropped",
        "discarded",
        "rejected",
    )

    def __init__(self, capacity: int, overflow: str, yield_every: int) -> None:
        self.capacity = capacity
        self.overflow = overflow
        self.yield_every = yield_every
        self.buffer: deque[Any] = deque()
        # Parked tasks in arrival order; each one's `custom_sleep_data` (trio reserves it
        # for whoever parks the task) says which end it waits on: the receiver end, or
        # (message, sender end).
        self.receive_tasks: deque[trio.lowlevel.Task] = deque()
        self.send_tasks: deque[trio.lowlevel.Task] = deque()
        self.open_senders = 0
        self.open_receivers = 0
        # `sent` is derived (see statistics) so the hot path counts only receptions.
        self.received = 0
        self.dropped = 0
        self.discarded = 0
        self.rejected = 0

    def statistics(self) -> MailboxStatistics:
        buffered = len(self.buffer)
        return MailboxStatistics(
            capacity=self.capacity,
            buffered=buffered,
            sent=self.received + buffered + self.dropped + self.discarded,
            received=self.received,
            dropped=self.dropped,
            open_senders=self.open_senders,
            open_receivers=self.open_receivers,
            overflow=self.overflow,
            discarded=self.discarded,
            rejected=self.rejected,
            tasks_waiting_send=len(self.send_tasks),
            tasks_waiting_receive=len(self.receive_tasks),
        )

    def describe(self) -> str:
        return f"{len(self.buffer)}/{self.capacity} overflow={self.overflow!r}"
