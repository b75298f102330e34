"""Exponential smoothing with a time-scaled weight.

    level = ExpFilter(alpha=0.9, max_val=1.0)
    smoothed = level.apply(exp=frame_seconds / 0.01, sample=rms)

`apply(exp, sample)` blends the sample in with weight `1 - alpha ** exp`: `exp` scales
the step, so samples that cover twice the time (a 20 ms frame against a 10 ms base) move
the estimate as much as two steps of the base would. The first sample is taken as is.
The result is capped at `max_val` when one is given (None: no cap).

Edge cases: `alpha` must be within [0, 1] (0: follow the samples exactly, 1: never move
after the first one); `exp` must be >= 0. `filtered()` is None until the first sample.
"""

from __future__ import annotations

__all__ = ["ExpFilter"]


class ExpFilter:
    """Exponentially weighted moving value (see the module docstring)."""

    __slots__ = ("_alpha", "_max_val", "_filtered")

    def __init__(self, alpha: float, max_val: float | None = None) -> None:
        self._alpha = _check_alpha(alpha)
        self._max_val = max_val
        self._filtered: float | None = None

    @property
    def alpha(self) -> float:
        """The per-unit-step decay of the old estimate."""
        return self._alpha

    @property
    def max_val(self) -> float | None:
        """The cap on the estimate, or None."""
        return self._max_val

    def apply(self, exp: float, sample: float) -> float:
        """Blend `sample` in, weighted by `1 - alpha ** exp`, and return the new estimate."""
        if exp < 0:
            raise ValueError(f"exp must be >= 0: got {exp}")
        if self._filtered is None:
            value = sample
        else:
            keep = self._alpha**exp
            value = keep * self._filtered + (1.0 - keep) * sample
        if self._max_val is not None and value > self._max_val:
            value = self._max_val
        self._filtered = value
        return value

    def filtered(self) -> float | None:
        """The current estimate, or None before the first sample."""
        return self._filtered

    def reset(self, alpha: float | None = None) -> None:
        """Forget the estimate; optionally change `alpha`."""
        if alpha is not None:
            self._alpha = _check_alpha(alpha)
        self._filtered = None

    def update_base(self, alpha: float) -> None:
        """Change `alpha`, keeping the current estimate."""
        self._alpha = _check_alpha(alpha)


def _check_alpha(alpha: float) -> float:
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be within [0, 1]: got {alpha}")
    return float(alpha)
