"""Range queries: turn ring slots into evenly spaced `Series` points, with gaps as None.

A range `[start, end)` at `step_s` is read from the finest tier that still holds `start` and
whose slot width divides the step; when the step is finer than what is kept for that age, the
step is widened to the tier's slot width (the returned `Series.step_ns` says which). Points are
aligned to the slot grid. A point is None when none of its seconds is covered (see
`poolmon.core.coverage`) or, for ratios, percentiles and gauges, when it has no sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from poolmon.core.batchview import NS_PER_S
from poolmon.core.coverage import Coverage
from poolmon.core.errors import ConfigError
from poolmon.core.ring import Tiers
from poolmon.core.sketch import quantiles_from_counts

MAX_POINTS = 10_000
"""Largest series a query may ask for."""


@dataclass(frozen=True, slots=True)
class Grid:
    """Where a range query reads: which tier, first point's second, step, point count."""

    tier: int
    first_s: int
    step_s: int
    n_points: int

    @property
    def start_ns(self) -> int:
        """Wall-clock start of the first point."""
        return self.first_s * NS_PER_S


def grid_for(tiers: Tiers, start_ns: int, end_ns: int, step_s: int, now_s: int) -> Grid:
    """Choose the tier and point grid for a range (ConfigError on a malformed range)."""
    if step_s < 1:
        raise ConfigError(f"step_s must be >= 1, got {step_s}")
    if end_ns <= start_ns:
        raise ConfigError(f"a range must end after it starts ({start_ns} .. {end_ns})")
    start_s = start_ns // NS_PER_S
    end_s = -(-end_ns // NS_PER_S)
    ring = tiers.for_range(start_s, now_s, step_s)
    tier = tiers.rings.index(ring)
    step = -(-step_s // ring.slot_s) * ring.slot_s
    first = start_s - start_s % ring.slot_s
    n = max(1, -(-(end_s - first) // step))
    if n > MAX_POINTS:
        raise ConfigError(f"a range of {n} points is too long (at most {MAX_POINTS})")
    return Grid(tier, first, step, n)


def point_rows(tiers: Tiers, grid: Grid, how: str = "sum") -> npt.NDArray[Any]:
    """Per-point rows: slots summed (or min/max-reduced) within each point."""
    ring = tiers.rings[grid.tier]
    per = grid.step_s // ring.slot_s
    data, _held = ring.slot_values(grid.first_s // ring.slot_s, grid.n_points * per)
    shaped = data.reshape(grid.n_points, per, *data.shape[1:])
    if how == "min":
        return np.asarray(shaped.min(axis=1))
    if how == "max":
        return np.asarray(shaped.max(axis=1))
    return np.asarray(shaped.sum(axis=1))


def covered(coverage: Coverage, grid: Grid) -> list[int]:
    """Covered seconds in each point."""
    return [
        coverage.covered_count(
            grid.first_s + i * grid.step_s, grid.first_s + (i + 1) * grid.step_s - 1
        )
        for i in range(grid.n_points)
    ]


def rates(counts: npt.NDArray[Any], cov: list[int]) -> list[float | None]:
    """Count per covered second, None where nothing is covered."""
    return [float(c) / s if s else None for c, s in zip(counts.tolist(), cov, strict=True)]


def ratios(num: npt.NDArray[Any], den: npt.NDArray[Any], cov: list[int]) -> list[float | None]:
    """Num / den per point, None where den is 0 or nothing is covered."""
    return [
        float(a) / b if b and s else None
        for a, b, s in zip(num.tolist(), den.tolist(), cov, strict=True)
    ]


def quantile_points(
    bins: npt.NDArray[Any],
    lo: npt.NDArray[Any],
    hi: npt.NDArray[Any],
    q: float,
) -> list[float | None]:
    """One quantile per point from per-point merged bucket counts."""
    return [
        quantiles_from_counts(bins[i].astype(np.int64), (q,), float(lo[i]), float(hi[i]))[0]
        for i in range(len(bins))
    ]


def means(sums: npt.NDArray[Any], counts: npt.NDArray[Any]) -> list[float | None]:
    """Sum / count per point, None where count is 0."""
    return [
        float(s) / c if c else None for s, c in zip(sums.tolist(), counts.tolist(), strict=True)
    ]
