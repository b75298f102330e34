"""Engine errors and the retry policy values."""

from __future__ import annotations

import pytest

from voxtrio.engines.errors import (
    DEFAULT_API_CONNECT_OPTIONS,
    APIConnectionError,
    APIConnectOptions,
    APIError,
    APIStatusError,
    APITimeoutError,
    unwrap_error,
)


def test_hierarchy_and_defaults() -> None:
    assert issubclass(APITimeoutError, APIConnectionError)
    assert issubclass(APIConnectionError, APIError) and issubclass(APIStatusError, APIError)
    assert APIError("x").retryable and APIConnectionError().retryable
    assert str(APITimeoutError()) == "Request timed out."
    assert APIError("boom", retryable=False).retryable is False


def test_status_error_explicit_retryable_wins() -> None:
    assert APIStatusError(status_code=400, retryable=True).retryable is True
    assert APIStatusError(status_code=503, retryable=False).retryable is False
    assert APIStatusError(status_code=499).retryable is True
    assert "status 401" in str(APIStatusError("bad key", status_code=401))


def test_connection_error_shows_root_cause() -> None:
    try:
        try:
            raise ConnectionResetError("peer reset")
        except OSError as exc:
            raise APIConnectionError() from exc
    except APIConnectionError as err:
        assert str(err) == "Connection error. (ConnectionResetError: peer reset)"


def test_connect_options_and_retry_intervals() -> None:
    opts = DEFAULT_API_CONNECT_OPTIONS
    assert (opts.max_retry, opts.retry_interval, opts.timeout) == (3, 2.0, 10.0)
    assert [opts.interval_for_retry(n) for n in range(3)] == [0.1, 2.0, 2.0]
    assert APIConnectOptions(retry_interval=0.05).interval_for_retry(0) == 0.05
    with pytest.raises(ValueError, match="max_retry must be >= 0"):
        APIConnectOptions(max_retry=-1)
    with pytest.raises(ValueError, match="timeout"):
        APIConnectOptions(timeout=-0.5)


def test_unwrap_error_takes_single_leaf() -> None:
    inner = APIConnectionError("down")
    assert unwrap_error(ExceptionGroup("g", [ExceptionGroup("h", [inner])])) is inner
    two = ExceptionGroup("g", [inner, ValueError()])
    assert unwrap_error(two) is two
    assert unwrap_error(inner) is inner
