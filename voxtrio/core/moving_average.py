"""The mean of the last N samples.

    ttfb = MovingAverage(window=20)
    ttfb.add_sample(0.231)
    ttfb.get_avg()      # mean of up to the last 20 samples; 0.0 when empty

`add_sample` is O(1). The running sum is recomputed exactly once per window so float
error cannot pile up over a long session. `size()` is the number of samples the
average currently covers (at most `window`).
"""

from __future__ import annotations

import math
from collections import deque

__all__ = ["MovingAverage"]


class MovingAverage:
    """Fixed-window mean (see the module docstring)."""

    __slots__ = ("_samples", "_sum", "_until_resum")

    def __init__(self, window: int) -> None:
        if isinstance(window, bool) or not isinstance(window, int) or window <= 0:
            raise ValueError(f"window must be a positive int: got {window!r}")
        self._samples: deque[float] = deque(maxlen=window)
        self._sum = 0.0
        self._until_resum = window

    @property
    def window(self) -> int:
        """The most samples the average covers."""
        maxlen = self._samples.maxlen
        assert maxlen is not None
        return maxlen

    def add_sample(self, sample: float) -> None:
        """Add `sample`, forgetting the oldest one once the window is full."""
        if len(self._samples) == self.window:
            self._sum -= self._samples[0]
        self._samples.append(sample)
        self._sum += sample
        self._until_resum -= 1
        if self._until_resum == 0:
            self._sum = math.fsum(self._samples)
            self._until_resum = self.window

    def get_avg(self) -> float:
        """The mean of the samples in the window; 0.0 when there are none."""
        if not self._samples:
            return 0.0
        return self._sum / len(self._samples)

    def size(self) -> int:
        """How many samples the average covers now."""
        return len(self._samples)

    def reset(self) -> None:
        """Forget every sample."""
        self._samples.clear()
        self._sum = 0.0
        self._until_resum = self.window
