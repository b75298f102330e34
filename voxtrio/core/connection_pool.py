"""Reusable long-lived connections (websockets to a speech API, ...) with an age limit.

    async def connect(timeout: float) -> WebSocketConnection: ...
    async def close(ws: WebSocketConnection) -> None: await ws.aclose()

    async with ConnectionPool(connect, close_cb=close, max_session_duration=300) as pool:
        pool.prewarm()                                  # connect in the background now
        async with pool.connection(timeout=5) as ws:    # reuse a warm one, or connect
            await ws.send_message(...)

Contract:

- `get(timeout=...)` returns an idle connection that is younger than
  `max_session_duration` (seconds on trio's clock since it was opened, or since it was
  last handed out when `mark_refreshed_on_get=True`), the most recently returned first;
  otherwise it opens one with `connect_cb(timeout)`. Opening is serialised: concurrent
  `get()`s and `prewarm()` never open connections in a stampede, and a `get()` that
  arrives while the prewarm is connecting receives the prewarmed connection.
  The whole `get()` (waiting + connecting) is bounded by `timeout`: past it,
  `ConnectTimeout` (a `TimeoutError`) is raised.
- `put(conn)` returns a connection for reuse (ignored if it was removed or invalidated;
  closed if it has expired meanwhile). `remove(conn)` forgets it and schedules its close.
  `invalidate()` does that for every connection (e.g. after the API key changed).
- `connection(timeout=...)` is `get()` + `put()`; if the block raises (cancellation
  included) the connection is removed instead, since its state is unknown.
- Closing is async and `remove()` is not: closes run as tasks in the bound nursery (the
  pool's own under `async with pool:`, or one given to `bind(nursery)`); with no nursery
  they run at the next `get()` or at `aclose()`. A `close_cb` that raises is logged.
- `prewarm()` needs a nursery (RuntimeError otherwise); it is a no-op when a connection
  exists or a prewarm is running; a failed prewarm is logged, and `get()` then connects.
- `aclose()` cancels a running prewarm and closes every connection (shielded, bounded by
  `close_timeout` each); afterwards `get()` raises `trio.ClosedResourceError`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import TracebackType
from typing import Generic, TypeVar

import attrs
import trio

__all__ = ["ConnectTimeout", "ConnectionPool", "ConnectionPoolStatistics"]

logger = logging.getLogger("voxtrio.pool")

T = TypeVar("T")


class ConnectTimeout(TimeoutError):
    """`ConnectionPool.get()` did not obtain a connection within its timeout."""


@attrs.frozen(slots=True)
class ConnectionPoolStatistics:
    """Counts: connections open (idle + in use), idle, waiting to be closed; totals."""

    open: int
    idle: int
    closing: int
    connects: int
    reuses: int
    closes: int
    prewarming: bool


class ConnectionPool(Generic[T]):
    """A pool of reusable connections (see the module docstring)."""

    def __init__(
        self,
        connect_cb: Callable[[float], Awaitable[T]],
        *,
        close_cb: Callable[[T], Awaitable[None]] | None = None,
        max_session_duration: float | None = None,
        mark_refreshed_on_get: bool = False,
        connect_timeout: float = 10.0,
        close_timeout: float = 5.0,
    ) -> None:
        if max_session_duration is not None and max_session_duration <= 0:
            raise ValueError(
                f"max_session_duration must be > 0 seconds or None: got {max_session_duration}"
            )
        self._connect_cb = connect_cb
        self._close_cb = close_cb
        self._max_session_duration = max_session_duration
        self._mark_refreshed_on_get = mark_refreshed_on_get
        self._connect_timeout = connect_timeout
        self._close_timeout = close_timeout
        # id(conn) -> (conn, opened_at): keyed by id so connections need not be hashable.
        self._entries: dict[int, tuple[T, float]] = {}
        self._idle: list[T] = []  # most recently returned last
        self._to_close: list[T] = []
        self._connect_lock = trio.Lock()
        self._nursery: trio.Nursery | None = None
        self._nursery_manager: AbstractAsyncContextManager[trio.Nursery] | None = None
        self._prewarm_scope: trio.CancelScope | None = None
        self._reaping = False
        self._reaped = trio.Event()  # set whenever no background close task runs
        self._reaped.set()
        self._closed = False
        self._connects = 0
        self._reuses = 0
        self._closes = 0

    # -- lifetime ------------------------------------------------------------------

    def bind(self, nursery: trio.Nursery | None) -> None:
        """Run prewarm and close tasks in `nursery` (None unbinds)."""
        self._nursery = nursery

    async def __aenter__(self) -> ConnectionPool[T]:
        if self._closed:
            raise trio.ClosedResourceError("this connection pool is closed: create a new one")
        manager = trio.open_nursery()
        self.bind(await manager.__aenter__())
        self._nursery_manager = manager
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        manager = self._nursery_manager
        assert manager is not None, "__aexit__ without __aenter__"
        try:
            await self.aclose()
        finally:
            # A close task still running is bounded by close_timeout; the nursery waits.
            self._nursery = None
            self._nursery_manager = None
            result = await manager.__aexit__(exc_type, exc, tb)
        return result

    async def aclose(self) -> None:
        """Cancel the prewarm and close every connection; the pool can't be used after."""
        self._closed = True
        if self._prewarm_scope is not None:
            self._prewarm_scope.cancel()
        self.invalidate()
        with trio.CancelScope(shield=True):
            await self._drain_to_close()
            await self._reaped.wait()  # a background close still in flight

    # -- connections ---------------------------------------------------------------

    async def get(self, *, timeout: float | None = None) -> T:  # noqa: ASYNC109 - passed to connect_cb
        """An idle fresh connection, or a new one; bounded by `timeout` (default: connect_timeout)."""
        timeout = self._connect_timeout if timeout is None else timeout
        self._check_open()
        if not self._reaping:
            await self._drain_to_close()
        try:
            with trio.fail_after(timeout):
                async with self._connect_lock:
                    self._check_open()
                    now = trio.current_time()
                    while self._idle:
                        conn = self._idle.pop()
                        if self._is_fresh(conn, now):
                            if self._mark_refreshed_on_get:
                                self._entries[id(conn)] = (conn, now)
                            self._reuses += 1
                            return conn
                        self.remove(conn)
                    return await self._connect(timeout)
        except trio.TooSlowError:
            raise ConnectTimeout(
                f"no connection within {timeout} s: the server is slow or unreachable; "
                "raise timeout= or check the endpoint"
            ) from None

    def put(self, conn: T) -> None:
        """Return `conn` for reuse (closed instead if it expired; ignored if removed)."""
        if id(conn) not in self._entries or any(c is conn for c in self._idle):
            return
        if self._closed or not self._is_fresh(conn, trio.current_time()):
            self.remove(conn)
            return
        self._idle.append(conn)

    def remove(self, conn: T) -> None:
        """Forget `conn` and schedule its close (no-op if the pool does not hold it)."""
        if self._entries.pop(id(conn), None) is None:
            return
        self._idle = [c for c in self._idle if c is not conn]
        self._to_close.append(conn)
        self._schedule_reap()

    def invalidate(self) -> None:
        """Forget every connection and schedule their closes; new ones open on demand."""
        self._to_close.extend(conn for conn, _ in self._entries.values())
        self._entries.clear()
        self._idle.clear()
        self._schedule_reap()

    @asynccontextmanager
    async def connection(
        self,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - passed to connect_cb
    ) -> AsyncIterator[T]:
        """`get()` a connection for the block; `put()` it back, or `remove()` it on error."""
        conn = await self.get(timeout=timeout)
        try:
            yield conn
        except BaseException:
            self.remove(conn)
            raise
        self.put(conn)

    def prewarm(self) -> None:
        """Open one connection in the background if the pool has none."""
        self._check_open()
        if self._nursery is None:
            raise RuntimeError(
                "prewarm() runs in a nursery: use `async with pool:` or call "
                "pool.bind(nursery) first"
            )
        if self._prewarm_scope is not None or self._entries:
            return
        self._prewarm_scope = trio.CancelScope()
        self._nursery.start_soon(self._prewarm, self._prewarm_scope, name="connection prewarm")

    def statistics(self) -> ConnectionPoolStatistics:
        """Current counts and running totals."""
        return ConnectionPoolStatistics(
            open=len(self._entries),
            idle=len(self._idle),
            closing=len(self._to_close),
            connects=self._connects,
            reuses=self._reuses,
            closes=self._closes,
            prewarming=self._prewarm_scope is not None,
        )

    # -- internals -----------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise trio.ClosedResourceError("this connection pool is closed: create a new one")

    def _is_fresh(self, conn: T, now: float) -> bool:
        if self._max_session_duration is None:
            return True
        return now - self._entries[id(conn)][1] <= self._max_session_duration

    async def _connect(self, budget: float) -> T:
        conn = await self._connect_cb(budget)
        self._connects += 1
        if self._closed:  # aclose() ran while we were connecting: don't leak this one
            self._to_close.append(conn)
            with trio.CancelScope(shield=True):
                await self._drain_to_close()
            self._check_open()
        self._entries[id(conn)] = (conn, trio.current_time())
        return conn

    async def _prewarm(self, scope: trio.CancelScope) -> None:
        try:
            with scope:
                async with self._connect_lock:
                    if not self._entries and not self._closed:
                        with trio.fail_after(self._connect_timeout):
                            conn = await self._connect(self._connect_timeout)
                        self._idle.append(conn)
        except Exception:
            logger.exception("prewarming a connection failed; get() will connect on demand")
        finally:
            self._prewarm_scope = None

    def _schedule_reap(self) -> None:
        if self._reaping or self._closed or not self._to_close or self._nursery is None:
            return  # aclose() drains by itself
        try:
            self._nursery.start_soon(self._reap, name="connection pool closer")
        except RuntimeError:  # the nursery is closing; get()/aclose() will close them
            return
        self._reaping = True
        self._reaped = trio.Event()

    async def _reap(self) -> None:
        try:
            await self._drain_to_close()
        finally:
            self._reaping = False
            self._reaped.set()

    async def _drain_to_close(self) -> None:
        while self._to_close:
            conn = self._to_close.pop(0)
            self._closes += 1
            if self._close_cb is None:
                continue
            try:
                with trio.move_on_after(self._close_timeout) as scope:
                    await self._close_cb(conn)
                if scope.cancelled_caught:
                    logger.warning(
                        "closing a connection took over %s s; gave up", self._close_timeout
                    )
            except Exception:
                logger.exception("closing a pooled connection failed")
