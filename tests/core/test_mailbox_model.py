"""Property test: random sequences of non-waiting mailbox operations behave like a plain
bounded list under each overflow policy, and the statistics always add up."""

from __future__ import annotations

from typing import Any

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from voxtrio.core.mailbox import MailboxFull, open_mailbox

ops = st.lists(
    st.one_of(
        st.tuples(st.just("send"), st.integers(0, 10**6)),
        st.tuples(st.just("receive"), st.none()),
    ),
    max_size=200,
)


@pytest.mark.parametrize("overflow", ["block", "drop_oldest", "drop_newest", "error"])
@settings(max_examples=60, deadline=None)
@given(capacity=st.integers(1, 6), program=ops)
def test_nowait_operations_match_a_bounded_list(
    overflow: Any, capacity: int, program: list[tuple[str, int | None]]
) -> None:
    tx, rx = open_mailbox(capacity, overflow=overflow)
    model: list[int] = []
    sent = dropped = received = rejected = 0
    for op, value in program:
        if op == "send":
            assert value is not None
            full = len(model) == capacity
            if not full:
                tx.send_nowait(value)
                model.append(value)
                sent += 1
            elif overflow == "block":
                with pytest.raises(trio.WouldBlock):
                    tx.send_nowait(value)
            elif overflow == "error":
                with pytest.raises(MailboxFull):
                    tx.send_nowait(value)
                rejected += 1
            elif overflow == "drop_oldest":
                tx.send_nowait(value)
                model.pop(0)
                model.append(value)
                sent += 1
                dropped += 1
            else:  # drop_newest
                tx.send_nowait(value)
                sent += 1
                dropped += 1
        else:
            if model:
                assert rx.receive_nowait() == model.pop(0)
                received += 1
            else:
                with pytest.raises(trio.WouldBlock):
                    rx.receive_nowait()
        s = rx.statistics()
        assert (s.sent, s.received, s.dropped, s.rejected, s.buffered) == (
            sent,
            received,
            dropped,
            rejected,
            len(model),
        )
        assert s.sent == s.received + s.buffered + s.dropped + s.discarded
    tx.close()
    drained = []
    while True:
        try:
            drained.append(rx.receive_nowait())
        except trio.EndOfChannel:
            break
    assert drained == model
