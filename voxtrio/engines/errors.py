"""Errors every engine raises, and the retry policy that reacts to them.

    try:
        event = await stt.recognize(frames, conn_options=APIConnectOptions(max_retry=1))
    except APIStatusError as exc:        # e.g. 401: fix the API key, retrying won't help
        log.error("STT refused: %s (HTTP %d)", exc, exc.status_code)
    except APIConnectionError:           # network or process trouble, retried already
        ...

Contract: an engine classifies each failure as one of these classes. `APIError.retryable`
says whether repeating the same request may succeed; the base classes (`STT.recognize`,
`RecognizeStream`, `ChunkedStream`, ...) retry retryable errors per `APIConnectOptions`
and raise non-retryable ones at once. `APIStatusError` is retryable except for 4xx
statuses other than 408 (timeout), 429 (rate limit) and 499 (client closed): a bad
request stays bad. Any other exception from an engine is a bug and is never retried.
"""

from __future__ import annotations

from typing import Any, Final

import attrs

__all__ = [
    "DEFAULT_API_CONNECT_OPTIONS",
    "APIConnectOptions",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "unwrap_error",
]

#: 4xx statuses worth retrying: request timeout, too many requests, client closed.
RETRYABLE_4XX: Final = frozenset({408, 429, 499})
#: The first retry comes quickly: a dropped connection usually reconnects at once.
FIRST_RETRY_INTERVAL: Final = 0.1


class APIError(Exception):
    """An engine request failed; `retryable` says whether trying again may help.

        raise APIError("model server returned garbage", body=raw, retryable=False)
    """

    def __init__(self, message: str, *, body: object = None, retryable: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.body = body
        self.retryable = retryable

    def __str__(self) -> str:
        return self.message


class APIStatusError(APIError):
    """The engine answered with an error status (HTTP-like `status_code`).

        raise APIStatusError("quota exceeded", status_code=429, request_id=rid)

    Unless `retryable` is given, 4xx statuses other than 408/429/499 are not retried.
    """

    def __init__(
        self,
        message: str = "engine returned an error status",
        *,
        status_code: int = -1,
        request_id: str | None = None,
        body: object = None,
        retryable: bool | None = None,
    ) -> None:
        if retryable is None:
            retryable = not (400 <= status_code < 500 and status_code not in RETRYABLE_4XX)
        super().__init__(message, body=body, retryable=retryable)
        self.status_code = status_code
        self.request_id = request_id

    def __str__(self) -> str:
        return f"{self.message} (status {self.status_code})"


class APIConnectionError(APIError):
    """The engine could not be reached, or the connection (or worker process) broke."""

    def __init__(
        self, message: str = "Connection error.", *, body: object = None, retryable: bool = True
    ) -> None:
        super().__init__(message, body=body, retryable=retryable)

    def __str__(self) -> str:
        # Show the root cause: "Connection error." alone tells the user nothing.
        cause = self.__cause__
        if cause is not None and str(cause):
            return f"{self.message} ({type(cause).__name__}: {cause})"
        return self.message


class APITimeoutError(APIConnectionError):
    """The engine did not answer within `APIConnectOptions.timeout` seconds."""

    def __init__(
        self, message: str = "Request timed out.", *, body: object = None, retryable: bool = True
    ) -> None:
        super().__init__(message, body=body, retryable=retryable)


def _non_negative(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


@attrs.frozen(slots=True)
class APIConnectOptions:
    """How often and how long to try an engine request.

        APIConnectOptions(max_retry=3, retry_interval=2.0, timeout=10.0)

    `max_retry` is the number of retries after the first attempt (0: no retry).
    `timeout` bounds one attempt of a request/response call (`recognize`, a TTS
    request's time to first audio); long-lived streams are not cut by it.
    The wait before retry `n` (0-based) is `interval_for_retry(n)`: 0.1 s for the
    first retry (reconnecting at once usually works), `retry_interval` afterwards.
    All waits are on trio's clock, so virtual-time tests do not really wait.
    """

    max_retry: int = attrs.field(default=3, validator=_non_negative)
    retry_interval: float = attrs.field(default=2.0, validator=_non_negative)
    timeout: float = attrs.field(default=10.0, validator=_non_negative)

    def interval_for_retry(self, num_retries: int) -> float:
        """Seconds to wait before retry number `num_retries` (0 for the first retry)."""
        if num_retries == 0:
            return min(FIRST_RETRY_INTERVAL, self.retry_interval)
        return self.retry_interval


DEFAULT_API_CONNECT_OPTIONS: Final = APIConnectOptions()


def unwrap_error(exc: BaseException) -> BaseException:
    """The single error inside (nested) one-exception groups, else `exc` itself.

    Engines that run a nursery raise their failure wrapped in an `ExceptionGroup`
    (trio's strict groups); retry logic and users want the `APIError` inside.
    """
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc
