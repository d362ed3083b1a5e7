"""How each alert metric is computed from the aggregator: one reader function per metric.

`MetricReader.read` (in `poolmon.core.alerts.metrics`) looks a metric up in `READERS` and
caches what it returns; each reader turns the reader's shared, cached parts (window sums,
per-operation blocks, latency tables) into a `Values`. `quantile_rows` computes the latency
quantiles of many sketches at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

from poolmon.core import catalog as C
from poolmon.core.alerts.values import F64, QUANTILE_NAMES, Inst, Values, entity_window
from poolmon.core.batchview import NS_PER_S
from poolmon.core.distring import DistRing
from poolmon.core.sketch import N_BUCKETS, QUANTILES, bucket_value

if TYPE_CHECKING:
    from poolmon.core.alerts.metrics import MetricReader
    from poolmon.core.workers import WorkerRecord

ABNORMAL_EXITS: Final = frozenset({"crash", "timeout", "health"})
"""Worker exit reasons counted by `worker_exits`: it died, or was killed for a stuck task or a
failed health check. Recycling, resizing and shutdown are the pool's own decisions."""


def window_counts(
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

    The same "lower" definition (`x[floor(q * (n - 1))]`) and the same clamping into
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
Reader = Callable[["MetricReader", str, int, str | None], Values]
"""A metric's reader: `(reader, metric, window_s, by) -> Values`."""


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
    col = QUANTILE_NAMES.index(metric.removeprefix("latency_"))
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
    if by == "slot":
        keys, counts = _slot_exits(rows, since)
    else:
        keys = tuple((("worker", str(wid)),) for wid, _ in rows)
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
    return Values(keys, counts)


def slot_label(slot: int | None, worker_id: int) -> str:
    """The `slot` label of an exit: the pool's slot, or `w<worker id>` when it is unknown.

    A poolmon pool gives every replacement a new worker id, so a crash loop shows only per
    slot. An exit whose slot is unknown (a pool or recording from before exits and spawns
    carried it) counts for its worker alone, as it did when exits were counted per worker.
    """
    return str(slot) if slot is not None else f"w{worker_id}"


def _slot_exits(
    rows: list[tuple[int, WorkerRecord]], since_ns: int
) -> tuple[tuple[Inst, ...], F64]:
    """Abnormal exits since `since_ns` per slot (every slot the table knows, 0s included)."""
    counts: dict[tuple[int, int], int] = {}  # (0, slot) or, slot unknown, (1, worker id)
    for wid, rec in rows:
        own = (0, rec.slot) if rec.slot is not None else (1, wid)
        counts.setdefault(own, 0)
        for e in rec.exits:
            if e.at_ns >= since_ns and e.reason in ABNORMAL_EXITS:
                key = (0, e.slot) if e.slot is not None else own
                counts[key] = counts.get(key, 0) + 1
    order = sorted(counts)
    keys = tuple((("slot", slot_label(n if known == 0 else None, n)),) for known, n in order)
    return keys, np.array([counts[k] for k in order], dtype=np.float64)


def _drops(r: MetricReader, metric: str, w: int, by: str | None) -> Values:
    agg = r.agg
    reported = agg.event_counts.count(C.RESOURCE_INTERNALS) > 0
    if not reported and not agg.transport_dropped:
        return Values.scalar(None)
    mem = r.memory
    mem.sample_drops(r.now_s, float(agg.pool_dropped + agg.transport_dropped))
    return Values.scalar(mem.drops.increase(r.now_s, w))


READERS: Final[dict[str, Reader]] = {
    "error_rate": _error_rate,
    "throughput": _counts,
    "tasks_finished": _counts,
    "tasks_failed": _counts,
    **{f"latency_{q}": _latency for q in QUANTILE_NAMES},
    **dict.fromkeys(_GAUGE_OF, _gauge),
    "worker_rss_bytes": _rss,
    "worker_cpu_percent": _cpu,
    "worker_exits": _exits,
    "telemetry_dropped": _drops,
}
