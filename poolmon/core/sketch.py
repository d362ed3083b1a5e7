"""Log-bucket latency sketch: percentiles with relative error <= 1 %, mergeable by addition.

Why log buckets: a duration is only interesting to about 1 % (is p99 10.0 ms or 10.1 ms?), and
a fixed set of geometric buckets gives exactly that guarantee for every value at every
quantile (the DDSketch argument), costs one `log` per value, needs fixed memory, and merges
by adding count vectors, so a window of N slots is just the sum of N vectors. Lists of raw
latencies (the seed design) grow without bound; t-digest has no hard error bound.

The scheme, shared by the aggregator, the per-second rollups the endpoint keeps as history,
and the latency histogram widget:

* relative accuracy `ALPHA = 0.01`, growth `GAMMA = (1 + ALPHA) / (1 - ALPHA)` (about 1.0202);
* bucket 0 holds every value <= `MIN_NS` (100 ns), bucket `b >= 1` holds
  `(MIN_NS * GAMMA**(b-1), MIN_NS * GAMMA**b]`;
* `N_BUCKETS = 1280` buckets reach `MIN_NS * GAMMA**1279`, about 3.6 hours; longer values are
  clamped into the last bucket;
* a bucket is represented by `2 * MIN_NS * GAMMA**b / (GAMMA + 1)`, within `ALPHA` of any value
  in it. Estimates are then clamped into the exact `[min, max]` kept beside the counts, which
  makes constant data exact and keeps bucket 0 and the overflow bucket honest.

Quantile rank follows numpy's "lower" definition (not nearest-rank, which is
`x[ceil(q * n) - 1]`): the estimate for q is within 1 % of the order statistic
`x[floor(q * (n - 1))]`, i.e. `numpy.percentile(..., method="lower")`. With few values a high
percentile is just one of them (with 2 values, p99 is the smaller one), so the app shows the
values themselves below `poolmon.widgets._format.FEW_VALUES` (see docs/METRICS.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

ALPHA: Final = 0.01
"""Relative accuracy of every quantile estimate."""
GAMMA: Final = (1 + ALPHA) / (1 - ALPHA)
"""Ratio between consecutive bucket bounds."""
MIN_NS: Final = 100
"""Upper bound of bucket 0; smaller durations (and zero) are counted there."""
N_BUCKETS: Final = 1280
"""Buckets per sketch: covers 100 ns .. about 3.6 h at 1 %."""

_LN_GAMMA: Final = math.log(GAMMA)
_INV_LN_GAMMA: Final = 1.0 / _LN_GAMMA
_LN_MIN: Final = math.log(MIN_NS)

QUANTILES: Final[tuple[float, ...]] = (0.5, 0.9, 0.95, 0.99, 0.999)
"""The quantiles every summary reports (p50, p90, p95, p99, p99.9)."""

Counts = npt.NDArray[np.int64]


def bucket_of(value_ns: float) -> int:
    """Bucket index of one duration (the scalar path; the batch path is `buckets_of`)."""
    if value_ns <= MIN_NS:
        return 0
    b = math.ceil((math.log(value_ns) - _LN_MIN) * _INV_LN_GAMMA)
    return min(max(b, 0), N_BUCKETS - 1)


def buckets_of(values_ns: npt.NDArray[np.int64]) -> npt.NDArray[np.intp]:
    """Bucket index of every duration in an int64 array, vectorised (~5 ns a value).

    Values <= MIN_NS (including 0 and negative clock artefacts) land in bucket 0.
    """
    f = np.maximum(values_ns, MIN_NS).astype(np.float64)
    np.log(f, out=f)
    f -= _LN_MIN
    f *= _INV_LN_GAMMA
    np.ceil(f, out=f)
    b = f.astype(np.intp)
    np.minimum(b, N_BUCKETS - 1, out=b)
    return b


def bucket_value(b: int) -> float:
    """The representative value of bucket `b` (within ALPHA of anything in it)."""
    if b <= 0:
        return float(MIN_NS)
    return 2.0 * MIN_NS * GAMMA**b / (GAMMA + 1.0)


def bucket_edges() -> npt.NDArray[np.float64]:
    """Bucket bounds: bucket b covers `(edges[b], edges[b + 1]]` (edges[0] is 0)."""
    edges = MIN_NS * GAMMA ** np.arange(-1, N_BUCKETS, dtype=np.float64)
    edges[0] = 0.0
    return edges


_REPRESENTATIVE: Final = np.array([bucket_value(b) for b in range(N_BUCKETS)])


def quantiles_from_counts(
    counts: Counts,
    qs: Sequence[float],
    lo: float,
    hi: float,
) -> list[float | None]:
    """Estimate quantiles from bucket counts, clamped into the exact `[lo, hi]`.

    Returns None for every quantile when the counts are empty.
    """
    cum = np.cumsum(counts)
    n = int(cum[-1]) if len(cum) else 0
    if n == 0:
        return [None for _ in qs]
    ranks = np.array([math.floor(q * (n - 1)) for q in qs], dtype=np.int64)
    idx = np.searchsorted(cum, ranks, side="right")
    out: list[float | None] = []
    for b in idx.tolist():
        # Bucket 0 holds everything from 0 to 100 ns: its only honest value is the exact min
        # (a queue wait of 0 reads 0, not the bucket's 100 ns bound).
        v = max(lo, 0.0) if b == 0 else float(_REPRESENTATIVE[min(b, N_BUCKETS - 1)])
        out.append(min(max(v, lo), hi))
    return out


class LogSketch:
    """One distribution: bucket counts plus exact count, sum, min and max.

    Mutable and cheap to merge; used for building summaries and for the per-window merged
    views. Ring buffers of slots store the same fields column-wise (see `poolmon.core.ring`).
    """

    __slots__ = ("counts", "max", "min", "total")

    def __init__(self) -> None:
        self.counts: Counts = np.zeros(N_BUCKETS, dtype=np.int64)
        self.total = 0.0
        self.min = math.inf
        self.max = -math.inf

    @property
    def count(self) -> int:
        """Number of values recorded."""
        return int(self.counts.sum())

    def add(self, value_ns: float) -> None:
        """Record one value (slow path, for tests and odd events)."""
        self.counts[bucket_of(value_ns)] += 1
        self.total += value_ns
        self.min = min(self.min, value_ns)
        self.max = max(self.max, value_ns)

    def add_many(self, values_ns: npt.NDArray[np.int64]) -> None:
        """Record a batch of values with numpy."""
        if len(values_ns) == 0:
            return
        self.counts += np.bincount(buckets_of(values_ns), minlength=N_BUCKETS)
        self.total += float(values_ns.sum(dtype=np.float64))
        self.min = min(self.min, float(values_ns.min()))
        self.max = max(self.max, float(values_ns.max()))

    def merge(self, other: LogSketch) -> None:
        """Add another sketch's values into this one (exact: same buckets)."""
        self.counts += other.counts
        self.total += other.total
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)

    def quantiles(self, qs: Sequence[float] = QUANTILES) -> list[float | None]:
        """Estimated quantiles (None when empty)."""
        return quantiles_from_counts(self.counts, qs, self.min, self.max)
