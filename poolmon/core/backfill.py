"""Replaying a history rollup into the aggregator's windows, as if its tasks had arrived live.

A rollup carries the same bucket counts the live path computes, so it lands in the same
slots: pool-wide duration and wait sketches, status counts, per-operation counts and sketches,
error types, and per-worker counts (rollups carry no per-worker latency histograms, so a
worker's latency after a backfill reflects live tasks only). The watermark check that prevents
double counting is in `Aggregator.ingest_rollup`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from poolmon.core.distring import DistRing
from poolmon.core.ring import ENTITY_TIERS
from poolmon.core.rollup import Rollup

if TYPE_CHECKING:
    from poolmon.core.aggregator import Aggregator


def apply_rollup(agg: Aggregator, second: int, r: Rollup, now_ns: int) -> None:
    """Add one rollup's counts into every windowed statistic of `agg`."""
    st = agg.stats
    status = np.asarray(r.by_status, dtype=np.int64)
    st.status.add(second, status)
    st.status_totals += status
    if r.duration.count:
        d = r.duration
        st.latency.add_counts(second, d.dense(), d.sum_ns, d.min_ns, d.max_ns)
    if r.wait.count:
        w = r.wait
        st.wait.add_counts(second, w.dense(), w.sum_ns, w.min_ns, w.max_ns)
    block = np.zeros((st.ops.keys.max_labels, 2), dtype=np.int64)
    for op in r.by_op:
        col = st.ops.keys.column(op.name)
        block[col] += (op.count, op.failed)
        if op.duration.count:
            ring = st.op_latency.get(col)
            if ring is None:
                ring = st.op_latency[col] = DistRing(ENTITY_TIERS)
            h = op.duration
            ring.add_counts(second, h.dense(), h.sum_ns, h.min_ns, h.max_ns)
    if block.any():
        st.ops.add(second, block)
    st.op_totals.ingest_rollup(r)
    for name, n in r.by_error_type:
        st.errors.inc(second, name, n)
    for wid, done, failed in r.by_worker:
        if wid < 0:
            continue
        rec = agg.workers.get(wid, now_ns)
        rec.tasks_done += done
        rec.tasks_failed += failed
        rec.counts.add(second, np.array([done, failed], dtype=np.int64))
