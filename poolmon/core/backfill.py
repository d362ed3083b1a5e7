"""Replaying a history rollup into the aggregator's windows: only what the monitor lacks.

A rollup carries the same bucket counts the live path computes, so it lands in the same
slots: pool-wide duration and wait sketches, status counts, per-operation counts and sketches,
error types, and per-worker counts (rollups carry no per-worker latency histograms, so a
worker's latency after a backfill reflects live tasks only).

What is added is `rollup - what this second already holds` (`poolmon.core.tally`): nothing for
a second counted in full live, the missed part for a second the monitor saw only until its
connection dropped, everything for a second it never saw. The difference may be negative where
the pool counted a late row in a later second; it is applied as it is, so the totals come out
exact. `Aggregator.ingest_rollup` decides which rollups are looked at at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from poolmon.core.distring import DistRing
from poolmon.core.op_totals import rollup_fail_status
from poolmon.core.ring import ENTITY_TIERS
from poolmon.core.rollup import Hist, Rollup
from poolmon.core.tally import I64, OpCount, SecondCount

if TYPE_CHECKING:
    from poolmon.core.aggregator import Aggregator


def rollup_count(agg: Aggregator, r: Rollup) -> SecondCount:
    """The rollup in the aggregator's columns (what the second holds once it is applied)."""
    st = agg.stats
    out = SecondCount()
    out.status += np.asarray(r.by_status, dtype=np.int64)
    out.duration += r.duration.dense()
    out.duration_sum_ns = r.duration.sum_ns
    out.wait += r.wait.dense()
    out.wait_sum_ns = r.wait.sum_ns
    for op in r.by_op:
        oc = out.op(st.ops.keys.column(op.name))
        oc.count += op.count
        oc.failed += op.failed
        if op.fails is not None:
            oc.timeouts += op.fails[0]
            oc.crashes += op.fails[1]
        oc.buckets += op.duration.dense()
        oc.sum_ns += op.duration.sum_ns
    for name, n in r.by_error_type:
        col = st.errors.keys.column(name)
        out.errors[col] = out.errors.get(col, 0) + n
    for wid, done, failed in r.by_worker:
        if wid >= 0:
            out.add_worker(wid, done, failed)
    return out


def _bounds(h: Hist) -> tuple[float, float]:
    """A histogram's exact (min, max), or the empty fold values when it holds nothing."""
    return (float(h.min_ns), float(h.max_ns)) if h.count else (float("inf"), float("-inf"))


def _add_dist(ring: DistRing, second: int, counts: I64, total: float, h: Hist) -> None:
    if counts.any() or h.count:
        ring.add_counts(second, counts, total, *_bounds(h))


def apply_rollup(agg: Aggregator, second: int, r: Rollup, now_ns: int) -> int:
    """Add what `r` holds beyond what `second` already holds; returns the rows added.

    Returns the number of rows (every status) the rollup held beyond what was counted, which
    is negative when the pool counted one of this second's rows in a later second.
    """
    st = agg.stats
    theirs = rollup_count(agg, r)
    mine = st.tally.seconds.get(second) or SecondCount()
    status = theirs.status - mine.status
    if status.any():
        st.status.add(second, status)
        st.status_totals += status
    _add_dist(
        st.latency,
        second,
        theirs.duration - mine.duration,
        theirs.duration_sum_ns - mine.duration_sum_ns,
        r.duration,
    )
    _add_dist(
        st.wait, second, theirs.wait - mine.wait, theirs.wait_sum_ns - mine.wait_sum_ns, r.wait
    )
    _apply_ops(agg, second, r, theirs, mine)
    for col in theirs.errors.keys() | mine.errors.keys():
        n = theirs.errors.get(col, 0) - mine.errors.get(col, 0)
        if n:
            st.errors.ring.add_at(second, (col, 0), n)
            st.errors.totals[col, 0] += n
    for wid in theirs.workers.keys() | mine.workers.keys():
        t, m = theirs.workers.get(wid, (0, 0)), mine.workers.get(wid, (0, 0))
        done, failed = t[0] - m[0], t[1] - m[1]
        if done or failed:
            rec = agg.workers.get(wid, now_ns)
            rec.tasks_done += done
            rec.tasks_failed += failed
            rec.counts.add(second, np.array([done, failed], dtype=np.int64))
    st.tally.replace(second, theirs)
    return int(status.sum())


def _apply_ops(
    agg: Aggregator, second: int, r: Rollup, theirs: SecondCount, mine: SecondCount
) -> None:
    st = agg.stats
    block = np.zeros((st.ops.keys.max_labels, 2), dtype=np.int64)
    hists = {st.ops.keys.column(op.name): op.duration for op in r.by_op}
    fails = {st.ops.keys.column(op.name): op.fails for op in r.by_op}
    none = OpCount()
    fail_status = rollup_fail_status(r)
    for col in theirs.ops.keys() | mine.ops.keys():
        t, m = theirs.ops.get(col, none), mine.ops.get(col, none)
        block[col] += (t.count - m.count, t.failed - m.failed)
        counts = t.buckets - m.buckets
        # The Prometheus export's since-attach totals get the same difference; they hold a
        # negative one back so exported counters never go down (poolmon.core.op_totals).
        # The failures' kinds are the rollup's split minus what this second held of each kind
        # (exact: held rows know their kind); only an older pool's rollup has no split.
        split = col not in fails or fails[col] is not None
        st.op_totals.add_counts(
            st.ops.keys.name(col), t.count - m.count, t.failed - m.failed, fail_status,
            counts, t.sum_ns - m.sum_ns,
            (t.timeouts - m.timeouts, t.crashes - m.crashes) if split else None,
        )  # fmt: skip
        if counts.any():
            ring = st.op_latency.get(col)
            if ring is None:
                ring = st.op_latency[col] = DistRing(ENTITY_TIERS)
            _add_dist(ring, second, counts, t.sum_ns - m.sum_ns, hists.get(col, Hist()))
    if block.any():
        st.ops.add(second, block)
        st.op_counts.add(second, block)
