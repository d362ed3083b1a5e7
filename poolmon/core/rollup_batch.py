"""Folding a whole ROLLUPS frame into the aggregator at once, exactly as rollup by rollup.

Why: an attaching monitor receives 15 minutes of history as 900 per-second rollups. Applied
one at a time (`Aggregator.ingest_rollup`), each costs ~25 small numpy writes (status, two
pool-wide sketches, per-operation counters and sketches, error types, 16 per-worker series)
and a `Rollup` of Python tuples first: about half a second of the attach. But a second the
monitor never saw needs no difference against what it holds (`poolmon.core.backfill`): its
rollup is added whole. So the frame is read into columns (`poolmon.core.rollup_cols`) and its
*fresh* seconds are written into each tier with a few numpy calls for all of them
(`poolmon.core.tier_fold`: the 10-s and 60-s slots get per-slot sums, the 1-s tier only the
last minute, as the per-second writes would leave it).

Exactly the same numbers as one by one, by construction:
* seconds older than the tally (`SecondTally.remembers`) are ignored, and seconds the tally
  holds (a reconnect: the monitor counted part of them live) go through `ingest_rollup`
  itself, in their place in the sequence; only the others are folded in bulk;
* label columns, operation sketches and worker rows are created in the order the rollups
  name them, and what the tally must remember of the last seconds is recorded as they would;
* a frame whose seconds are not strictly ascending is applied rollup by rollup, and so is
  a small one (`FOLD_MIN_ROLLUPS`), where that is cheaper.
tests/aggregator/test_rollup_batch.py checks every counter, sketch and series both ways.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from poolmon.core.batchview import NS_PER_S
from poolmon.core.distring import DistRing
from poolmon.core.events import TASK_CANCELLED, TASK_CRASHED, TASK_ERROR, TASK_OK, TASK_TIMEOUT
from poolmon.core.op_totals import FAILED_STATUS, STATUSES
from poolmon.core.ring import ENTITY_TIERS
from poolmon.core.rollup import Rollup
from poolmon.core.rollup_batch_workers import fold_workers
from poolmon.core.rollup_cols import Hists, RollupCols, rollup_cols
from poolmon.core.sketch import N_BUCKETS
from poolmon.core.tally import I64, SecondCount
from poolmon.core.tier_fold import add_rows, add_sparse_rows, add_stats_rows

if TYPE_CHECKING:
    from poolmon.core.aggregator import Aggregator

IDX = np.ndarray[Any, np.dtype[np.intp]]
FOLD_MIN_ROLLUPS: Final = 10
"""Smaller frames (a live-rollups monitor's one second) are applied rollup by rollup: the
fold's fixed cost, a few dozen numpy calls per tier, is worth it from about ten seconds on
(1 second: 2.1 ms folded, 0.36 ms by `ingest_rollup`; 16 seconds: 0.24 ms a second)."""


def ingest_rollups(agg: Aggregator, wires: Sequence[Mapping[str, Any]]) -> None:
    """Account a ROLLUPS frame's rollup maps, as `ingest_rollup` of each in turn would.

    Raises ProtocolError (before counting anything) when a map is malformed.
    """
    fold_rollups(agg, rollup_cols(wires))


def fold_rollups(agg: Aggregator, cols: RollupCols) -> None:
    """`ingest_rollups` of a frame already read (`rollup_cols`, done outside any lock)."""
    wires = cols.wires
    n = len(cols.second)
    if n < FOLD_MIN_ROLLUPS or not bool((np.diff(cols.second) > 0).all()):
        for w in wires:
            agg.ingest_rollup(Rollup.from_wire(w))
        return
    tally = agg.stats.tally
    secs = cols.second // NS_PER_S
    oldest = None if tally.newest is None else tally.newest - tally.keep_s
    run: list[int] = []
    for i, s in enumerate(secs.tolist()):
        if oldest is not None and s < oldest:
            agg.duplicates_ignored += int(cols.count[i])  # long past: counted when it was live
        elif s in tally.seconds:
            _fold(agg, cols, run)
            run = []
            agg.ingest_rollup(Rollup.from_wire(wires[i]))
        else:
            run.append(i)
    _fold(agg, cols, run)


def _fold(agg: Aggregator, cols: RollupCols, rows: list[int]) -> None:
    """Add rollups `rows` (seconds this monitor holds nothing of) whole (see module doc)."""
    if not rows:
        return
    now = agg.now_ns()
    st = agg.stats
    sel = np.asarray(rows, dtype=np.intp)
    secs = cols.second[sel] // NS_PER_S
    for a, b in _runs(secs.tolist()):
        agg.coverage.cover(a, b)
    status = cols.status[sel]
    has = status.any(axis=1)
    add_rows(st.status, secs[has], status[has])
    st.status_totals += status.sum(axis=0)
    _dist(st.latency, secs, cols.d, sel)
    _dist(st.wait, secs, cols.q, sel)
    _ops(agg, cols, sel, secs)
    _errors(agg, cols, sel, secs)
    fold_workers(agg, cols, sel, secs, now)
    _remember(agg, cols, sel, secs)
    added = np.maximum(status.sum(axis=1), 0)
    agg.duplicates_ignored += int(np.maximum(cols.count[sel] - added, 0).sum())


def _runs(seconds: list[int]) -> list[tuple[int, int]]:
    """Consecutive seconds as (first, last) ranges."""
    out: list[tuple[int, int]] = []
    for s in seconds:
        if out and out[-1][1] == s - 1:
            out[-1] = (out[-1][0], s)
        else:
            out.append((s, s))
    return out


def _entries(h: Hists, which: IDX) -> tuple[IDX, IDX, I64]:
    """The entries of histograms `which` (in that order): (position in `which`, bucket, count)."""
    lens = h.start[which + 1] - h.start[which]
    owner = np.repeat(np.arange(len(which), dtype=np.intp), lens)
    first = np.repeat(h.start[which] - np.cumsum(lens) + lens, lens)
    at = first + np.arange(len(owner), dtype=np.intp)
    return owner, h.bucket[at], h.count[at]


def _bounds(h: Hists, which: IDX, totals: I64) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    lo = np.asarray(h.min_ns, dtype=np.float64)[which]
    hi = np.asarray(h.max_ns, dtype=np.float64)[which]
    empty = totals == 0
    lo[empty], hi[empty] = np.inf, -np.inf
    return lo, hi


def _dist(ring: DistRing, secs: I64, h: Hists, which: IDX) -> None:
    """Pool-wide sketch: one histogram per second (`which` indexes `h`), empty ones skipped."""
    totals = h.totals()[which]
    keep = np.flatnonzero(totals > 0)
    if len(keep) == 0:
        return
    which = which[keep]
    owner, bucket, count = _entries(h, which)
    add_sparse_rows(ring.bins, secs[keep], owner, bucket, count)
    lo, hi = _bounds(h, which, totals[keep])
    add_stats_rows(ring.stats, secs[keep], np.asarray(h.sum_ns)[which], lo, hi)


def _ops(agg: Aggregator, cols: RollupCols, sel: IDX, secs: I64) -> None:
    """Per-operation counters, sketches and since-attach totals of the selected rollups."""
    st = agg.stats
    keys = st.ops.keys
    local = np.full(len(cols.second), -1, dtype=np.intp)
    local[sel] = np.arange(len(sel))
    op_row = np.asarray(cols.op_row, dtype=np.intp)
    entries = np.flatnonzero(local[op_row] >= 0) if len(op_row) else op_row
    if len(entries) == 0:
        return
    col_of: dict[str, int] = {}
    col_list = []
    for e in entries.tolist():  # label columns in the order the rollups name them
        name = cols.op_name[e]
        col = col_of.get(name)
        if col is None:
            col = col_of[name] = keys.column(name)
        col_list.append(col)
    ecol = np.asarray(col_list, dtype=np.intp)
    esec = local[op_row[entries]]
    count = np.asarray(cols.op_count, dtype=np.int64)[entries]
    failed = np.asarray(cols.op_failed, dtype=np.int64)[entries]
    block = np.zeros((len(secs), keys.max_labels, 2), dtype=np.int64)
    flat = block.reshape(-1, 2)  # a view: (second, column) rows
    np.add.at(flat[:, 0], esec * keys.max_labels + ecol, count)
    np.add.at(flat[:, 1], esec * keys.max_labels + ecol, failed)
    has = block.any(axis=(1, 2))
    for counter in (st.ops, st.op_counts):
        add_rows(counter.ring, secs[has], block[has])
        counter.totals += block.sum(axis=0)
    # groups: (second, column), ascending; the last op entry of each names its bounds and split
    key = esec * keys.max_labels + ecol
    ukey, group = np.unique(key, return_inverse=True)
    h = cols.op_hist
    owner, bucket, bcount = _entries(h, entries)
    g = _Groups(group, owner, bucket, bcount, ukey // keys.max_labels, ukey % keys.max_labels)
    g.row = sel[g.sec]
    g.entries = entries
    g.last = np.zeros(len(ukey), dtype=np.intp)
    g.last[group] = entries  # later entries overwrite earlier ones: the last of each group wins
    g.count = np.bincount(group, weights=count, minlength=len(ukey)).astype(np.int64)
    g.failed = np.bincount(group, weights=failed, minlength=len(ukey)).astype(np.int64)
    g.sum_ns = np.zeros(len(ukey), dtype=np.float64)
    np.add.at(g.sum_ns, group, np.asarray(h.sum_ns, dtype=np.float64)[entries])  # in order
    gcount = np.bincount(group[owner], weights=bcount, minlength=len(ukey))
    hist_totals = h.totals()
    order = _first_seen(esec, ecol)
    for col in order:  # sketch rings created in the per-second path's order
        mine = np.flatnonzero((g.col == col) & (gcount > 0))
        if len(mine) == 0:
            continue
        ring = st.op_latency.get(col)
        if ring is None:
            ring = st.op_latency[col] = DistRing(ENTITY_TIERS)
        slot = np.full(len(ukey), -1, dtype=np.intp)
        slot[mine] = np.arange(len(mine))
        at = slot[group[owner]]
        live = at >= 0
        add_sparse_rows(ring.bins, secs[g.sec[mine]], at[live], bucket[live], bcount[live])
        lo, hi = _bounds(h, g.last[mine], hist_totals[g.last[mine]])
        add_stats_rows(ring.stats, secs[g.sec[mine]], g.sum_ns[mine], lo, hi)
    _op_totals(agg, cols, order, g)


@dataclass(slots=True)
class _Groups:
    """A frame's operation entries grouped by (second, label column), ascending."""

    group: IDX
    """Each op entry's group."""
    owner: IDX
    """Each histogram entry's op entry (position among the selected ones)."""
    bucket: IDX
    bcount: I64
    sec: IDX
    """Each group's second (index into the fold's seconds)."""
    col: IDX
    row: IDX = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    entries: IDX = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    """Each op entry's index in the frame's columns."""
    last: IDX = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    count: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    failed: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    sum_ns: np.ndarray[Any, np.dtype[np.float64]] = field(
        default_factory=lambda: np.zeros(0, dtype=np.float64)
    )


def _first_seen(esec: I64, ecol: I64) -> list[int]:
    """Columns in the order the per-second path meets them (a set per second, in order)."""
    seen: dict[int, None] = {}
    per_sec: dict[int, list[int]] = {}
    for s, c in zip(esec.tolist(), ecol.tolist(), strict=True):
        per_sec.setdefault(s, []).append(c)
    for s in sorted(per_sec):
        for c in set(per_sec[s]):
            seen.setdefault(c, None)
    return list(seen)


def _op_totals(agg: Aggregator, cols: RollupCols, order: list[int], g: _Groups) -> None:
    """The export's since-attach totals: per column, the seconds summed, then one addition.

    Summing first is exact when no second's part is negative (then the debt logic of
    `OpTotals.add_counts` pays the same) and the sums are whole numbers of ns below 2**53
    (then float addition is exact in any order); otherwise each second is added in turn.
    """
    st = agg.stats
    status = _op_status(cols, g)
    entry_group = g.group[g.owner]
    for col in order:
        mine = np.flatnonzero(g.col == col)
        name = st.ops.keys.name(col)
        sums = g.sum_ns[mine]
        total = float(sums.sum())
        if (status[mine] >= 0).all() and _exact_sum(sums, total):
            live = g.col[entry_group] == col
            dense = np.bincount(g.bucket[live], weights=g.bcount[live], minlength=N_BUCKETS)
            st.op_totals.add_status(name, status[mine].sum(axis=0), dense, total)
            continue
        for k in mine.tolist():
            live = entry_group == k
            dense = np.bincount(g.bucket[live], weights=g.bcount[live], minlength=N_BUCKETS)
            st.op_totals.add_status(name, status[k], dense, float(g.sum_ns[k]))


def _op_status(cols: RollupCols, g: _Groups) -> I64:
    """`op_status` of every group at once: tasks per status in `STATUSES` order.

    A group's split into timeouts and crashes is the sum of its entries' (past the label cap
    several operations share a column), as `rollup_count` sums them for the per-second path.
    """
    fails = [cols.op_fails[e] for e in g.entries.tolist()]
    n = len(g.count)
    split = np.bincount(g.group, weights=[f is None for f in fails], minlength=n) == 0
    each = np.asarray([f or (0, 0) for f in fails], dtype=np.int64).reshape(len(fails), 2)
    tc = np.stack([np.bincount(g.group, weights=each[:, k], minlength=n) for k in (0, 1)], 1)
    tc = tc.astype(np.int64)
    kinds = cols.status[g.row][:, TASK_ERROR:TASK_CANCELLED] != 0
    only = np.where(kinds.sum(axis=1) == 1, kinds.argmax(axis=1) + TASK_ERROR, FAILED_STATUS)
    out = np.zeros((n, len(STATUSES)), dtype=np.int64)
    out[:, TASK_OK] = g.count - g.failed
    rest = np.flatnonzero(~split)
    out[rest, only[rest]] = g.failed[rest]
    out[split, TASK_ERROR] = (g.failed - tc[:, 0] - tc[:, 1])[split]
    out[split, TASK_TIMEOUT] = tc[split, 0]
    out[split, TASK_CRASHED] = tc[split, 1]
    return out


def _exact_sum(sums: np.ndarray[Any, np.dtype[np.float64]], total: float) -> bool:
    """Whether adding `sums` in any order gives the same float (non-negative whole numbers)."""
    return bool((sums >= 0).all() and (sums == np.floor(sums)).all() and total < 2.0**53)


def _errors(agg: Aggregator, cols: RollupCols, sel: IDX, secs: I64) -> None:
    """Failures by error type: one column per name, in the order the rollups name them."""
    st = agg.stats
    local = {r: i for i, r in enumerate(sel.tolist())}
    keys = st.errors.keys
    at, col, n = [], [], []
    for row, name, count in zip(cols.error_row, cols.error_name, cols.error_n, strict=True):
        i = local.get(row)
        if i is not None:
            at.append(i)
            col.append(keys.column(name))
            n.append(count)
    if not at:
        return
    block = np.zeros((len(secs), keys.max_labels, 1), dtype=np.int64)
    where = np.asarray(at, dtype=np.intp) * keys.max_labels + np.asarray(col, dtype=np.intp)
    np.add.at(block.reshape(-1), where, np.asarray(n, dtype=np.int64))
    has = block.any(axis=(1, 2))
    add_rows(st.errors.ring, secs[has], block[has])
    st.errors.totals += block.sum(axis=0)


def _remember(agg: Aggregator, cols: RollupCols, sel: IDX, secs: I64) -> None:
    """What the tally must hold of the last seconds, recorded as `apply_rollup` records it."""
    tally = agg.stats.tally
    newest = int(secs[-1]) if tally.newest is None else max(tally.newest, int(secs[-1]))
    for i in np.flatnonzero(secs >= newest - tally.keep_s).tolist():
        tally.replace(int(secs[i]), _second_count(agg, cols, int(sel[i])))


def _dense(h: Hists, i: int) -> I64:
    """Histogram i as a dense bucket vector (`Hist.dense`)."""
    out = np.zeros(N_BUCKETS, dtype=np.int64)
    a, b = h.start[i], h.start[i + 1]
    out[h.bucket[a:b]] = h.count[a:b]
    return out


def _second_count(agg: Aggregator, cols: RollupCols, row: int) -> SecondCount:
    """`rollup_count` of rollup `row`, from the columns."""
    st = agg.stats
    out = SecondCount()
    out.status += cols.status[row]
    out.duration += _dense(cols.d, row)
    out.duration_sum_ns = cols.d.sum_ns[row]
    out.wait += _dense(cols.q, row)
    out.wait_sum_ns = cols.q.sum_ns[row]
    for e in range(bisect_left(cols.op_row, row), bisect_right(cols.op_row, row)):
        oc = out.op(st.ops.keys.column(cols.op_name[e]))
        oc.count += cols.op_count[e]
        oc.failed += cols.op_failed[e]
        fails = cols.op_fails[e]
        if fails is not None:
            oc.timeouts, oc.crashes = oc.timeouts + fails[0], oc.crashes + fails[1]
        oc.buckets += _dense(cols.op_hist, e)
        oc.sum_ns += cols.op_hist.sum_ns[e]
    for e in range(bisect_left(cols.error_row, row), bisect_right(cols.error_row, row)):
        col = st.errors.keys.column(cols.error_name[e])
        out.errors[col] = out.errors.get(col, 0) + cols.error_n[e]
    for e in range(bisect_left(cols.worker_row, row), bisect_right(cols.worker_row, row)):
        if cols.worker_id[e] >= 0:
            out.add_worker(cols.worker_id[e], cols.worker_done[e], cols.worker_failed[e])
    return out
