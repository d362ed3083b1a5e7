"""One metric as a time series over any range: the aggregator's `series()` read.

Why apart from queries.py: every chart and the fleet summary read a metric by its name
(docs/METRICS.md) at a chosen step; this is the one place that maps a name to the ring it
lives in (status counts, latency or queue-wait bins, error types, gauges) and turns slots into
rates, ratios, means or quantiles, with `None` where the monitor has no data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from poolmon.core import series as S
from poolmon.core.batchview import NS_PER_S
from poolmon.core.errors import ConfigError
from poolmon.core.events import TASK_CANCELLED, TASK_CRASHED, TASK_ERROR, TASK_OK, TASK_TIMEOUT
from poolmon.core.snapshot import Series

if TYPE_CHECKING:
    from poolmon.core.aggregator import Aggregator

QUANTILE_METRICS = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p999": 0.999}
"""The quantile suffixes a `latency_*` or `queue_wait_*` metric name may end with."""


def complete_slots(agg: Aggregator, metric: str, first_s: int, now_s: int, step: int) -> Series:
    """A window's series up to the last complete slot (the slot in progress is left out)."""
    end_s = max(now_s - now_s % step, first_s + step)
    return series(agg, metric, first_s * NS_PER_S, end_s * NS_PER_S, step)


def series(agg: Aggregator, metric: str, start_ns: int, end_ns: int, step_s: int) -> Series:
    """One metric over a range (see `poolmon.core.series`; metric names in docs/METRICS.md)."""
    now_s = agg.now_ns() // NS_PER_S
    st = agg.stats
    grid = S.grid_for(st.status, int(start_ns), int(end_ns), int(step_s), now_s)
    cov = S.covered(agg.coverage, grid)
    values: list[float | None]
    if metric in ("throughput", "failed", "error_rate", "cancelled"):
        s = S.point_rows(st.status, grid)
        finished = s[:, TASK_OK] + s[:, TASK_ERROR] + s[:, TASK_TIMEOUT] + s[:, TASK_CRASHED]
        bad = s[:, TASK_ERROR] + s[:, TASK_TIMEOUT] + s[:, TASK_CRASHED]
        if metric == "throughput":
            values = S.rates(finished, cov)
        elif metric == "failed":
            values = S.rates(bad, cov)
        elif metric == "cancelled":
            values = S.rates(s[:, TASK_CANCELLED], cov)
        else:
            values = S.ratios(bad, finished, cov)
    elif metric.startswith(("latency_", "queue_wait_")):
        dist = st.latency if metric.startswith("latency_") else st.wait
        stat = metric.rsplit("_", 1)[1]
        bins = S.point_rows(dist.bins, grid)
        n = bins.sum(axis=1)
        if stat == "mean":
            values = S.means(S.point_rows(dist.stats, grid)[:, 0], n)
        elif stat in QUANTILE_METRICS:
            lo = S.point_rows(dist.stats, grid, "min")[:, 1]
            hi = S.point_rows(dist.stats, grid, "max")[:, 2]
            values = S.quantile_points(bins, lo, hi, QUANTILE_METRICS[stat])
        else:
            raise ConfigError(f"unknown latency statistic {stat!r} in {metric!r}")
    elif metric.startswith("errors:"):
        keys = st.errors.keys
        col = keys._index.get(metric[len("errors:") :])
        if col is None:
            values = [0.0 if c else None for c in cov]
        else:
            values = S.rates(S.point_rows(st.errors.ring, grid)[:, col, 0], cov)
    elif metric in agg.gauges.names:
        rows = S.point_rows(agg.gauges.ring, grid)
        values = agg.gauges.means(rows, metric)
    else:
        raise ConfigError(f"unknown metric {metric!r} (see docs/METRICS.md for the names)")
    return Series(grid.start_ns, grid.step_s * NS_PER_S, tuple(values))
