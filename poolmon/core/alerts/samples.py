"""Per-rule sample history for rate and anomaly rules: a row per sample, a column per instance.

A rate rule needs a metric's values over its `span` to fit a slope; an anomaly rule needs them
over its `baseline` to know what is normal. The aggregator keeps an hour of windows, but not
"the 1-minute p99 of operation X, as it was every 15 s", so each such rule keeps its own
samples here: a fixed ring of at most `MAX_ROWS` rows (sampling every `span / MAX_ROWS` s or
more rarely), columns added as instances appear. Everything is computed for all instances at
once with numpy (masked sums, nanmedian), which is what keeps a tick cheap with 64 workers.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, Final, TypeVar

import numpy as np
import numpy.typing as npt

from poolmon.core.alerts.metrics import Inst, Values

F64 = npt.NDArray[np.float64]
T = TypeVar("T")
MAX_ROWS: Final = 240
"""Samples kept per rule (per instance): enough for a slope or a median, cheap to scan."""
MAX_COLS: Final = 4096
"""Instances tracked per rule at once; a new one reuses a column that has gone silent first."""


class SampleMatrix:
    """Samples of every instance of one metric at the same instants (see module doc).

    Args:
        horizon_s: How far back samples are needed (span, or baseline plus window).
    """

    def __init__(self, horizon_s: int) -> None:
        self.interval_s = max(1, -(-horizon_s // MAX_ROWS))
        self.rows = min(MAX_ROWS, -(-horizon_s // self.interval_s)) + 2
        self.times: F64 = np.full(self.rows, np.nan)
        self.data: F64 = np.full((self.rows, 8), np.nan)
        self.cols: dict[Inst, int] = {}
        self._pos = 0
        self._last: int | None = None
        self.version = 0
        """Bumped at every new sample (callers cache what they derive from the samples)."""
        self._keys: tuple[Inst, ...] | None = None
        self._memo: dict[tuple[object, ...], tuple[int, Any]] = {}
        self._cols: npt.NDArray[np.intp] = np.zeros(0, dtype=np.intp)

    def add(self, now_s: int, values: Values) -> bool:
        """Store `values` as the sample at `now_s` if the interval has passed; True if stored.

        After the wall clock went back, samples "from the future" are dropped, as the
        aggregator drops its future slots, so sampling carries on at once.
        """
        if self._last is not None and now_s < self._last:
            future = self.times > now_s
            self.times[future] = np.nan
            self.data[future] = np.nan
            self._last = None
            self.version += 1
        if self._last is not None and now_s - self._last < self.interval_s:
            return False
        self._last = now_s
        free = self._silent(values.keys) if self._needs_room(values.keys) else []
        cols = np.array([self._column(k, free) for k in values.keys], dtype=np.intp)
        row = self._pos
        self._pos = (self._pos + 1) % self.rows
        self.times[row] = now_s
        self.data[row] = np.nan
        ok = cols >= 0
        self.data[row, cols[ok]] = values.vals[ok]
        self.version += 1
        return True

    def _needs_room(self, keys: tuple[Inst, ...]) -> bool:
        return len(self.cols) >= self.data.shape[1] and any(k not in self.cols for k in keys)

    def _silent(self, keys: tuple[Inst, ...]) -> list[int]:
        """Columns with no sample left in the ring, except those of `keys` (sampled now).

        A silent column's instance has gone (a replaced worker), so its column can be reused.
        """
        busy = {c for k in keys if (c := self.cols.get(k)) is not None}
        silent = np.flatnonzero(~np.isfinite(self.data).any(axis=0)).tolist()
        return [c for c in silent if c not in busy]

    def _column(self, key: Inst, free: list[int]) -> int:
        """The column of `key`: a new one while there is room, else a silent one, else grow.

        Reusing silent columns before growing keeps the matrix at about the live instances:
        a pool gives every replacement worker a new id, so growing first would add a column
        per restart until `MAX_COLS` (~7.5 MiB per per-worker rule).
        """
        col = self.cols.get(key)
        if col is not None:
            return col
        if len(self.cols) < self.data.shape[1]:
            col = len(self.cols)
        elif free:
            col = free.pop(0)
            self.cols = {k: c for k, c in self.cols.items() if c != col}
        elif self.data.shape[1] < MAX_COLS:
            grown = np.full((self.rows, min(MAX_COLS, self.data.shape[1] * 2)), np.nan)
            grown[:, : self.data.shape[1]] = self.data
            self.data = grown
            col = len(self.cols)
        else:
            return -1
        self.cols[key] = col
        self._keys = None
        return col

    def memo(self, key: tuple[object, ...], make: Callable[[], T]) -> T:
        """`make()` computed once per sample (rules sharing these samples share the result)."""
        got = self._memo.get(key)
        if got is None or got[0] != self.version:
            got = self._memo[key] = (self.version, make())
        return got[1]

    def between(self, first_s: float, last_s: float) -> tuple[F64, F64]:
        """`(times, data)` of the samples taken in `[first_s, last_s]` (column order kept)."""
        mask = (self.times >= first_s) & (self.times <= last_s)
        return self.times[mask], self.data[mask]

    def column_values(self, keys: tuple[Inst, ...], per_col: F64) -> F64:
        """`per_col` (one figure per column) picked out for `keys` (NaN for unknown ones)."""
        if keys != self._keys:
            self._keys = keys
            self._cols = np.array([self.cols.get(k, -1) for k in keys], dtype=np.intp)
        cols = self._cols
        ok = (cols >= 0) & (cols < len(per_col))
        out = np.full(len(keys), np.nan)
        out[ok] = per_col[cols[ok]]
        return out


def slopes(times: F64, data: F64, min_points: int, min_span_s: float) -> tuple[F64, F64]:
    """Least-squares slope (per second) and mean level of every column.

    NaN where a column has fewer than `min_points` samples or they span less than
    `min_span_s` (not enough history yet: warming up).
    """
    cols = data.shape[1]
    if len(times) == 0:
        return np.full(cols, np.nan), np.full(cols, np.nan)
    m = np.isfinite(data)
    n = m.sum(axis=0)
    t = np.broadcast_to(times[:, None], data.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        tbar = np.where(m, t, 0.0).sum(axis=0) / n
        vbar = np.where(m, data, 0.0).sum(axis=0) / n
        dt = np.where(m, t - tbar, 0.0)
        dv = np.where(m, data - vbar, 0.0)
        slope = (dt * dv).sum(axis=0) / (dt * dt).sum(axis=0)
    tmin = np.where(m, t, np.inf).min(axis=0)
    tmax = np.where(m, t, -np.inf).max(axis=0)
    bad = (n < min_points) | (tmax - tmin < min_span_s)
    slope[bad] = np.nan
    vbar[bad] = np.nan
    return slope, vbar


def robust_baseline(times: F64, data: F64, min_points: int, min_span_s: float) -> tuple[F64, F64]:
    """Median and MAD (median absolute deviation) of every column's samples.

    NaN where a column has fewer than `min_points` samples or they span less than
    `min_span_s` (the warm-up).
    """
    cols = data.shape[1]
    if len(times) == 0:
        return np.full(cols, np.nan), np.full(cols, np.nan)
    m = np.isfinite(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(data, axis=0)
        mad = np.nanmedian(np.abs(data - med), axis=0)
    t = np.broadcast_to(times[:, None], data.shape)
    span = np.where(m, t, -np.inf).max(axis=0) - np.where(m, t, np.inf).min(axis=0)
    bad = (m.sum(axis=0) < min_points) | (span < min_span_s)
    med[bad] = np.nan
    mad[bad] = np.nan
    return med, mad
