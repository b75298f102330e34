"""ExpFilter, MovingAverage, BoundedDict and the misc helpers."""

from __future__ import annotations

import logging
import pickle
import re

import attrs
import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from voxtrio.core.bounded_dict import BoundedDict
from voxtrio.core.clock import set_wall_origin
from voxtrio.core.exp_filter import ExpFilter
from voxtrio.core.misc import (
    NOT_GIVEN,
    NotGiven,
    NotGivenOr,
    is_given,
    log_exceptions,
    shortuuid,
    time_ms,
)
from voxtrio.core.moving_average import MovingAverage

# -- ExpFilter -----------------------------------------------------------------------


def test_exp_filter_takes_the_first_sample_then_blends() -> None:
    f = ExpFilter(alpha=0.5)
    assert f.filtered() is None
    assert f.apply(1.0, 10.0) == 10.0
    assert f.apply(1.0, 0.0) == 5.0
    assert f.apply(2.0, 0.0) == pytest.approx(1.25)  # two steps at once: 0.5**2 kept


def test_exp_filter_two_half_steps_equal_one_full_step() -> None:
    a, b = ExpFilter(0.8), ExpFilter(0.8)
    a.apply(1.0, 1.0)
    b.apply(1.0, 1.0)
    a.apply(1.0, 0.0)
    b.apply(0.5, 0.0)
    b.apply(0.5, 0.0)
    assert a.filtered() == pytest.approx(b.filtered())


def test_exp_filter_negative_samples_are_ordinary_values() -> None:
    f = ExpFilter(alpha=0.5)
    f.apply(1.0, -1.0)  # a -1.0 sentinel would have treated this as "no sample yet"
    assert f.apply(1.0, 1.0) == 0.0


def test_exp_filter_caps_at_max_val_and_resets() -> None:
    f = ExpFilter(alpha=0.9, max_val=2.0)
    assert f.apply(1.0, 5.0) == 2.0
    assert f.apply(1.0, 5.0) == 2.0
    f.reset(alpha=0.1)
    assert f.filtered() is None and f.alpha == 0.1
    f.apply(1.0, 0.0)
    f.update_base(0.5)
    assert f.filtered() == 0.0 and f.alpha == 0.5


def test_exp_filter_validates() -> None:
    with pytest.raises(ValueError, match="alpha"):
        ExpFilter(alpha=1.5)
    with pytest.raises(ValueError, match="exp"):
        ExpFilter(alpha=0.5).apply(-1.0, 1.0)


# -- MovingAverage -------------------------------------------------------------------


def test_moving_average_covers_the_last_window_samples() -> None:
    avg = MovingAverage(3)
    assert avg.get_avg() == 0.0 and avg.size() == 0
    for sample in (1.0, 2.0, 3.0, 10.0):
        avg.add_sample(sample)
    assert avg.size() == 3
    assert avg.get_avg() == pytest.approx(5.0)
    avg.reset()
    assert avg.size() == 0 and avg.get_avg() == 0.0
    avg.add_sample(4.0)
    assert avg.get_avg() == 4.0


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=300), st.integers(1, 20))
def test_moving_average_matches_the_plain_mean(samples: list[float], window: int) -> None:
    avg = MovingAverage(window)
    for sample in samples:
        avg.add_sample(sample)
    tail = samples[-window:]
    assert avg.get_avg() == pytest.approx(sum(tail) / len(tail), rel=1e-9, abs=1e-6)


def test_moving_average_does_not_drift_after_huge_values() -> None:
    avg = MovingAverage(4)
    avg.add_sample(1e17)
    for _ in range(8):
        avg.add_sample(1.0)
    assert avg.get_avg() == 1.0  # exact: the running sum was recomputed


def test_moving_average_validates_window() -> None:
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="window"):
            MovingAverage(bad)  # type: ignore[arg-type]


# -- BoundedDict ---------------------------------------------------------------------


@attrs.define
class Item:
    text: str = ""
    done: bool = False


def test_bounded_dict_evicts_the_oldest_insertion() -> None:
    d: BoundedDict[str, int] = BoundedDict(maxsize=2)
    d["a"] = 1
    d["b"] = 2
    d["a"] = 10  # update: keeps its place
    d["c"] = 3
    assert list(d.items()) == [("b", 2), ("c", 3)]


def test_bounded_dict_unbounded_and_validation() -> None:
    d: BoundedDict[int, int] = BoundedDict()
    for i in range(1000):
        d[i] = i
    assert len(d) == 1000
    with pytest.raises(ValueError, match="maxsize"):
        BoundedDict(maxsize=0)


def test_bounded_dict_set_or_update_and_update_value() -> None:
    d: BoundedDict[str, Item] = BoundedDict(maxsize=10)
    made = d.set_or_update("x", Item, text="hi")
    assert made == Item("hi") and d["x"] is made
    again = d.set_or_update("x", lambda: Item("never"), done=True)
    assert again is made and made == Item("hi", done=True)
    assert d.update_value("x", text="bye", done=None) == Item("bye", done=True)
    assert d.update_value("missing", text="x") is None
    assert "missing" not in d


def test_bounded_dict_pop_if() -> None:
    d: BoundedDict[str, Item] = BoundedDict(maxsize=10)
    d["a"] = Item("a")
    d["b"] = Item("b", done=True)
    d["c"] = Item("c", done=True)
    assert d.pop_if(lambda item: item.done) == ("b", Item("b", done=True))
    assert d.pop_if(lambda item: item.text == "zzz") == (None, None)
    assert d.pop_if() == ("a", Item("a"))
    assert list(d) == ["c"]


# -- misc ----------------------------------------------------------------------------


def test_not_given_is_a_falsy_singleton_distinct_from_none() -> None:
    assert NotGiven() is NOT_GIVEN
    assert not NOT_GIVEN
    assert repr(NOT_GIVEN) == "NOT_GIVEN"
    assert pickle.loads(pickle.dumps(NOT_GIVEN)) is NOT_GIVEN
    assert not is_given(NOT_GIVEN)
    assert is_given(None) and is_given(0) and is_given("")

    def describe(language: NotGivenOr[str | None] = NOT_GIVEN) -> str:
        if is_given(language):
            return f"given {language}"
        return "default"

    assert describe() == "default"
    assert describe(None) == "given None"


def test_shortuuid() -> None:
    ids = {shortuuid("speech_") for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"speech_[0-9a-f]{12}", i) for i in ids)
    assert re.fullmatch(r"[0-9a-f]{12}", shortuuid())


async def test_time_ms_follows_trio_clock(autojump_clock: trio.testing.MockClock) -> None:
    set_wall_origin(1_700_000_000.0)
    assert time_ms() == 1_700_000_000_000
    await trio.sleep(1.2345)
    assert time_ms() == 1_700_000_001_234 or time_ms() == 1_700_000_001_235


def test_time_ms_outside_trio_is_wall_time() -> None:
    import time

    assert abs(time_ms() - time.time() * 1000) < 1000


def test_log_exceptions_sync_decorator(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("voxtrio.test_utils")

    @log_exceptions("while parsing", logger=log)
    def parse(text: str) -> int:
        return int(text)

    assert parse("12") == 12
    assert parse.__name__ == "parse"
    with caplog.at_level(logging.ERROR), pytest.raises(ValueError):
        parse("twelve")
    [record] = caplog.records
    assert record.name == "voxtrio.test_utils"
    assert "parse" in record.getMessage() and "while parsing" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is ValueError


async def test_log_exceptions_async_decorator(caplog: pytest.LogCaptureFixture) -> None:
    @log_exceptions()
    async def fetch(fail: bool) -> str:
        await trio.lowlevel.checkpoint()
        if fail:
            raise KeyError("gone")
        return "ok"

    assert await fetch(False) == "ok"
    with caplog.at_level(logging.ERROR), pytest.raises(KeyError):
        await fetch(True)
    assert "error in" in caplog.text and "fetch" in caplog.text


async def test_log_exceptions_does_not_log_cancellation(
    caplog: pytest.LogCaptureFixture, autojump_clock: trio.testing.MockClock
) -> None:
    @log_exceptions("worker")
    async def worker() -> None:
        await trio.sleep_forever()

    with caplog.at_level(logging.ERROR), trio.move_on_after(1):
        await worker()
    assert caplog.records == []


async def test_log_exceptions_as_context_manager(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        with pytest.raises(ZeroDivisionError), log_exceptions("dividing"):
            _ = 1 / 0
        with pytest.raises(RuntimeError):
            async with log_exceptions("async block"):
                raise RuntimeError("x")
        with log_exceptions("fine"):
            pass
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["error – dividing", "error – async block"]
    assert all(r.exc_info is not None for r in caplog.records)
