"""What the alert engine remembers between ticks of figures the aggregator keeps only as "latest".

The aggregator holds a worker's CPU and the endpoint's drop counter as their latest values, but
rules ask for "CPU over 5 minutes" and "drops in the last 5 minutes". The engine therefore
samples them itself, once per tick (every few seconds for CPU), for up to an hour, in fixed
memory: a sample-by-worker matrix for CPU, a pair of arrays of counter readings for drops.
Fixed from the start, not filled as the hour passes: a list of per-second tuples grew the pool's
heap by 0.4 MiB an hour for its first hour, which a memory benchmark fitted after a 20-minute
warm-up read as a third of the pool's growth (docs/BENCHMARKS.md, memory).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from poolmon.core.aggregator import Aggregator

F64 = npt.NDArray[np.float64]
HORIZON_S: Final = 3660
"""How far back samples are kept: the longest window (an hour) and a minute."""


class WorkerSamples:
    """One latest-only figure of every worker, sampled every `interval_s` for up to an hour.

    A ring of `rows` sample times by one column per worker id (NaN where a worker had no
    figure), so a window's per-worker mean is one `nanmean` over a block, whatever the
    number of workers.
    """

    def __init__(self, interval_s: int = 4, horizon_s: int = HORIZON_S) -> None:
        self.interval_s = interval_s
        self.rows = -(-horizon_s // interval_s) + 1
        self.times: F64 = np.full(self.rows, np.nan)
        self.data: F64 = np.full((self.rows, 8), np.nan)
        self.cols: dict[int, int] = {}
        self._pos = 0
        self._last: int | None = None

    def add(self, now_s: int, figures: dict[int, float]) -> None:
        """Store this second's figures if the interval has passed (see `SampleMatrix.add`)."""
        if self._last is not None and now_s < self._last:
            future = self.times > now_s
            self.times[future] = np.nan
            self.data[future] = np.nan
            self._last = None
        if self._last is not None and now_s - self._last < self.interval_s:
            return
        self._last = now_s
        row = self._pos
        self._pos = (row + 1) % self.rows
        self.times[row] = now_s
        self.data[row] = np.nan
        for wid, value in figures.items():
            col = self.cols.get(wid)
            if col is None:
                col = self._new_column(wid)
            self.data[row, col] = value

    def _new_column(self, wid: int) -> int:
        silent = np.flatnonzero(~np.isfinite(self.data).any(axis=0))
        taken = set(self.cols.values())
        free = [int(c) for c in silent if int(c) not in taken]
        if free:
            col = free[0]
        else:
            col = self.data.shape[1]
            grown = np.full((self.rows, col * 2), np.nan)
            grown[:, :col] = self.data
            self.data = grown
        self.cols = {w: c for w, c in self.cols.items() if c != col}
        self.cols[wid] = col
        return col

    def means(self, now_s: int, window_s: int) -> dict[int, float]:
        """Each worker's mean over the window (workers without a figure left out)."""
        mask = (self.times > now_s - window_s) & (self.times <= now_s)
        block = self.data[mask]
        if not len(block):
            return {}
        n = np.isfinite(block).sum(axis=0)
        sums = np.where(np.isfinite(block), block, 0.0).sum(axis=0)
        return {w: float(sums[c] / n[c]) for w, c in self.cols.items() if n[c]}


class CounterSamples:
    """A cumulative counter read at most once a second for up to `horizon_s`, in fixed memory.

    Two arrays allocated once (times, values) hold the readings in time order between `_lo`
    and `_hi`; when `_hi` reaches the end, the live part moves back to the front (about once
    per horizon). One reading at or before `now - horizon_s` is kept, so a window as long as
    the horizon still has its starting value.
    """

    def __init__(self, horizon_s: int = HORIZON_S) -> None:
        self.horizon_s = horizon_s
        cap = 2 * (horizon_s + 2)
        self._t = np.zeros(cap, dtype=np.int64)
        self._v = np.zeros(cap, dtype=np.float64)
        self._lo = 0
        self._hi = 0

    def __len__(self) -> int:
        return self._hi - self._lo

    @property
    def latest_s(self) -> int | None:
        """The time of the newest reading, None before the first."""
        return int(self._t[self._hi - 1]) if self._hi > self._lo else None

    def drop_after(self, now_s: int) -> None:
        """Forget readings later than `now_s` (the wall clock went back)."""
        lo = self._lo
        self._hi = lo + int(np.searchsorted(self._t[lo : self._hi], now_s, side="right"))

    def add(self, now_s: int, value: float) -> None:
        """Append a reading, later than every one held, and let the horizon's oldest go."""
        if self._hi == len(self._t):
            n = self._hi - self._lo
            self._t[:n] = self._t[self._lo : self._hi]
            self._v[:n] = self._v[self._lo : self._hi]
            self._lo, self._hi = 0, n
        self._t[self._hi] = now_s
        self._v[self._hi] = value
        self._hi += 1
        times = self._t[self._lo : self._hi]
        first_kept = int(np.searchsorted(times, now_s - self.horizon_s, side="right")) - 1
        if first_kept > 0:
            self._lo += first_kept

    def increase(self, now_s: int, window_s: int) -> float:
        """How much the counter rose over the window ending at `now_s` (0.0 with no readings).

        The newest value minus the window's starting one: the last reading at or before
        `now_s - window_s`, or the oldest when none is that old.
        """
        lo, hi = self._lo, self._hi
        if hi == lo:
            return 0.0
        k = int(np.searchsorted(self._t[lo:hi], now_s - window_s, side="right")) - 1
        return float(self._v[hi - 1] - self._v[lo + max(k, 0)])


class MetricMemory:
    """Samples of latest-only figures, kept across ticks for the longest window (engine-owned)."""

    def __init__(self) -> None:
        self.cpu = WorkerSamples()
        self.drops = CounterSamples()
        """The drop counter's readings, resets folded in (`sample_drops`)."""
        self._drops_cum = 0.0
        self._drops_last: float | None = None

    def sample_cpu(self, now_s: int, agg: Aggregator) -> None:
        """Record every live worker's latest CPU figure (every few seconds)."""
        self.cpu.add(
            now_s,
            {
                w: r.cpu_percent
                for w, r in agg.workers.rows.items()
                if r.alive and r.cpu_percent is not None
            },
        )

    def sample_drops(self, now_s: int, total: float) -> None:
        """Record the drop counter, folding resets (a restarted pool starts again at 0)."""
        drops = self.drops
        drops.drop_after(now_s)  # the wall clock went back
        if drops.latest_s == now_s:
            return
        last = self._drops_last
        if last is not None:
            self._drops_cum += total - last if total >= last else total
        self._drops_last = total
        drops.add(now_s, self._drops_cum)
