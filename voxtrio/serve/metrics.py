"""A tiny metrics registry for `voxtrio serve`, rendered in the Prometheus text format.

    metrics = ServerMetrics()
    metrics.frames_in.inc()
    metrics.turn_e2e_latency.observe(0.62)
    body = metrics.render(loop_lag_p99=0.0012)    # text for GET /metrics

Contract: counters only go up, gauges are set or moved by the server, the histogram has
fixed buckets (seconds) and exports `_bucket{le=...}`, `_sum` and `_count` as Prometheus
expects. Everything lives on the trio thread, so no locks. No dependency on
prometheus_client: the server needs six series, and the text format is stable and small
(https://prometheus.io/docs/instrumenting/exposition_formats/).

Edge cases: values are rendered with `repr(float)` so they round-trip; `+Inf` is the
last bucket and always equals `_count`.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

__all__ = ["Counter", "Gauge", "Histogram", "ServerMetrics", "TURN_LATENCY_BUCKETS"]

TURN_LATENCY_BUCKETS: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)


def _num(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


class Counter:
    """A monotonically increasing count; `inc(n)` with n >= 0."""

    kind = "counter"

    def __init__(self, name: str, help_text: str) -> None:
        self.name = name
        self.help = help_text
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        if amount < 0:
            raise ValueError(f"counter {self.name} can only go up: got inc({amount})")
        self.value += amount

    def samples(self) -> list[str]:
        return [f"{self.name} {_num(self.value)}"]


class Gauge:
    """A value that goes up and down (`set`, `inc`, `dec`)."""

    kind = "gauge"

    def __init__(self, name: str, help_text: str) -> None:
        self.name = name
        self.help = help_text
        self.value = 0.0

    def set(self, value: float) -> None:
        self.value = float(value)

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount

    def dec(self, amount: float = 1.0) -> None:
        self.value -= amount

    def samples(self) -> list[str]:
        return [f"{self.name} {_num(self.value)}"]


class Histogram:
    """Observations counted into cumulative buckets (upper bounds in seconds)."""

    kind = "histogram"

    def __init__(self, name: str, help_text: str, buckets: Sequence[float]) -> None:
        bounds = sorted(float(b) for b in buckets)
        if not bounds:
            raise ValueError(f"histogram {name} needs at least one bucket bound")
        self.name = name
        self.help = help_text
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last slot is +Inf
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sum += value
        self.count += 1

    def samples(self) -> list[str]:
        lines = []
        running = 0
        for bound, count in zip([*self.bounds, math.inf], self.counts, strict=True):
            running += count
            lines.append(f'{self.name}_bucket{{le="{_num(bound)}"}} {running}')
        lines.append(f"{self.name}_sum {_num(self.sum)}")
        lines.append(f"{self.name}_count {self.count}")
        return lines


class ServerMetrics:
    """The series `/metrics` exports; the server and its connections update them."""

    def __init__(self) -> None:
        self.sessions_active = Gauge("voxtrio_sessions_active", "Sessions running now.")
        self.sessions_total = Counter(
            "voxtrio_sessions_total", "Sessions started since the server started."
        )
        self.sessions_failed = Counter(
            "voxtrio_sessions_failed_total", "Sessions that ended with an internal error (1011)."
        )
        self.connections_rejected = Counter(
            "voxtrio_connections_rejected_total",
            "WebSocket connections refused (token, origin, capacity, shutdown).",
        )
        self.frames_in = Counter("voxtrio_frames_in_total", "Binary audio frames received.")
        self.frames_out = Counter("voxtrio_frames_out_total", "Binary audio frames sent.")
        self.frames_dropped = Counter(
            "voxtrio_frames_dropped_total", "Audio frames dropped because a queue was full."
        )
        self.loop_lag = Gauge(
            "voxtrio_loop_lag_seconds", "p99 trio scheduling lateness over the last window."
        )
        self.turn_e2e_latency = Histogram(
            "voxtrio_turn_e2e_latency_seconds",
            "Silence heard by the user between the end of their turn and the agent's audio.",
            TURN_LATENCY_BUCKETS,
        )

    def all(self) -> list[Counter | Gauge | Histogram]:
        return [
            self.sessions_active,
            self.sessions_total,
            self.sessions_failed,
            self.connections_rejected,
            self.frames_in,
            self.frames_out,
            self.frames_dropped,
            self.loop_lag,
            self.turn_e2e_latency,
        ]

    def render(self) -> str:
        """The Prometheus text exposition (version 0.0.4) of every series."""
        lines: list[str] = []
        for metric in self.all():
            lines.append(f"# HELP {metric.name} {metric.help}")
            lines.append(f"# TYPE {metric.name} {metric.kind}")
            lines.extend(metric.samples())
        return "\n".join(lines) + "\n"
