"""Where speech really ended: END_OF_SPEECH placed against the measured noise floor.

    refiner = EndRefiner(sample_rate=16_000, window_size=512)
    refiner.push(window, noise=True, anchor=index)    # every window, in stream order
    end = refiner.refine(confident_end, now)          # at END_OF_SPEECH: a sample index

Why: a VAD model's probability is a poor clock in noise. After the last word, Silero
stays >= 0.5 for 1-3 more windows when noise follows it (ends 70-140 ms late at 10 dB
SNR of white noise), and it drops out early on a quiet final fricative (the /s/ of
"minutes", 4-13 dB below the noise: 90-150 ms early). The audio itself says better
where the speech stopped, once it is compared with the noise around it.

How: every window is cut into hops of about 8 ms (512 samples at 16 kHz: 4 x 128);
each hop's spectrum (a Hann frame over the hop and the one before) is summed into
`BANDS` and kept as log power for the last second or so (`push`). Windows the VAD
calls non-speech outside an utterance (`noise=True`) also feed a noise history (the
last `noise_seconds`). At END_OF_SPEECH (`refine`), each band's noise floor is the
median of that history and its spread the scaled median absolute deviation (both
robust to a speech onset that slipped into it), so every hop gets a z-score per band.
A one-sided CUSUM runs backwards in time from `confident_end + lookahead`:
`S = max(0, S + z - drift)` per band; the first band whose `S` passes `threshold`
shows speech, and the hop where that rise began is where the speech ended. Narrow
bands make weak sounds visible (white noise spreads over all 8 kHz, a voiced tail sits
below 1 kHz, an /s/ between 4 and 8 kHz); the paired bands catch sounds that straddle
two; the CUSUM adds up a weak sound that lasts (a fricative) yet places a strong one
to the hop. The result is kept within `[confident_end - lookback, confident_end +
lookahead]` and never after `now`.

Edge cases: with less than `min_noise` seconds of noise history (speech right at the
stream start), or no evidence of speech in reach (speech below the noise), the
model's `confident_end` stands. Digital silence has no spread to measure: every band
gets an absolute floor (white noise at `floor_dbfs`) and a spread of at least
`min_spread_db`, so in clean audio the end is where the speech fades into that floor.
Below about 5 dB SNR the tails of speech drown and ends come out early (see
docs/engines.md). Cost: about 35 µs per 32 ms window, one CUSUM pass (about 0.2 ms)
per END_OF_SPEECH.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import numpy.typing as npt

__all__ = ["BANDS", "EndRefiner"]

FloatArray = npt.NDArray[np.float64]

_EDGES = (0, 250, 500, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000)
#: Bands in Hz: ten narrow ones, then each pair of neighbours (bands above Nyquist drop).
BANDS: tuple[tuple[int, int], ...] = tuple(zip(_EDGES[:-1], _EDGES[1:], strict=True)) + tuple(
    zip(_EDGES[:-2], _EDGES[2:], strict=True)
)
_DB = math.log(10) / 10  # decibels to natural-log power units


class EndRefiner:
    """Band-energy CUSUM against a tracked noise floor (see the module docstring).

    `lookback` / `lookahead` (seconds): how far before / after the model's confident
    end the refined end may go. `drift` and `threshold`: the CUSUM's, in units of the
    noise's own spread per hop. `noise_seconds`: noise history kept; `min_noise`: the
    least needed to refine at all. `floor_dbfs`, `min_spread_db`: what digital silence
    is taken for. `hop_seconds`: about how long a hop is (a window holds a whole
    number of them). One refiner per stream; not thread-safe.
    """

    def __init__(
        self,
        sample_rate: int,
        window_size: int,
        *,
        lookback: float = 0.125,
        lookahead: float = 0.25,
        drift: float = 1.0,
        threshold: float = 8.0,
        noise_seconds: float = 2.0,
        min_noise: float = 0.25,
        floor_dbfs: float = -57.0,
        min_spread_db: float = 1.0,
        hop_seconds: float = 0.008,
    ) -> None:
        if sample_rate <= 0 or window_size <= 0:
            raise ValueError(
                f"sample_rate and window_size must be positive, got {sample_rate}, {window_size}"
            )
        per_window = max(1, round(window_size / (hop_seconds * sample_rate)))
        self._hop = window_size // per_window
        self._per_window = per_window
        self._window_size = window_size
        self._lookback = round(lookback * sample_rate)
        self._lookahead = round(lookahead * sample_rate)
        # history kept before the anchor: the lookback plus room for the CUSUM to rise
        self._keep = self._lookback + round(0.3 * sample_rate)
        self._drift = drift
        self._threshold = threshold
        self._min_noise_hops = max(1, round(min_noise * sample_rate / self._hop))
        self._min_spread = min_spread_db * _DB

        frame = 2 * self._hop
        self._hann = np.hanning(frame + 1)[:-1]
        freqs = np.fft.rfftfreq(frame, 1 / sample_rate)
        nyquist = sample_rate / 2
        columns: list[npt.NDArray[np.bool_]] = []
        for low, high in BANDS:
            if low >= nyquist:
                continue
            column = (freqs >= low) & (freqs < (high if high < nyquist else nyquist + 1))
            if column.any() and not any(np.array_equal(column, c) for c in columns):
                columns.append(column)  # (at 8 kHz, 3-5 kHz is 3-4 kHz again)
        self._bands = np.array(columns, dtype=np.float64).T  # bins x bands
        # white noise at floor_dbfs (int16 scale): E|X_k|^2 = variance * sum(hann^2) per bin
        level = (10 ** (floor_dbfs / 20) * 32768) ** 2 * float(np.sum(self._hann**2))
        self._floor = level * self._bands.sum(axis=0)

        self._tail = np.zeros(self._hop, dtype=np.float64)
        self._index = 0
        self._history: deque[tuple[int, FloatArray]] = deque()  # (first sample, hops x bands)
        noise_windows = max(1, round(noise_seconds * sample_rate / window_size))
        self._noise: deque[FloatArray] = deque(maxlen=noise_windows)

    def push(self, window: npt.NDArray[np.int16], *, noise: bool, anchor: int) -> None:
        """Analyse the next window (int16 samples, `window_size` of them).

        `noise`: the VAD calls it non-speech outside an utterance (feeds the floor).
        `anchor`: the confident end while speaking, else the current sample index;
        history older than what a `refine` around it needs is dropped.
        """
        hop, count = self._hop, self._per_window
        samples = np.concatenate((self._tail, window[: hop * count].astype(np.float64)))
        self._tail = samples[-hop:]
        frames = np.lib.stride_tricks.sliding_window_view(samples, 2 * hop)[::hop][:count]
        spectrum = np.abs(np.fft.rfft(frames * self._hann, axis=1)) ** 2
        log_power = np.log(spectrum @ self._bands + self._floor)
        self._history.append((self._index, log_power))
        self._index += window.shape[0]
        if noise:
            self._noise.append(log_power)
        history = self._history
        while history and history[0][0] + self._window_size <= anchor - self._keep:
            history.popleft()

    def refine(self, confident_end: int, now: int) -> int:
        """The sample index where speech ended (`confident_end` if the audio cannot tell)."""
        if not self._history or len(self._noise) * self._per_window < self._min_noise_hops:
            return confident_end
        noise = np.concatenate(self._noise)
        floor = np.median(noise, axis=0)
        spread = np.maximum(np.median(np.abs(noise - floor), axis=0) * 1.4826, self._min_spread)
        hop = self._hop
        ends = np.concatenate(
            [start + hop * np.arange(1, self._per_window + 1) for start, _ in self._history]
        )
        low = confident_end - self._lookback
        high = min(now, confident_end + self._lookahead)
        reach = np.flatnonzero(ends <= high)
        if reach.size == 0:
            return confident_end
        order = reach[::-1]  # backwards in time
        features = np.concatenate([f for _, f in self._history])[order]
        # CUSUM S_k = max(0, S_k-1 + x_k) in closed form: S_k = C_k - min(0, C_1..C_k)
        rising = np.cumsum((features - floor) / spread - self._drift, axis=0)
        totals = rising - np.minimum.accumulate(np.minimum(rising, 0.0), axis=0)
        alarms = np.flatnonzero((totals > self._threshold).any(axis=1))
        if alarms.size == 0:
            return confident_end
        first = alarms[0]
        latest = first
        for band in np.flatnonzero(totals[first] > self._threshold):
            zeros = np.flatnonzero(totals[:first, band] <= 0.0)
            # the band's rise began right after its last zero (or at the scan's start)
            latest = min(latest, zeros[-1] + 1 if zeros.size else 0)
        return max(int(ends[order[latest]]), low)
