"""Run `voxtrio serve`: hypercorn's trio worker serving `VoxtrioApp` on one port.

    options = ServeOptions(host="127.0.0.1", port=8080, limits=ServerLimits(max_sessions=20))
    trio.run(serve, load_factory("myapp:make_session"), options)

    # in tests, on port 0, stopped by an event instead of a signal:
    async with trio.open_nursery() as nursery:
        server = await nursery.start(partial(serve, factory, options, handle_signals=False))
        url = server.url                                   # "http://127.0.0.1:41234"
        server.request_shutdown()

`serve` runs hypercorn, a `LoopLagMonitor` (for /metrics) and the shutdown logic under one
nursery. Shutdown (SIGINT/SIGTERM, or `request_shutdown()`): stop accepting connections,
answer /healthz with 503, let live calls go on for up to `limits.shutdown_grace` seconds,
then close the rest with 1001 "server shutting down". A second signal skips the grace.

`load_factory("module:attr")` imports the user's session factory (a callable taking a
`ConnectionInfo`, see voxtrio.serve.transports); `module` may be a dotted import path or a
`path/to/file.py`.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import signal
import sys
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import attrs
import trio

from voxtrio.core.loop_lag import LoopLagMonitor
from voxtrio.serve.asgi import ConnectionHandler, VoxtrioApp
from voxtrio.serve.limits import ServerLimits
from voxtrio.serve.metrics import ServerMetrics

__all__ = ["RunningServer", "ServeOptions", "FactoryLoadError", "load_factory", "serve"]

log = logging.getLogger("voxtrio.serve")


class FactoryLoadError(Exception):
    """`voxtrio serve module:attr` could not load the session factory."""


@attrs.frozen(slots=True, kw_only=True)
class ServeOptions:
    """Where to listen and what to accept (port 0 picks a free port)."""

    host: str = "127.0.0.1"
    port: int = 8080
    limits: ServerLimits = attrs.field(factory=ServerLimits)


@attrs.define(eq=False)
class RunningServer:
    """What `nursery.start(serve, ...)` returns: the bound address and the controls."""

    app: VoxtrioApp
    binds: list[str]
    _stop: trio.Event = attrs.field(factory=trio.Event)
    _hurry: trio.Event = attrs.field(factory=trio.Event)

    @property
    def url(self) -> str:
        """The first bound address, e.g. "http://127.0.0.1:41234"."""
        return self.binds[0]

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def request_shutdown(self, *, immediately: bool = False) -> None:
        """Begin the graceful shutdown (`immediately` skips the grace period)."""
        self._stop.set()
        if immediately:
            self._hurry.set()


def load_factory(spec: str) -> Callable[..., Any]:
    """Import "module:attr" (or "path/file.py:attr") and return the callable."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise FactoryLoadError(f"expected MODULE:FACTORY (e.g. myapp:make_session): got {spec!r}")
    try:
        if module_name.endswith(".py"):
            path = Path(module_name).resolve()
            module_spec = importlib.util.spec_from_file_location(path.stem, path)
            if module_spec is None or module_spec.loader is None:
                raise FactoryLoadError(f"cannot load {path}: not a Python file")
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[path.stem] = module
            module_spec.loader.exec_module(module)
        else:
            if "" not in sys.path:  # like `python -m`: the current directory is importable
                sys.path.insert(0, "")
            module = importlib.import_module(module_name)
    except (ImportError, FileNotFoundError) as exc:
        raise FactoryLoadError(f"cannot import {module_name!r}: {exc}") from exc
    factory = module
    for part in attr.split("."):
        try:
            factory = getattr(factory, part)
        except AttributeError:
            raise FactoryLoadError(f"{module_name!r} has no attribute {attr!r}") from None
    if not callable(factory):
        raise FactoryLoadError(f"{spec!r} is not callable: got {type(factory).__name__}")
    return factory


async def serve(
    factory: Callable[..., Any],
    options: ServeOptions,
    *,
    handlers: Mapping[str, ConnectionHandler] | None = None,
    handle_signals: bool = True,
    task_status: trio.TaskStatus[RunningServer] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve until shut down (signal or `RunningServer.request_shutdown()`)."""
    from hypercorn.config import Config
    from hypercorn.trio.run import worker_serve
    from hypercorn.utils import wrap_app

    limits = options.limits
    monitor = LoopLagMonitor(interval=0.01, window=1000)
    app = VoxtrioApp(
        factory,
        limits=limits,
        metrics=ServerMetrics(),
        handlers=handlers,
        loop_lag_p99=lambda: monitor.statistics().p99,
    )
    config = Config()
    host = f"[{options.host}]" if ":" in options.host else options.host
    config.bind = [f"{host}:{options.port}"]
    config.websocket_max_message_size = limits.max_message_size
    # our own drain closes live sockets at `shutdown_grace`; hypercorn's deadline is a backstop
    config.graceful_timeout = limits.shutdown_grace + 3.0
    config.accesslog = None  # access logs would show `?token=` query strings
    config.errorlog = logging.getLogger("voxtrio.serve.hypercorn")
    # bind now, so "address already in use" is a plain OSError, not one inside a nursery
    sockets = config.create_sockets()
    for sock in sockets.insecure_sockets:
        sock.listen(config.backlog)  # hypercorn listens itself only on sockets it created

    stop = trio.Event()
    hurry = trio.Event()

    async def shutdown_trigger() -> None:
        await stop.wait()

    async def drain() -> None:
        await stop.wait()
        log.info(
            "shutting down: %d live session(s), grace %.1f s",
            app.live_sessions,
            limits.shutdown_grace,
        )
        app.begin_drain()
        with trio.move_on_after(limits.shutdown_grace):
            async with trio.open_nursery() as waiters:

                async def on_hurry() -> None:
                    await hurry.wait()
                    waiters.cancel_scope.cancel()

                waiters.start_soon(on_hurry)
                await app.wait_idle()
                waiters.cancel_scope.cancel()
        await app.close_all()

    async with trio.open_nursery() as outer:
        await outer.start(monitor.run_standalone)
        outer.start_soon(drain)
        async with trio.open_nursery() as inner:
            # hypercorn returns once the trigger fired and its connections have ended
            # (our drain closes the last ones at `shutdown_grace`)
            binds: list[str] = await inner.start(
                partial(
                    worker_serve,
                    wrap_app(app, config.wsgi_max_body_size, "asgi"),  # type: ignore[arg-type]
                    config,
                    sockets=sockets,
                    shutdown_trigger=shutdown_trigger,
                ),
            )
            server = RunningServer(app=app, binds=binds, stop=stop, hurry=hurry)
            if handle_signals:
                outer.start_soon(_watch_signals, server)
            log.info("voxtrio serve listening on %s", ", ".join(binds))
            task_status.started(server)
        outer.cancel_scope.cancel()
    log.info("voxtrio serve stopped")


async def _watch_signals(server: RunningServer) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        count = 0
        async for signum in signals:
            count += 1
            name = signal.Signals(signum).name
            if count == 1:
                log.warning(
                    "%s: stopping; live calls get %.1f s to finish (again to hurry)",
                    name,
                    server.app.limits.shutdown_grace,
                )
                server.request_shutdown()
            else:
                log.warning("%s again: closing live calls now", name)
                server.request_shutdown(immediately=True)
