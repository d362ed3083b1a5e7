"""The metric vocabulary alert rules can name, read from an `Aggregator` once per evaluation.

A rule says `metric = "error_rate"`, `window = "5m"`, `by = "op"`; this module turns that into
one value per instance (per operation here) from the aggregator's windowed rings, the same
numbers the terminal app shows. Each metric has a unit (for annotations), the `by` labels it
can be split by, and a definition of "no data": a value is None (a NaN in the arrays) when the
window holds nothing to compute it from, and a rule never fires on None (absence rules exist
for that). A count over a window that was watched but saw nothing is a real 0, not None.

`MetricReader` is built once per evaluation tick and caches every `(metric, window, by)` it
computes, so a thousand rules over a handful of metrics cost a handful of reads; values come
back as numpy arrays so rules compare all instances at once. The few figures the aggregator
keeps only as a latest value (a worker's CPU, the telemetry drop counter) are sampled once per
tick into a `MetricMemory` (`poolmon.core.alerts.memory`) the engine keeps across ticks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

from poolmon.core import catalog as C
from poolmon.core.alerts.memory import MetricMemory
from poolmon.core.batchview import NS_PER_S
from poolmon.core.counters import OVERFLOW_LABEL
from poolmon.core.distring import DistRing
from poolmon.core.events import TASK_CRASHED, TASK_ERROR, TASK_OK, TASK_TIMEOUT
from poolmon.core.queries import covered_time_s, window_first_s
from poolmon.core.ring import ENTITY_TIERS
from poolmon.core.sketch import N_BUCKETS, QUANTILES, bucket_value

if TYPE_CHECKING:
    from poolmon.core.aggregator import Aggregator

Inst = tuple[tuple[str, str], ...]
"""An instance's split labels: `()` pool-wide, `(("op", "fetch"),)`, `(("worker", "3"),)`."""
F64 = npt.NDArray[np.float64]

MAX_WINDOW_S: Final = 3600
"""The longest window a metric can be read over (the aggregator keeps an hour)."""
ABNORMAL_EXITS: Final = frozenset({"crash", "timeout", "health"})
"""Worker exit reasons counted by `worker_exits`: it died, or was killed for a stuck task or a
failed health check. Recycling, resizing and shutdown are the pool's own decisions."""


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """What a metric is: its unit, the labels it splits by, and whether it counts events.

    Attributes:
        name: The name rules use.
        unit: One of `poolmon.core.alerts.units.UNITS`.
        by: Labels it can be split by (`op`, `worker`); pool-wide is always allowed.
        counting: A count of events: 0 over a watched window means "nothing happened" (absence
            rules treat it like no data).
        help: One line for `poolmon alerts check` and docs/ALERTS.md.
    """

    name: str
    unit: str
    by: tuple[str, ...]
    counting: bool
    help: str


_QUANTILE_NAMES: Final = ("p50", "p90", "p95", "p99", "p999")

METRICS: Final[dict[str, MetricSpec]] = {
    s.name: s
    for s in (
        MetricSpec(
            "error_rate", "ratio", ("op",), False, "failed / finished tasks over the window"
        ),
        *(
            MetricSpec(
                f"latency_{q}", "seconds", ("op",), False, f"task run time, {q} over the window"
            )
            for q in _QUANTILE_NAMES
        ),
        MetricSpec("throughput", "per_second", ("op",), True, "tasks finished per second"),
        MetricSpec("tasks_finished", "tasks", ("op",), True, "tasks that ran to an outcome"),
        MetricSpec(
            "tasks_failed", "tasks", ("op",), True, "tasks that failed (error, timeout, crash)"
        ),
        MetricSpec("queue_depth", "tasks", (), False, "tasks waiting, averaged over the window"),
        MetricSpec("utilization", "ratio", (), False, "busy / size, averaged over the window"),
        MetricSpec("pool_size", "count", (), False, "workers, averaged over the window"),
        MetricSpec("busy", "count", (), False, "busy workers, averaged over the window"),
        MetricSpec(
            "worker_rss_bytes",
            "bytes",
            ("worker",),
            False,
            "resident memory per worker (pool-wide: all workers), mean over the window",
        ),
        MetricSpec(
            "worker_cpu_percent",
            "percent",
            ("worker",),
            False,
            "CPU per worker, % of one core (pool-wide: mean of workers), mean over the window",
        ),
        MetricSpec(
            "worker_exits",
            "count",
            ("worker",),
            True,
            "abnormal worker exits (crash, task timeout kill, failed health check)",
        ),
        MetricSpec(
            "telemetry_dropped",
            "count",
            (),
            True,
            "telemetry events the endpoint dropped (fell behind, or a slow monitor)",
        ),
    )
}
"""Every metric a rule can name."""


@dataclass(slots=True)
class Values:
    """One metric's instances: their label keys and values (NaN = no data), in one array."""

    keys: tuple[Inst, ...]
    vals: F64
    _index: dict[Inst, int] | None = field(default=None, repr=False)

    @property
    def index(self) -> dict[Inst, int]:
        """Instance key -> position (built on first use)."""
        if self._index is None:
            self._index = {k: i for i, k in enumerate(self.keys)}
        return self._index

    def get(self, key: Inst) -> float | None:
        """One instance's value, None when it has no data or does not exist."""
        i = self.index.get(key)
        if i is None:
            return None
        v = float(self.vals[i])
        return None if v != v else v

    @staticmethod
    def scalar(value: float | None) -> Values:
        """A pool-wide value."""
        return Values(((),), np.array([np.nan if value is None else value], dtype=np.float64))


def entity_window(window_s: int) -> int:
    """The window read from per-operation/per-worker rings (10 s slots for the first minute).

    A window of under a minute would often be just the slot in progress, which holds nothing
    yet while the rollups lag; so such windows take one more slot (at most a minute).
    """
    slot, span = ENTITY_TIERS[0]
    return min(slot * span, window_s + slot) if window_s < slot * span else window_s


def _nan(v: float | None) -> float:
    return np.nan if v is None else float(v)


class MetricReader:
    """Reads metrics from an aggregator at one instant, caching each `(metric, window, by)`.

    Args:
        agg: The aggregator to read (not modified).
        now_ns: The evaluation time; windows end with the second containing it.
        memory: Sampled history of latest-only figures, kept by the caller across ticks.
    """

    def __init__(self, agg: Aggregator, now_ns: int, memory: MetricMemory) -> None:
        self.agg = agg
        self.now_ns = now_ns
        self.now_s = now_ns // NS_PER_S
        self.memory = memory
        self._cache: dict[tuple[str, int, str | None], Values] = {}
        self._parts: dict[tuple[str, int], object] = {}

    def read(self, metric: str, window_s: int, by: str | None = None) -> Values:
        """Every instance of `metric` over the last `window_s` seconds, split by `by`.

        Raises:
            KeyError: For a metric not in `METRICS` (rules are validated before this).
        """
        key = (metric, window_s, by)
        got = self._cache.get(key)
        if got is None:
            spec = METRICS[metric]
            if by is not None and by not in spec.by:
                raise ValueError(f"metric {metric!r} cannot be split by {by!r}")
            window_s = max(1, min(MAX_WINDOW_S, window_s))
            got = self._cache[key] = _READERS[metric](self, metric, window_s, by)
        return got

    # ------------------------------------------------------------------ shared parts
    def _part(self, name: str, window_s: int, make: Callable[[], object]) -> object:
        key = (name, window_s)
        got = self._parts.get(key)
        if got is None:
            got = self._parts[key] = make()
        return got

    def covered_s(self, window_s: int) -> float:
        """Seconds of the window the aggregator has data for (0: nothing watched)."""
        agg = self.agg

        def make() -> float:
            first = window_first_s(agg.stats.status, self.now_s, window_s)
            return covered_time_s(agg, first, self.now_ns)

        return float(self._part("cov", window_s, make))  # type: ignore[arg-type]

    def status(self, window_s: int) -> tuple[int, int]:
        """(finished, failed) pool-wide over the window."""

        def make() -> tuple[int, int]:
            s = self.agg.stats.status.window_sum(self.now_s, window_s).tolist()
            finished = s[TASK_OK] + s[TASK_ERROR] + s[TASK_TIMEOUT] + s[TASK_CRASHED]
            return finished, s[TASK_ERROR] + s[TASK_TIMEOUT] + s[TASK_CRASHED]

        return self._part("status", window_s, make)  # type: ignore[return-value]

    def ops(self, window_s: int) -> tuple[tuple[Inst, ...], npt.NDArray[np.int64]]:
        """Known operations' keys and their `(finished, failed)` rows over the window."""

        def make() -> tuple[tuple[Inst, ...], npt.NDArray[np.int64]]:
            counter = self.agg.stats.ops
            block = counter.window_block(self.now_s, window_s)
            names = list(counter.keys.names)
            cols = list(range(len(names)))
            last = counter.keys.max_labels - 1
            if block[last, 0] or counter.totals[last, 0]:
                names.append(OVERFLOW_LABEL)
                cols.append(last)
            keys = tuple((("op", n),) for n in names)
            return keys, block[cols]

        return self._part("ops", window_s, make)  # type: ignore[return-value]

    def gauges(self, window_s: int) -> F64:
        """The pool gauges' `(sum, count)` rows over the window."""

        def make() -> F64:
            return np.asarray(self.agg.gauges.ring.window_sum(self.now_s, window_s), np.float64)

        return self._part("gauges", window_s, make)  # type: ignore[return-value]

    def gauge_mean(self, name: str, window_s: int) -> float | None:
        """One gauge's mean over the window, None without samples."""
        s, n = self.gauges(window_s)[self.agg.gauges.column(name)]
        return float(s / n) if n else None

    def latency(self, window_s: int, by: str | None) -> tuple[tuple[Inst, ...], F64]:
        """Every quantile in `QUANTILES` (seconds) per instance: shape `(instances, 5)`."""

        def make() -> tuple[tuple[Inst, ...], F64]:
            st = self.agg.stats
            rings: list[tuple[Inst, DistRing]]
            if by is None:
                rings = [((), st.latency)]
            else:
                rings = [
                    ((("op", st.ops.keys.name(col)),), ring)
                    for col, ring in sorted(st.op_latency.items())
                ]
            w = window_s if by is None else entity_window(window_s)
            got = [_window_counts(dist, self.now_s, w) for _, dist in rings]
            out = np.full((len(rings), len(QUANTILES)), np.nan)
            have = [i for i, g in enumerate(got) if g is not None]
            if have:
                counts = np.stack([got[i][0] for i in have])  # type: ignore[index]
                lo = np.array([got[i][1] for i in have])  # type: ignore[index]
                hi = np.array([got[i][2] for i in have])  # type: ignore[index]
                out[have] = quantile_rows(counts, lo, hi)
            return tuple(k for k, _ in rings), out / NS_PER_S

        return self._part(f"lat:{by}", window_s, make)  # type: ignore[return-value]


def _window_counts(
    dist: DistRing, now_s: int, window_s: int
) -> tuple[npt.NDArray[np.int64], float, float] | None:
    """`DistRing.window_counts` in one pass: `(counts, min, max)`, None for an empty window.

    The bins and the (sum, min, max) rings are written together (`DistRing.add_counts`), so
    one epoch mask selects both; this skips the second mask and the copy a quantile read
    does not need.
    """
    ring = dist.bins.for_window(window_s)
    mask = ring.window_rows(now_s, window_s)
    if not mask.any():
        return None
    counts = ring.data[mask].sum(axis=0, dtype=np.int64)
    stats = dist.stats.for_window(window_s).data[mask]
    return counts, float(stats[:, 1].min()), float(stats[:, 2].max())


_REP: Final = np.array([bucket_value(b) for b in range(N_BUCKETS)])
_Q: Final = np.array(QUANTILES)


def quantile_rows(counts: npt.NDArray[np.int64], lo: F64, hi: F64) -> F64:
    """`quantiles_from_counts` for many sketches at once: `(rows, buckets)` -> `(rows, 5)`.

    The same nearest-rank definition (`x[floor(q * (n - 1))]`) and the same clamping into
    each row's exact `[lo, hi]`, vectorised over rows (every row must be non-empty).
    """
    used = np.flatnonzero(counts.any(axis=0))
    first = int(used[0])
    counts = counts[:, first : int(used[-1]) + 1]  # cumsum is the cost: skip empty buckets
    rows, width = counts.shape
    flat = np.cumsum(counts.ravel())
    ends = flat[width - 1 :: width]
    n = np.diff(ends, prepend=0)
    base = ends - n  # everything before each row, in the flat cumulative counts
    ranks = np.floor(_Q[None, :] * (n[:, None] - 1)).astype(np.int64) + base[:, None]
    pos = np.searchsorted(flat, ranks.ravel(), side="right").reshape(rows, -1)
    idx = pos - np.arange(rows)[:, None] * width + first
    out: F64 = np.clip(_REP[np.minimum(idx, N_BUCKETS - 1)], lo[:, None], hi[:, None])
    return out


# ---------------------------------------------------------------------------- readers
Reader = Callable[[MetricReader, str, int, str | None], Values]


def _error_rate(r: MetricReader, metric: str, w: int, by: str | None) -> Values:
    if by is None:
        finished, failed = r.status(w)
        return Values.scalar(failed / finished if finished else None)
    keys, block = r.ops(w)
    fin = block[:, 0].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        vals = np.where(fin > 0, block[:, 1] / fin, np.nan)
    return Values(keys, vals)


def _counts(r: MetricReader, metric: str, w: int, by: str | None) -> Values:
    cov = r.covered_s(w)
    field_ = 1 if metric == "tasks_failed" else 0
    if by is None:
        finished, failed = r.status(w)
        n = float(failed if field_ else finished)
        vals = np.array([n])
        keys: tuple[Inst, ...] = ((),)
    else:
        keys, block = r.ops(w)
        vals = block[:, field_].astype(np.float64)
    if metric == "throughput":
        vals = vals / cov if cov else np.full(len(vals), np.nan)
    elif not cov:
        vals = np.full(len(vals), np.nan)
    return Values(keys, vals)


def _latency(r: MetricReader, metric: str, w: int, by: str | None) -> Values:
    keys, table = r.latency(w, by)
    col = _QUANTILE_NAMES.index(metric.removeprefix("latency_"))
    return Values(keys, table[:, col].copy())


_GAUGE_OF: Final = {
    "queue_depth": "queue_depth",
    "utilization": "utilization",
    "pool_size": "size",
    "busy": "busy",
}


def _gauge(r: MetricReader, metric: str, w: int, by: str | None) -> Values:
    return Values.scalar(r.gauge_mean(_GAUGE_OF[metric], w))


def _rss(r: MetricReader, metric: str, w: int, by: str | None) -> Values:
    if by is None:
        return Values.scalar(r.gauge_mean("workers_rss_bytes", w))
    rows = sorted(r.agg.workers.rows.items())
    vals = np.full(len(rows), np.nan)
    w = entity_window(w)
    for i, (_, rec) in enumerate(rows):
        s, n = rec.rss.window_sum(r.now_s, w)
        if n:
            vals[i] = s / n
    return Values(tuple((("worker", str(wid)),) for wid, _ in rows), vals)


def _cpu(r: MetricReader, metric: str, w: int, by: str | None) -> Values:
    mem = r.memory
    mem.sample_cpu(r.now_s, r.agg)
    means = mem.cpu.means(r.now_s, max(w, mem.cpu.interval_s))
    if by is None:
        return Values.scalar(float(np.mean(list(means.values()))) if means else None)
    live = sorted(r.agg.workers.rows)
    return Values(
        tuple((("worker", str(wid)),) for wid in live),
        np.array([means.get(wid, np.nan) for wid in live], dtype=np.float64),
    )


def _exits(r: MetricReader, metric: str, w: int, by: str | None) -> Values:
    since = (r.now_s - w + 1) * NS_PER_S
    rows = sorted(r.agg.workers.rows.items())
    counts = np.array(
        [
            sum(e.at_ns >= since and e.reason in ABNORMAL_EXITS for e in rec.exits)
            for _, rec in rows
        ],
        dtype=np.float64,
    )
    if not r.covered_s(w):
        counts[:] = np.nan
    if by is None:
        return Values.scalar(float(counts.sum()) if r.covered_s(w) else None)
    return Values(tuple((("worker", str(wid)),) for wid, _ in rows), counts)


def _drops(r: MetricReader, metric: str, w: int, by: str | None) -> Values:
    agg = r.agg
    col = agg.event_counts.keys._index.get(C.RESOURCE_INTERNALS)
    reported = col is not None and agg.event_counts.totals[col, 0] > 0
    if not reported and not agg.transport_dropped:
        return Values.scalar(None)
    mem = r.memory
    mem.sample_drops(r.now_s, float(agg.pool_dropped + agg.transport_dropped))
    start = mem.drops[0][1]
    for t, cum in mem.drops:
        if t > r.now_s - w:
            break
        start = cum
    return Values.scalar(mem.drops[-1][1] - start)


_READERS: Final[dict[str, Reader]] = {
    "error_rate": _error_rate,
    "throughput": _counts,
    "tasks_finished": _counts,
    "tasks_failed": _counts,
    **{f"latency_{q}": _latency for q in _QUANTILE_NAMES},
    **dict.fromkeys(_GAUGE_OF, _gauge),
    "worker_rss_bytes": _rss,
    "worker_cpu_percent": _cpu,
    "worker_exits": _exits,
    "telemetry_dropped": _drops,
}
