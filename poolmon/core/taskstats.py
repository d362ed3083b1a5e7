"""The batch fast path: count a TaskBatch's tasks into every windowed statistic with numpy.

One call per (batch, completion second). Everything is vectorised over the rows: two bucket
computations (duration and queue wait), then `np.bincount` into the pool-wide sketches, the
status counters, the per-operation counters and sketches, the error-type counters and the
per-worker counters and sketches. Python-level work is per operation and per worker present in
the batch, never per row, except the bounded recent-task list (at most `RECENT_TASKS` rows per
worker, taken from the last `RECENT_SCAN_ROWS` rows of the batch).

Definitions (docs/METRICS.md): a task *finished* when it ran to an outcome (ok, error,
timeout, crashed); *failed* = error + timeout + crashed; cancelled tasks never ran, so they
are counted by status only and stay out of latency, queue wait, throughput and the error rate.
A failed row with no exception type (a timeout or crash) is counted under its status name as
its error type. Pool-wide and per-operation min/max are exact; per-worker min/max are bucket
representatives (within 1 %).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from poolmon.core.batchview import BatchView
from poolmon.core.counters import LabeledCounter
from poolmon.core.distring import DistRing
from poolmon.core.events import STATUS_NAMES, TASK_CANCELLED, TASK_CRASHED, TASK_OK, TASK_TIMEOUT
from poolmon.core.op_totals import OpTotals
from poolmon.core.ring import ENTITY_TIERS, POOL_TIERS, Tiers
from poolmon.core.sketch import N_BUCKETS, bucket_value, buckets_of
from poolmon.core.tally import SecondCount, SecondTally
from poolmon.core.workers import RECENT_TASKS, RecentTask, WorkerTable

OP_ERROR_SEP = "\x1f"
"""Joins an operation and an error type in the labels of `TaskStats.op_errors`."""
RECENT_SCAN_ROWS = 4096
"""Rows from the end of a batch searched for each worker's recent tasks."""

_KINDS = (TASK_TIMEOUT, TASK_CRASHED)
"""The failure kinds a second's tally keeps per operation (the rest are errors)."""
_REP = np.array([bucket_value(b) for b in range(N_BUCKETS)])
I64 = npt.NDArray[np.int64]


def _add_entity(ring: DistRing, second: int, counts: I64, total: float) -> None:
    """Add one entity's bucket counts sparsely; min/max are bucket representatives."""
    nz = np.flatnonzero(counts)
    if len(nz):
        ring.add_sparse(second, nz, counts[nz], total, float(_REP[nz[0]]), float(_REP[nz[-1]]))


def _per_entity(
    local: npt.NDArray[np.intp], k: int, dur: I64, dbin: npt.NDArray[np.intp]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Bucket counts `(k, N_BUCKETS)` and duration sums `(k,)` per local entity index."""
    if k == 1:
        one: I64 = np.bincount(dbin, minlength=N_BUCKETS).astype(np.int64, copy=False)
        return one[None, :], np.array([float(dur.sum())])
    counts: I64 = np.bincount(local * N_BUCKETS + dbin, minlength=k * N_BUCKETS).astype(
        np.int64, copy=False
    )
    sums = np.bincount(local, weights=dur, minlength=k).astype(np.float64, copy=False)
    return counts.reshape(k, N_BUCKETS), sums


class TaskStats:
    """Pool-wide and per-operation task statistics in fixed memory (see module doc)."""

    def __init__(self, max_ops: int = 64, max_error_types: int = 64) -> None:
        self.latency = DistRing(POOL_TIERS)
        self.wait = DistRing(POOL_TIERS)
        self.status = Tiers(POOL_TIERS, (len(STATUS_NAMES),), np.int64)
        self.status_totals = np.zeros(len(STATUS_NAMES), dtype=np.int64)
        self.ops = LabeledCounter(POOL_TIERS, max_ops, width=2)
        """Per operation: finished, failed (the pool-wide tiers, like the status counts)."""
        self.op_counts = LabeledCounter(ENTITY_TIERS, max_ops, width=2)
        """The same counts in the slots of `op_latency` (its key table is `ops.keys`), so an
        operation's row (count, errors, rate, latency) always describes one window."""
        self.op_counts.keys = self.ops.keys
        self.op_latency: dict[int, DistRing] = {}
        self.errors = LabeledCounter(POOL_TIERS, max_error_types)
        """Failed tasks by error type (exception class, or the status name)."""
        self.op_errors = LabeledCounter(POOL_TIERS, 2 * max_error_types)
        """Failed tasks by operation and error type, labelled `op + OP_ERROR_SEP + type`."""
        self.tally = SecondTally()
        """What each recent second holds, so a backfill adds only what is missing."""
        self.op_totals = OpTotals(max_ops)
        """Per-operation counts and duration buckets since attach (the Prometheus export)."""

    @property
    def nbytes(self) -> int:
        """Fixed footprint: pool-wide arrays plus one entity sketch per operation seen."""
        return (
            self.latency.nbytes
            + self.wait.nbytes
            + self.status.nbytes
            + self.ops.nbytes
            + self.op_counts.nbytes
            + self.errors.nbytes
            + self.op_errors.nbytes
            + sum(d.nbytes for d in self.op_latency.values())
        )

    def drop_after(self, second: int) -> None:
        """Forget slots after `second` (clock went backwards)."""
        self.latency.drop_after(second)
        self.wait.drop_after(second)
        self.status.drop_after(second)
        self.ops.drop_after(second)
        self.op_counts.drop_after(second)
        self.errors.drop_after(second)
        self.op_errors.drop_after(second)
        for d in self.op_latency.values():
            d.drop_after(second)
        self.tally.drop_after(second)

    def ingest(self, second: int, v: BatchView, workers: WorkerTable | None, now_ns: int) -> None:
        """Count rows that all finished in `second` (see module doc)."""
        tally = self.tally.at(second)
        status_counts = np.bincount(v.status, minlength=len(STATUS_NAMES))
        self.status.add(second, status_counts)
        self.status_totals += status_counts
        if tally is not None:
            tally.status += status_counts
        if status_counts[TASK_CANCELLED]:
            v = v.take(np.flatnonzero(v.status != TASK_CANCELLED))
            if len(v) == 0:
                return
        failed = v.status != TASK_OK
        n_failed = int(np.count_nonzero(failed))
        dur, wait = v.duration_ns, v.wait_ns
        dbin = buckets_of(dur)
        dcounts = np.bincount(dbin, minlength=N_BUCKETS)
        wcounts = np.bincount(buckets_of(wait), minlength=N_BUCKETS)
        dsum, wsum = float(dur.sum(dtype=np.float64)), float(wait.sum(dtype=np.float64))
        self.latency.add_counts(second, dcounts, dsum, float(dur.min()), float(dur.max()))
        self.wait.add_counts(second, wcounts, wsum, float(wait.min()), float(wait.max()))
        if tally is not None:
            tally.duration += dcounts
            tally.duration_sum_ns += dsum
            tally.wait += wcounts
            tally.wait_sum_ns += wsum
        self._ops(second, v, failed, n_failed, dbin, tally)
        self.op_totals.ingest(v.ops, v.op, v.status, dbin, dur)
        if n_failed:
            self._errors(second, v, failed, tally)
        if workers is not None:
            self._workers(second, v, failed, n_failed, dbin, workers, now_ns, tally)

    def _ops(
        self,
        second: int,
        v: BatchView,
        failed: npt.NDArray[np.bool_],
        n_failed: int,
        dbin: npt.NDArray[np.intp],
        tally: SecondCount | None,
    ) -> None:
        max_ops = self.ops.keys.max_labels
        cols = self.ops.keys.lookup(v.ops or ("(unnamed)",))
        g = cols[v.op]
        block = np.zeros((max_ops, 2), dtype=np.int64)
        block[:, 0] = np.bincount(g, minlength=max_ops)
        if n_failed:
            block[:, 1] = np.bincount(g[failed], minlength=max_ops)
        self.ops.add(second, block)
        self.op_counts.add(second, block)
        present = np.flatnonzero(block[:, 0])
        lut = np.zeros(max_ops, dtype=np.intp)
        lut[present] = np.arange(len(present))
        local = lut[g]
        k = len(present)
        counts, sums = _per_entity(local, k, v.duration_ns, dbin)
        kinds = None
        if tally is not None and n_failed:  # timeouts, crashes per column (tally.OpCount)
            kinds = [np.bincount(g[v.status == s], minlength=max_ops) for s in _KINDS]
        lows = np.full(k, np.iinfo(np.int64).max, dtype=np.int64)
        highs = np.full(k, np.iinfo(np.int64).min, dtype=np.int64)
        np.minimum.at(lows, local, v.duration_ns)
        np.maximum.at(highs, local, v.duration_ns)
        for i, col in enumerate(present.tolist()):
            ring = self.op_latency.get(col)
            if ring is None:
                ring = self.op_latency[col] = DistRing(ENTITY_TIERS)
            nz = np.flatnonzero(counts[i])
            ring.add_sparse(
                second, nz, counts[i][nz], float(sums[i]), float(lows[i]), float(highs[i])
            )
            if tally is not None:
                oc = tally.op(col)
                oc.count += int(block[col, 0])
                oc.failed += int(block[col, 1])
                oc.buckets += counts[i]
                oc.sum_ns += float(sums[i])
                if kinds is not None:
                    oc.timeouts += int(kinds[0][col])
                    oc.crashes += int(kinds[1][col])

    def _errors(
        self, second: int, v: BatchView, failed: npt.NDArray[np.bool_], tally: SecondCount | None
    ) -> None:
        keys = self.errors.keys
        et = v.error_type[failed]
        st = v.status[failed]
        by_type = keys.lookup(v.error_types)
        by_status = np.array(
            [keys.column(s) if 0 < i < TASK_CANCELLED else 0 for i, s in enumerate(STATUS_NAMES)],
            dtype=np.intp,
        )
        cols = np.where(et != 0, by_type[et], by_status[st])
        block = np.bincount(cols, minlength=keys.max_labels)[:, None]
        self.errors.add(second, block)
        ops = v.ops or ("(unnamed)",)
        pairs, counts = np.unique(v.op[failed] * keys.max_labels + cols, return_counts=True)
        for pair, n in zip(pairs.tolist(), counts.tolist(), strict=True):
            op, col = divmod(pair, keys.max_labels)
            self.op_errors.inc(second, ops[op] + OP_ERROR_SEP + keys.name(col), n)
        if tally is not None:
            for col in np.flatnonzero(block[:, 0]).tolist():
                tally.errors[col] = tally.errors.get(col, 0) + int(block[col, 0])

    def _workers(
        self,
        second: int,
        v: BatchView,
        failed: npt.NDArray[np.bool_],
        n_failed: int,
        dbin: npt.NDArray[np.intp],
        table: WorkerTable,
        now_ns: int,
        tally: SecondCount | None,
    ) -> None:
        wid = v.worker_id
        lo_id = int(wid.min())
        span = int(wid.max()) - lo_id + 1
        if span > 65536:  # absurd ids: fall back to a sort-based mapping
            ids, local = np.unique(wid, return_inverse=True)
            local = local.astype(np.intp)
        else:
            shifted = wid - lo_id
            per_id = np.bincount(shifted, minlength=span)
            present = np.flatnonzero(per_id)
            lut = np.zeros(span, dtype=np.intp)
            lut[present] = np.arange(len(present))
            local = lut[shifted]
            ids = present + lo_id
        k = len(ids)
        done = np.bincount(local, minlength=k)
        bad = np.bincount(local[failed], minlength=k) if n_failed else np.zeros(k, np.int64)
        counts, sums = _per_entity(local, k, v.duration_ns, dbin)
        recent = self._recent(v, local, k)
        for i, w in enumerate(ids.tolist()):
            if w < 0:
                continue  # tasks that never reached a worker
            rec = table.get(w, now_ns)
            rec.tasks_done += int(done[i])
            rec.tasks_failed += int(bad[i])
            rec.counts.add(second, np.array([done[i], bad[i]], dtype=np.int64))
            _add_entity(rec.latency, second, counts[i], float(sums[i]))
            rec.recent.extend(recent[i])
            if tally is not None:
                tally.add_worker(w, int(done[i]), int(bad[i]))

    @staticmethod
    def _recent(v: BatchView, local: npt.NDArray[np.intp], k: int) -> list[list[RecentTask]]:
        """Each worker's last RECENT_TASKS rows as plain tuples (records are built on read)."""
        start = max(0, len(v) - RECENT_SCAN_ROWS)
        t_local = local[start:]
        picks = [np.flatnonzero(t_local == i)[-RECENT_TASKS:] + start for i in range(k)]
        rows = np.concatenate(picks) if picks else np.zeros(0, dtype=np.intp)
        ops = v.ops or ("(unnamed)",)
        flat = list(
            zip(
                v.task_id[rows].tolist(),
                [ops[i] for i in v.op[rows].tolist()],
                v.start_ns[rows].tolist(),
                v.duration_ns[rows].tolist(),
                [STATUS_NAMES[i] for i in v.status[rows].tolist()],
                [v.error_types[i] for i in v.error_type[rows].tolist()],
                strict=True,
            )
        )
        out: list[list[RecentTask]] = []
        at = 0
        for p in picks:
            out.append(flat[at : at + len(p)])
            at += len(p)
        return out
