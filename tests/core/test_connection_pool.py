"""ConnectionPool: reuse, expiry on trio's clock, prewarm, invalidate, timeouts, aclose."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import trio
import trio.testing

from voxtrio.core.connection_pool import ConnectionPool, ConnectTimeout


class FakeServer:
    """Hands out numbered connections after `connect_delay` seconds; records closes."""

    def __init__(self, connect_delay: float = 0.1) -> None:
        self.connect_delay = connect_delay
        self.opened: list[Conn] = []
        self.closed: list[int] = []
        self.timeouts: list[float] = []
        self.fail_next = False

    async def connect(self, timeout: float) -> Conn:  # noqa: ASYNC109 - the pool's API
        self.timeouts.append(timeout)
        await trio.sleep(self.connect_delay)
        if self.fail_next:
            self.fail_next = False
            raise ConnectionRefusedError("refused")
        conn = Conn(len(self.opened) + 1)
        self.opened.append(conn)
        return conn

    async def close(self, conn: Conn) -> None:
        await trio.sleep(0.01)
        self.closed.append(conn.number)


class Conn:
    """Unhashable on purpose: the pool must not need hashing."""

    __hash__ = None  # type: ignore[assignment]

    def __init__(self, number: int) -> None:
        self.number = number

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Conn) and other.number == self.number

    def __repr__(self) -> str:
        return f"Conn({self.number})"


def _pool(server: FakeServer, **kwargs: Any) -> ConnectionPool[Conn]:
    return ConnectionPool(server.connect, close_cb=server.close, **kwargs)


async def test_connections_are_reused(autojump_clock: trio.testing.MockClock) -> None:
    server = FakeServer()
    async with _pool(server) as pool:
        async with pool.connection(timeout=5) as first:
            pass
        async with pool.connection(timeout=5) as second:
            assert second is first
        stats = pool.statistics()
    assert (stats.connects, stats.reuses, stats.open, stats.idle) == (1, 1, 1, 1)
    assert server.timeouts == [5]
    assert server.closed == [1]  # closed by leaving the pool's block


async def test_concurrent_users_get_distinct_connections(
    autojump_clock: trio.testing.MockClock,
) -> None:
    server = FakeServer()
    async with _pool(server) as pool:
        a = await pool.get(timeout=5)
        b = await pool.get(timeout=5)
        assert a is not b
        pool.put(a)
        pool.put(b)
        assert await pool.get(timeout=5) is b  # the most recently returned first


async def test_expired_connections_are_replaced_and_closed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    server = FakeServer(connect_delay=0.0)
    async with _pool(server, max_session_duration=60) as pool:
        async with pool.connection(timeout=5) as conn:
            assert conn.number == 1
        await trio.sleep(59)
        async with pool.connection(timeout=5) as conn:
            assert conn.number == 1  # 59 s old: still fresh
        await trio.sleep(2)
        async with pool.connection(timeout=5) as conn:
            assert conn.number == 2  # 61 s old: replaced
        await trio.sleep(0.1)
        assert server.closed == [1]  # closed in the background by the pool's nursery


async def test_mark_refreshed_on_get_extends_the_lifetime(
    autojump_clock: trio.testing.MockClock,
) -> None:
    server = FakeServer(connect_delay=0.0)
    async with _pool(server, max_session_duration=60, mark_refreshed_on_get=True) as pool:
        for _ in range(5):
            async with pool.connection(timeout=5) as conn:
                assert conn.number == 1
            await trio.sleep(50)  # 250 s in all, never 60 s since the last get
        assert pool.statistics().connects == 1


async def test_a_connection_that_expires_while_in_use_is_closed_on_put(
    autojump_clock: trio.testing.MockClock,
) -> None:
    server = FakeServer(connect_delay=0.0)
    async with _pool(server, max_session_duration=10) as pool:
        async with pool.connection(timeout=5):
            await trio.sleep(11)
        await trio.sleep(0.1)
        assert server.closed == [1]
        assert pool.statistics().open == 0


async def test_an_error_in_the_block_removes_the_connection(
    autojump_clock: trio.testing.MockClock,
) -> None:
    server = FakeServer()
    async with _pool(server) as pool:
        with pytest.raises(OSError):
            async with pool.connection(timeout=5):
                raise OSError("socket reset")
        await trio.sleep(0.1)
        assert server.closed == [1]
        async with pool.connection(timeout=5) as conn:
            assert conn.number == 2


async def test_cancellation_in_the_block_removes_the_connection(
    autojump_clock: trio.testing.MockClock,
) -> None:
    server = FakeServer()
    async with _pool(server) as pool:
        with trio.move_on_after(1):
            async with pool.connection(timeout=5):
                await trio.sleep_forever()
        assert pool.statistics().open == 0
        await trio.sleep(0.1)
        assert server.closed == [1]


async def test_prewarm_connects_in_the_background_and_get_uses_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    server = FakeServer(connect_delay=1.0)
    async with _pool(server) as pool:
        pool.prewarm()
        pool.prewarm()  # already running: no second connection
        assert pool.statistics().prewarming
        await trio.sleep(0.5)
        start = trio.current_time()
        conn = await pool.get(timeout=5)  # waits for the prewarm instead of connecting
        assert trio.current_time() - start == pytest.approx(0.5)
        assert conn.number == 1 and len(server.opened) == 1
        pool.put(conn)
        pool.prewarm()  # a connection exists: no-op
        assert not pool.statistics().prewarming


async def test_prewarm_needs_a_nursery() -> None:
    pool = _pool(FakeServer())
    with pytest.raises(RuntimeError, match="bind\\(nursery\\)"):
        pool.prewarm()


async def test_bind_to_an_outside_nursery(autojump_clock: trio.testing.MockClock) -> None:
    server = FakeServer()
    pool = _pool(server)
    async with trio.open_nursery() as nursery:
        pool.bind(nursery)
        pool.prewarm()
        await trio.sleep(1)
        assert pool.statistics().idle == 1
        await pool.aclose()
    assert server.closed == [1]


async def test_failed_prewarm_is_logged_and_get_connects(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    server = FakeServer()
    server.fail_next = True
    async with _pool(server) as pool:
        with caplog.at_level(logging.ERROR, logger="voxtrio.pool"):
            pool.prewarm()
            await trio.sleep(1)
        assert "prewarm" in caplog.text
        async with pool.connection(timeout=5) as conn:
            assert conn.number == 1


async def test_invalidate_closes_everything_and_reconnects(
    autojump_clock: trio.testing.MockClock,
) -> None:
    server = FakeServer()
    async with _pool(server) as pool:
        a = await pool.get(timeout=5)
        b = await pool.get(timeout=5)
        pool.put(a)
        pool.invalidate()
        pool.put(b)  # b was in use during invalidate: it is not taken back
        await trio.sleep(0.1)
        assert sorted(server.closed) == [1, 2]
        assert (await pool.get(timeout=5)).number == 3


async def test_without_a_nursery_closes_happen_at_the_next_get(
    autojump_clock: trio.testing.MockClock,
) -> None:
    server = FakeServer()
    pool = _pool(server)
    conn = await pool.get(timeout=5)
    pool.remove(conn)
    assert server.closed == []
    assert pool.statistics().closing == 1
    await pool.get(timeout=5)
    assert server.closed == [1]
    await pool.aclose()
    assert server.closed == [1, 2]


async def test_get_times_out(autojump_clock: trio.testing.MockClock) -> None:
    server = FakeServer(connect_delay=30)
    async with _pool(server) as pool:
        start = trio.current_time()
        with pytest.raises(ConnectTimeout, match="within 2 s"):
            await pool.get(timeout=2)
        assert trio.current_time() - start == pytest.approx(2.0)
        with pytest.raises(TimeoutError):  # ConnectTimeout is a TimeoutError
            await pool.get()  # default: connect_timeout (10 s)
        assert trio.current_time() - start == pytest.approx(12.0)


async def test_aclose_closes_all_and_refuses_new_gets(
    autojump_clock: trio.testing.MockClock,
) -> None:
    server = FakeServer()
    pool = _pool(server)
    async with pool:
        a = await pool.get(timeout=5)
        b = await pool.get(timeout=5)
        pool.put(a)
        await pool.aclose()
        assert sorted(server.closed) == [1, 2]  # in use or idle, all closed
        pool.put(b)  # harmless after close
        with pytest.raises(trio.ClosedResourceError, match="closed"):
            await pool.get(timeout=5)
        with pytest.raises(trio.ClosedResourceError):
            pool.prewarm()
    assert sorted(server.closed) == [1, 2]  # nothing closed twice


async def test_aclose_cancels_a_running_prewarm(autojump_clock: trio.testing.MockClock) -> None:
    server = FakeServer(connect_delay=100)
    start = trio.current_time()
    async with _pool(server) as pool:
        pool.prewarm()
        await trio.sleep(1)
    assert trio.current_time() - start < 2
    assert server.opened == []


async def test_aclose_while_connecting_closes_the_new_connection(
    autojump_clock: trio.testing.MockClock,
) -> None:
    server = FakeServer(connect_delay=1.0)
    pool = _pool(server)
    async with trio.open_nursery() as nursery:

        async def getter() -> None:
            with pytest.raises(trio.ClosedResourceError):
                await pool.get(timeout=5)

        nursery.start_soon(getter)
        await trio.sleep(0.5)
        await pool.aclose()
    assert server.closed == [1]


async def test_close_errors_are_logged(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    async def connect(timeout: float) -> object:  # noqa: ASYNC109 - the pool's API
        return object()

    async def bad_close(conn: object) -> None:
        raise OSError("already gone")

    pool: ConnectionPool[object] = ConnectionPool(connect, close_cb=bad_close)
    await pool.get(timeout=1)
    with caplog.at_level(logging.ERROR, logger="voxtrio.pool"):
        await pool.aclose()
    assert "closing a pooled connection failed" in caplog.text


def test_max_session_duration_is_validated() -> None:
    with pytest.raises(ValueError, match="max_session_duration"):
        _pool(FakeServer(), max_session_duration=0)
