"""A windowed distribution: log-bucket sketches in time slots, so a window is a sum of slots.

Each slot holds a sketch's bucket counts (int32: a slot would need over 2 billion values in one
bucket to overflow) plus the exact sum, min and max of its values. A window query sums the
slots' counts, adds their sums and takes the min of mins and max of maxes, then reads
percentiles off the merged counts (`poolmon.core.sketch`). Bytes per slot:
`N_BUCKETS * 4 + 3 * 8 + 2 * 16` (epochs) = 5,176.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from poolmon.core.ring import Tier, Tiers
from poolmon.core.sketch import N_BUCKETS, QUANTILES, quantiles_from_counts
from poolmon.core.snapshot import LatencySummary

I64 = npt.NDArray[np.int64]


class DistRing:
    """Durations over time at the resolutions of `tiers` (see module doc)."""

    __slots__ = ("bins", "stats")

    def __init__(self, tiers: Sequence[Tier]) -> None:
        self.bins = Tiers(tiers, (N_BUCKETS,), np.int32)
        self.stats = Tiers(tiers, (3,), np.float64, fill=np.array([0.0, np.inf, -np.inf]))
        """Per slot: sum, min, max."""

    @property
    def nbytes(self) -> int:
        """Fixed footprint in bytes."""
        return self.bins.nbytes + self.stats.nbytes

    def add(self, second: int, values: I64, buckets: npt.NDArray[np.intp]) -> None:
        """Record values (with their precomputed buckets) that belong to `second`."""
        if len(values) == 0:
            return
        self.add_counts(
            second,
            np.bincount(buckets, minlength=N_BUCKETS),
            float(values.sum(dtype=np.float64)),
            float(values.min()),
            float(values.max()),
        )

    def add_counts(self, second: int, counts: I64, total: float, lo: float, hi: float) -> None:
        """Record already-bucketed counts (a rollup, or a shared bincount)."""
        self.bins.add(second, counts)
        self.stats.add_stats(second, total, lo, hi)

    def add_sparse(
        self,
        second: int,
        buckets: npt.NDArray[np.intp],
        counts: I64,
        total: float,
        lo: float,
        hi: float,
    ) -> None:
        """Record counts given only for non-empty `buckets` (cheap for small batches)."""
        if len(buckets) > N_BUCKETS // 4:
            dense = np.zeros(N_BUCKETS, dtype=np.int64)
            dense[buckets] = counts
            self.bins.add(second, dense)
        else:
            self.bins.add_at(second, buckets, counts)
        self.stats.add_stats(second, total, lo, hi)

    def drop_after(self, second: int) -> None:
        """Forget slots after `second` (clock went backwards)."""
        self.bins.drop_after(second)
        self.stats.drop_after(second)

    def window_counts(self, now_s: int, window_s: int) -> tuple[I64, float, float, float]:
        """Merged `(counts, sum, min, max)` over the window."""
        ring = self.stats.for_window(window_s)
        rows = ring.data[ring.window_rows(now_s, window_s)]
        counts = self.bins.window_sum(now_s, window_s).astype(np.int64)
        if len(rows) == 0:
            return counts, 0.0, float("inf"), float("-inf")
        return counts, float(rows[:, 0].sum()), float(rows[:, 1].min()), float(rows[:, 2].max())

    def summary(self, now_s: int, window_s: int) -> LatencySummary:
        """Count, min, max, mean and p50/p90/p95/p99/p99.9 over the window."""
        return summarize(*self.window_counts(now_s, window_s))


def summarize(counts: I64, total: float, lo: float, hi: float) -> LatencySummary:
    """Build a `LatencySummary` from merged sketch fields."""
    n = int(counts.sum())
    if n == 0:
        return LatencySummary()
    p50, p90, p95, p99, p999 = quantiles_from_counts(counts, QUANTILES, lo, hi)
    return LatencySummary(
        count=n,
        min_ns=lo,
        max_ns=hi,
        mean_ns=total / n,
        p50_ns=p50,
        p90_ns=p90,
        p95_ns=p95,
        p99_ns=p99,
        p999_ns=p999,
    )
