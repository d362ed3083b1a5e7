"""The rollup builder's engine: fold many TaskBatches into per-second accumulators at once.

Why it is shaped like this: the endpoint counts every task the pool runs into its history, on a
thread that competes with the pool's own IO thread for the GIL. Counting batch by batch cost
about 250 ns a task (tens of numpy calls and dict updates per batch, whatever its size), a
quarter of a trivial task's budget. So `SecondFolder.add` only queues the batch's rows (no
numpy), and `fold` handles every queued row with a fixed number of whole-column numpy calls:

* `add` copies a batch's columns into reused buffers (one memoryview slice assignment per
  column, no numpy call), so a fold reads contiguous columns and allocates no input arrays;
* validation (status code, op and error-type indexes inside their batch's name tables) is a few
  vectorised comparisons; a batch with a bad index is skipped whole and counted;
* operation and error-type indexes are translated to builder-wide ids through small lookup
  tables, one per distinct name table (the pool reuses one, so that is usually a no-op);
* grouping by (second, op), (second, worker) and (second, error) uses combined integer keys and
  `np.bincount`; exact sums come from weighted bincounts (integers below 2**53 add exactly in
  float64) and exact minima/maxima from `np.minimum.at` / `np.maximum.at`;
* histograms use the sketch's own `buckets_of`, so counts are bit-for-bit the live path's.

Python then loops only over the groups present (a few seconds times a few ops and workers),
never over rows. The builder folds when `fold_rows` rows are queued and before closing seconds.
"""

from __future__ import annotations

from array import array
from typing import Final

import numpy as np
import numpy.typing as npt

from poolmon.core.batchview import NS_PER_S
from poolmon.core.events import TASK_CANCELLED, TASK_CRASHED, TASK_OK, TASK_TIMEOUT, TaskBatch
from poolmon.core.rollup_acc import I64, IDX, N_STATUS, OpAcc, SecondAcc, Tables
from poolmon.core.sketch import N_BUCKETS, buckets_of

DEFAULT_FOLD_ROWS: Final = 1 << 15
"""Rows per fold: big enough to spread each fold's fixed ~50 us, small enough that the queued
columns and the fold's temporaries (256 KiB each) mostly stay in cache. Measured on 337-row
batches: 8 Ki rows 34 ns/task, 16 Ki 29, 32 Ki 28, 64 Ki 29 (and slower under load)."""
_SMALL_DENSE: Final = 64  # key spaces this small are used as group ids without compacting
_DENSE_MAX: Final = 1 << 16  # largest dense bincount key space; beyond it np.unique compacts
_COLUMNS: Final = ("worker_id", "op", "start_ns", "duration_ns", "wait_ns", "status", "error_type")


def _compact(keys: I64, dense: int) -> tuple[I64, IDX | None, list[int]]:
    """The distinct keys present (ascending), each row's index among them, and their counts.

    The index is None when only one key is present (every row is group 0).
    """
    if dense <= _DENSE_MAX:
        counts = np.bincount(keys, minlength=dense)
        present = np.flatnonzero(counts)
        n = len(present)
        if n == 1:
            return present, None, [len(keys)]
        if n == dense:  # every key present: the keys are already the indexes
            return present, keys, counts.tolist()
        lut = np.zeros(dense, dtype=np.intp)
        lut[present] = np.arange(n)
        return present, lut[keys], counts[present].tolist()
    present, inv, counts = np.unique(keys, return_inverse=True, return_counts=True)
    return present, (None if len(present) == 1 else inv.astype(np.intp)), counts.tolist()


def _fail_kinds(
    group: IDX | None, g: int, failed: IDX, status: I64
) -> tuple[list[int], list[int]] | None:
    """Timeouts and crashes per group among the `failed` rows (None: no failures).

    The rest of a group's failures are errors; with this split a rollup labels every task's
    status exactly (a watcher taking live rollups exports `poolmon_tasks_total` from it).
    """
    if len(failed) == 0:
        return None
    kinds = status[failed]
    where = np.zeros(len(failed), dtype=np.intp) if group is None else group[failed]
    timeouts = np.bincount(where, weights=kinds == TASK_TIMEOUT, minlength=g)
    crashes = np.bincount(where, weights=kinds == TASK_CRASHED, minlength=g)
    return timeouts.astype(np.int64).tolist(), crashes.astype(np.int64).tolist()


def _group_stats(
    values: I64, bins: IDX, group: IDX | None, n: int
) -> tuple[I64, list[float], list[int], list[int]]:
    """Per-group histogram rows (n x N_BUCKETS), sums, minima and maxima of `values`.

    Exact minima and maxima without a pass of `ufunc.at` over every row: a group's minimum
    lies in its lowest non-empty bucket (buckets are monotone in the value), so only the rows
    in that bucket are compared; likewise for the maximum.
    """
    if group is None:
        hist = np.bincount(bins, minlength=N_BUCKETS).reshape(1, N_BUCKETS)
        return hist, [float(values.sum(dtype=np.float64))], [int(values.min())], [int(values.max())]
    hist = np.bincount(group * N_BUCKETS + bins, minlength=n * N_BUCKETS).reshape(n, N_BUCKETS)
    sums = np.bincount(group, weights=values, minlength=n)
    filled = hist > 0
    lo_bin = filled.argmax(axis=1)
    hi_bin = N_BUCKETS - 1 - filled[:, ::-1].argmax(axis=1)
    lo = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    hi = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    rows = np.flatnonzero(bins == lo_bin[group])
    np.minimum.at(lo, group[rows], values[rows])
    rows = np.flatnonzero(bins == hi_bin[group])
    np.maximum.at(hi, group[rows], values[rows])
    return hist, sums.tolist(), lo.tolist(), hi.tolist()


class SecondFolder:
    """Queued batches and open per-second accumulators (see the module docstring).

    Args:
        fold_rows: Queued rows that trigger a fold on `add`.
    """

    def __init__(self, fold_rows: int = DEFAULT_FOLD_ROWS) -> None:
        if fold_rows < 1:
            raise ValueError(f"fold_rows must be >= 1, got {fold_rows}")
        self.fold_rows = fold_rows
        self.tables = Tables()
        self.open: dict[int, SecondAcc] = {}
        self.closed_through: int | None = None
        self.late_rows = 0
        self.invalid_batches = 0
        self.invalid_rows = 0
        # Queued rows live in reused buffers: fresh arrays per fold would cost page faults.
        self._bufs = [array("q", bytes(8 * fold_rows)) for _ in _COLUMNS]
        self._slots = [memoryview(buf) for buf in self._bufs]
        self._views: list[I64] = [np.frombuffer(buf, dtype=np.int64) for buf in self._bufs]
        self._tids: list[int] = []
        self._lens: list[int] = []
        self._rows = 0

    def add(self, batch: TaskBatch) -> None:
        """Queue a batch (a copy of its columns, no numpy); fold when the queue is full."""
        n = len(batch.task_id)
        if n == 0:
            return
        if n > self.fold_rows - self._rows:
            self.fold()  # may forget the name tables (Tables.trim): look ours up after it
            if n > self.fold_rows:  # a big batch is folded straight from its own columns
                cols = [np.frombuffer(getattr(batch, c), dtype=np.int64) for c in _COLUMNS]
                self._fold_columns(cols, [self.tables.id(batch.ops, batch.error_types)], [n])
                return
        tid = self.tables.id(batch.ops, batch.error_types)
        pos = self._rows
        end = self._rows = pos + n
        worker, op, start, dur, wait, status, err = self._slots  # order of _COLUMNS
        worker[pos:end] = batch.worker_id
        op[pos:end] = batch.op
        start[pos:end] = batch.start_ns
        dur[pos:end] = batch.duration_ns
        wait[pos:end] = batch.wait_ns
        status[pos:end] = batch.status
        err[pos:end] = batch.error_type
        self._tids.append(tid)
        self._lens.append(n)

    @property
    def pending_rows(self) -> int:
        """Rows queued and not yet folded."""
        return self._rows

    def take_before(self, limit_s: int) -> list[tuple[int, SecondAcc]]:
        """Fold, then remove and return every open second before `limit_s`, oldest first.

        Every second before `limit_s` is closed from then on, empty ones too: a row arriving
        later for one of them is counted in the next open second, so a second reported closed
        never gets a rollup afterwards (a live-rollups monitor relies on it).
        """
        self.fold()
        done = sorted(s for s in self.open if s < limit_s)
        self.closed_through = max(limit_s - 1, self.closed_through or limit_s - 1)
        return [(s, self.open.pop(s)) for s in done]

    # ------------------------------------------------------------------ the fold
    def fold(self) -> None:
        """Count every queued row into its second's accumulator."""
        rows, tids, lens = self._rows, self._tids, self._lens
        if not rows:
            return
        self._rows, self._tids, self._lens = 0, [], []
        self._fold_columns([v[:rows] for v in self._views], tids, lens)

    def _fold_columns(self, cols: list[I64], tids: list[int], lens: list[int]) -> None:
        """Validate, then count rows given as `_COLUMNS` arrays from batches of `lens` rows."""
        worker, op, start, dur, wait, status, err = cols
        row_tid: IDX | None = None
        if any(t != tids[0] for t in tids):
            row_tid = np.repeat(np.asarray(tids, dtype=np.intp), lens)
            _, _, op_len, _, _, err_len = self.tables.joined()
            n_ops: int | npt.NDArray[np.uint64] = op_len[row_tid].astype(np.uint64)
            n_err: int | npt.NDArray[np.uint64] = err_len[row_tid].astype(np.uint64)
        else:
            n_ops, n_err = len(self.tables.op_lut[tids[0]]), len(self.tables.err_lut[tids[0]])
        bad = status.view(np.uint64) > TASK_CANCELLED
        bad |= op.view(np.uint64) >= n_ops
        bad |= err.view(np.uint64) >= n_err
        if bad.any():
            keep = self._drop_invalid(lens, bad)
            if len(keep) == 0:
                self.tables.trim()
                return
            worker, op, start, dur, wait, status, err = (c[keep] for c in cols)
            row_tid = None if row_tid is None else row_tid[keep]
        self._fold_rows(status, op, err, worker, start, dur, wait, tids[0], row_tid)
        self.tables.trim()

    def _drop_invalid(self, lens: list[int], bad: npt.NDArray[np.bool_]) -> IDX:
        """Count the batches holding a bad row; return the rows of the others."""
        row_batch = np.repeat(np.arange(len(lens)), lens)
        bad_batches = np.unique(row_batch[bad])
        dropped = np.isin(row_batch, bad_batches)
        self.invalid_batches += len(bad_batches)
        self.invalid_rows += int(np.count_nonzero(dropped))
        return np.flatnonzero(~dropped)

    def _seconds(self, start: I64, dur: I64) -> tuple[list[int], IDX | None]:
        """Each row's completion second (late rows moved on), as (seconds, index or None)."""
        sec = (start + dur) // NS_PER_S
        closed = self.closed_through
        if closed is not None and int(sec.min()) <= closed:
            late = sec <= closed
            self.late_rows += int(np.count_nonzero(late))
            sec = np.where(late, closed + 1, sec)  # the endpoint's backfill relies on it
        lo, hi = int(sec.min()), int(sec.max())
        if lo == hi:
            return [lo], None
        present, rel, _ = _compact(sec - lo, hi - lo + 1)
        return (present + lo).tolist(), rel

    def _fold_rows(
        self,
        status: I64,
        op: I64,
        err: I64,
        worker: I64,
        start: I64,
        dur: I64,
        wait: I64,
        tid: int,
        row_tid: IDX | None,
    ) -> None:
        seconds, rel = self._seconds(start, dur)
        n_sec = len(seconds)
        accs = [self.open.get(s) or self.open.setdefault(s, SecondAcc()) for s in seconds]
        skey = status if rel is None else rel * N_STATUS + status
        by_status = np.bincount(skey, minlength=n_sec * N_STATUS).reshape(n_sec, N_STATUS)
        for acc, row in zip(accs, by_status, strict=True):
            acc.status += row
            acc.count += int(row.sum())
        if by_status[:, TASK_CANCELLED].any():
            ran = np.flatnonzero(status != TASK_CANCELLED)
            if len(ran) == 0:
                return
            status, op, err, worker, dur, wait = (
                c[ran] for c in (status, op, err, worker, dur, wait)
            )
            rel = None if rel is None else rel[ran]
            row_tid = None if row_tid is None else row_tid[ran]
        tables = self.tables
        if row_tid is not None:
            op_lut, op_off, _, err_lut, err_off, _ = tables.joined()
            gop = op_lut[op_off[row_tid] + op]
        elif tables.identity[tid]:
            gop = op
        else:
            gop = tables.op_lut[tid][op]
        failed = np.flatnonzero(status != TASK_OK)
        self._fold_ops(accs, rel, gop, dur, failed, status)
        self._fold_wait(accs, rel, wait)
        self._fold_workers(accs, rel, worker, failed)
        if len(failed):
            et = err[failed]
            if row_tid is not None:
                gerr = err_lut[err_off[row_tid[failed]] + et]
            else:
                gerr = tables.err_lut[tid][et]
            key = np.where(et != 0, gerr, tables.status_ids[status[failed]])
            n_names = len(tables.errors.names)
            key = key if rel is None else rel[failed] * n_names + key
            present, _, counts = _compact(key, n_sec * n_names)
            for k, c in zip(present.tolist(), counts, strict=True):
                s, name = divmod(k, n_names)
                errors = accs[s].errors
                errors[name] = errors.get(name, 0) + c

    def _fold_ops(
        self, accs: list[SecondAcc], rel: IDX | None, gop: I64, dur: I64, failed: IDX, status: I64
    ) -> None:
        n_ops = len(self.tables.ops.names)
        keys = gop if rel is None else rel * n_ops + gop
        dense = len(accs) * n_ops
        group: IDX | None
        if dense == 1:
            present, group = np.zeros(1, dtype=np.int64), None
        elif dense <= _SMALL_DENSE:  # few (second, op) keys: use them as group ids directly
            present, group = np.arange(dense), keys
        else:
            present, group, _ = _compact(keys, dense)
        g = len(present)
        hist, sums, los, his = _group_stats(dur, buckets_of(dur), group, g)
        counts = hist.sum(axis=1).tolist()
        if group is None:
            fails = [len(failed)]
        else:
            fails = np.bincount(group[failed], minlength=g).tolist()
        kinds = _fail_kinds(group, g, failed, status)
        for i, k in enumerate(present.tolist()):
            if not counts[i]:
                continue
            s, o = divmod(k, n_ops)
            acc = accs[s]
            op_acc = acc.ops.get(o)
            if op_acc is None:
                op_acc = acc.ops[o] = OpAcc()
            op_acc.count += counts[i]
            op_acc.failed += fails[i]
            if kinds is not None:
                op_acc.timeout += kinds[0][i]
                op_acc.crashed += kinds[1][i]
            op_acc.dist.merge(hist[i], sums[i], los[i], his[i])
            acc.dur.merge(hist[i], sums[i], los[i], his[i])

    @staticmethod
    def _fold_wait(accs: list[SecondAcc], rel: IDX | None, wait: I64) -> None:
        n = len(accs)
        hist, sums, los, his = _group_stats(wait, buckets_of(wait), rel, n)
        counts = hist.sum(axis=1).tolist()
        for i, acc in enumerate(accs):
            if counts[i]:
                acc.wait.merge(hist[i], sums[i], los[i], his[i])

    @staticmethod
    def _fold_workers(accs: list[SecondAcc], rel: IDX | None, worker: I64, failed: IDX) -> None:
        lo = int(worker.min())
        span = int(worker.max()) - lo + 1
        if span <= _DENSE_MAX:
            ids: I64 | None = None
            local = worker - lo
        else:
            ids, inv = np.unique(worker, return_inverse=True)
            local, span = inv.astype(np.int64), len(ids)
        keys = local if rel is None else rel * span + local
        present, group, done = _compact(keys, len(accs) * span)
        if group is None:
            bad = [len(failed)]
        else:
            bad = np.bincount(group[failed], minlength=len(present)).tolist()
        for k, n, f in zip(present.tolist(), done, bad, strict=True):
            s, w = divmod(k, span)
            wid = lo + w if ids is None else int(ids[w])
            acc_w = accs[s].workers.get(wid)
            if acc_w is None:
                accs[s].workers[wid] = [n, f]
            else:
                acc_w[0] += n
                acc_w[1] += f
