"""Small helpers: exception logging, the NOT_GIVEN sentinel, short ids, wall time in ms.

@log_exceptions("while flushing the TTS", logger=log)
async def flush() -> None: ...

with log_exceptions("parsing a server event"):
    ...

def configure(language: NotGivenOr[str | None] = NOT_GIVEN) -> None:
    if is_given(language):          # None is a real value here ("auto-detect")
        ...

shortuuid("speech_")   # "speech_3f9c2a61b0d4"
time_ms()              # ms since the epoch, following trio's clock inside a run
"""

from __future__ import annotations

import functools
import inspect
import logging
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Any, Final, TypeAlias, TypeGuard, TypeVar, cast, final

from voxtrio.core.clock import wall_time

__all__ = [
    "NOT_GIVEN",
    "NotGiven",
    "NotGivenOr",
    "is_given",
    "log_exceptions",
    "shortuuid",
    "time_ms",
]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

_default_logger = logging.getLogger("voxtrio")


class log_exceptions:  # noqa: N801 - used like a function: @log_exceptions(...)
    """Log an exception (with traceback) on its way out, then let it propagate.

        @log_exceptions("message", logger=log)     # sync or async function
        with log_exceptions("message"): ...        # any block (also `async with`)

    Only `Exception` is logged: cancellation, KeyboardInterrupt and SystemExit pass
    silently because they are not failures of the wrapped code. The log line reads
    "error in <function name> – <message>" (the block form: "error – <message>").
    """

    __slots__ = ("_msg", "_logger")

    def __init__(self, msg: str = "", logger: logging.Logger | None = None) -> None:
        self._msg = msg
        self._logger = logger if logger is not None else _default_logger

    def __call__(self, fn: F) -> F:
        where = f"error in {getattr(fn, '__qualname__', repr(fn))}"
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                try:
                    return await fn(*args, **kwargs)
                except Exception:
                    self._log(where)
                    raise

            return cast(F, async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception:
                self._log(where)
                raise

        return cast(F, wrapper)

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None and isinstance(exc, Exception):
            self._log("error", exc)

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def _log(self, where: str, exc: BaseException | None = None) -> None:
        text = f"{where} – {self._msg}" if self._msg else where
        self._logger.error(text, exc_info=exc if exc is not None else True)


@final
class NotGiven:
    """The type of `NOT_GIVEN`: "this argument was not passed", distinct from None."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __reduce__(self) -> str:
        return "NOT_GIVEN"  # pickles as the module-level singleton


NOT_GIVEN: Final = NotGiven()

NotGivenOr: TypeAlias = T | NotGiven


def is_given(obj: NotGivenOr[T]) -> TypeGuard[T]:
    """True unless `obj` is NOT_GIVEN (None counts as given)."""
    return not isinstance(obj, NotGiven)


def shortuuid(prefix: str = "") -> str:
    """`prefix` followed by 12 random hex digits (48 bits): ids for logs and messages."""
    return prefix + uuid.uuid4().hex[:12]


def time_ms() -> int:
    """Milliseconds since the epoch, rounded; inside a trio run it follows trio's clock.

    Uses `voxtrio.core.clock.wall_time`, so virtual-time tests get reproducible values.
    """
    return round(wall_time() * 1000)
