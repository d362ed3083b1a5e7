"""Per-task telemetry rows, joined in the pool from its workers' edge rings and its own books.

Why this split: the pool's one thread is what limits a pool of tiny tasks (~1.1-1.4 µs of
its CPU per task here), while its workers wait for it, so the pool does no per-task work for
telemetry, and its workers nearly none:

* a timed worker writes each task's start and id to its edge ring in shared memory instead
  of its slot (edges.py) and reports, with each result flush, which entries are final; the
  pool copies them out as it reads the report (`buffer_frame`);
* the op of the tasks in each `send` is noted once per send (`note_ops`): one op for the
  whole send when all its tasks share a function id, the common case (an op chosen with
  `options(op=...)` has a function id of its own, see framing.FunctionTable);
* submit times come from the dispatch rounds' checkpoints (submitstamps.py).

`join_rows` puts them together per `BATCH_ROWS` rows (or per supervisor tick), vectorised
with numpy.
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Sequence
from typing import Any

import numpy as np

from poolmon.core.events import TASK_ERROR, TaskBatch
from poolmon.runtime.pool.future import PoolFuture
from poolmon.runtime.pool.submitstamps import SubmitStamps
from poolmon.runtime.pool.worker import WorkerHandle

BATCH_ROWS = 4096  # task rows the pool collects from a worker before emitting them as a batch
_ZERO = array("q", (0,))


class StampMismatch(Exception):
    """A worker's rows and the pool's books disagree in number: a bug to surface."""


def note_ops(w: WorkerHandle, futs: list[PoolFuture], fids: set[int], fid_op: list[int]) -> None:
    """Remember the op of each task sent to `w` while it records rows, in send order.

    Each note also keeps the first task's seq, so that the submit checkpoints those rows
    will need are kept until the rows arrive (`EngineBase.oldest_outstanding`).
    """
    runs = w.sent_ops
    if len(fids) == 1:
        (fid,) = fids
        if fid >= 0:
            op = fid_op[fid]
            if runs and runs[-1][1] is op:  # the same op as the send before: one longer run
                runs[-1][0] += len(futs)
            else:
                runs.append([len(futs), op, futs[0]._seq])
            return
    ops = array("q", [fid_op[f._fid] if f._fid >= 0 else f._op for f in futs])
    runs.append([len(futs), ops, futs[0]._seq])


def _take_ops(w: WorkerHandle, k: int) -> array[int]:
    """The op column of the next `k` rows of worker `w`, consumed from its send notes."""
    col: array[int] = array("q")
    runs = w.sent_ops
    need = k
    while need:
        if not runs:
            raise StampMismatch(f"worker {w.wid} reported {k} task rows, {k - need} were sent")
        run = runs[0]
        n, op = run[0], run[1]
        take = min(n, need)
        if isinstance(op, int):
            col.extend(array("q", (op,)) * take)
        else:
            col.extend(op[:take])
            run[1] = op[take:]
        if take == n:
            runs.popleft()
        else:
            run[0] = n - take  # its first seq stays: a safe lower bound
        need -= take
    return col


def _reports(frame: list[Any]) -> list[tuple[int, int, int]]:
    """The (a, b, end_ns) ranges a worker's TASKS frame reports (worker_main._TaskStamps)."""
    flat = array("q")
    flat.frombytes(frame[1])
    return [(flat[i], flat[i + 1], flat[i + 2]) for i in range(0, len(flat), 3)]


def skip_rows(w: WorkerHandle, frame: list[Any]) -> None:
    """A TASKS frame that could not be buffered: drop its rows' op notes to stay aligned."""
    rows = sum(w.edges.span(a, b) for a, b, _ in _reports(frame))
    try:
        _take_ops(w, rows)
    except StampMismatch:
        pass


def buffer_frame(w: WorkerHandle, frame: list[Any]) -> bool:
    """Copy the edge-ring entries one TASKS frame reports; True when a batch is due.

    The copy happens at once (the ring is reused, see edges.py); joining waits until
    `BATCH_ROWS` rows or the supervisor tick (`flush_rows` from the engine), because building
    and emitting a batch costs a few µs whatever its size.
    """
    for a, b, end_ns in _reports(frame):
        w.range_ends.append((w.edges.copy_into(a, b, w.start_buf, w.seq_buf), end_ns))
        w.edge_last = b
    if frame[2]:
        w.error_buf += frame[2]
        w.err_names = frame[3]
    return len(w.seq_buf) >= BATCH_ROWS * 8


def recover_unreported(w: WorkerHandle, seen_dead_ns: int) -> int:
    """Rows of tasks a dead worker answered but never reported; returns how many.

    A worker reports its finished ring entries when it flushes at the end of a read, but its
    results can reach the pool before that: the watchdog flushes results alone during a long
    task, and results committed to the shared ring are read after a crash. A worker killed
    in between (a crash in a later task of the same read, a timeout kill, SIGKILL) leaves
    tasks that the pool counted as done with no row, so every monitor would count fewer
    tasks than the pool. Their starts and ids are still in the edge ring: the entries after
    the last report up to the newest one. The newest is the task it died running when that
    one is still in flight (its row comes from the crash settlement), and then it also gives
    the previous task's end; otherwise the newest task's end was never reported, and the time
    the death was seen stands for it (an upper bound). Failures among them get their type
    from the answers (`answer_errors`).
    """
    ring = w.edges
    seq_newest, start_newest = ring.newest()
    if seq_newest < 0:
        return 0
    newest = int(ring.starts.argmax())
    unreported = ring.span(w.edge_last, newest)
    last, end_ns = newest, seen_dead_ns
    if unreported and any(f._seq == seq_newest for f in w.inflight):
        last, end_ns = (newest - 1) & ring.mask, start_newest
        unreported -= 1
    if not unreported:
        return 0
    first = (w.edge_last + 1) & ring.mask
    n = ring.copy_into(w.edge_last, last, w.start_buf, w.seq_buf)
    w.range_ends.append((n, end_ns))
    w.edge_last = last
    seqs = {int(ring.seqs[(first + i) & ring.mask]) for i in range(n)}
    failed = [(seq, name) for seq, name in w.answer_errors if seq in seqs]
    if failed:
        names = list(w.err_names)
        pairs = array("q")
        for seq, name in failed:
            if name not in names:
                names.append(name)
            pairs.extend((seq, names.index(name)))
        w.err_names = names
        w.error_buf += pairs.tobytes()
    return n


def take_rows(w: WorkerHandle, ops: tuple[str, ...], submits: SubmitStamps) -> TaskBatch | None:
    """Join and clear everything `buffer_frame` kept for worker `w` (None: no task rows)."""
    starts, seqs, errors, ends = w.start_buf, w.seq_buf, w.error_buf, w.range_ends
    w.start_buf, w.seq_buf, w.error_buf, w.range_ends = bytearray(), bytearray(), bytearray(), []
    return join_rows(w, starts, seqs, ends, errors, w.err_names, ops, submits)


def _column(values: Any) -> array[int]:
    """An int64 column from a contiguous numpy int64 array (one copy)."""
    col = array("q")
    col.frombytes(values.data.cast("B"))
    return col


def join_rows(
    w: WorkerHandle,
    starts_raw: bytes | bytearray,
    seqs: bytes | bytearray,
    range_ends: list[tuple[int, int]],
    errors: bytes | bytearray,
    err_names: Sequence[str],
    ops: tuple[str, ...],
    submits: SubmitStamps,
) -> TaskBatch | None:
    """The TaskBatch of worker `w`'s reported tasks (starts, ids, the end of each range).

    Within a range a task ends when the next one starts. Rows of tasks submitted before
    telemetry was last turned on (seq <= `submits.floor`) are left out: their wait is
    unknown. Raises StampMismatch if the columns and the pool's send notes disagree.
    """
    k = len(seqs) // 8
    if not k:
        return None
    op = _take_ops(w, k)  # first: whatever fails below, later rows keep their ops
    if len(starts_raw) != len(seqs) or sum(n for n, _ in range_ends) != k:
        raise StampMismatch(f"worker {w.wid}: {k} task ids, {len(starts_raw) // 8} starts")
    # Few passes, in place where the buffers are ours (this runs for every row the pool sees)
    starts = np.frombuffer(starts_raw, dtype=np.int64)
    durations = np.empty(k, dtype=np.int64)
    np.subtract(starts[1:], starts[:-1], out=durations[:-1])
    last = np.cumsum([n for n, _ in range_ends]) - 1
    durations[last] = np.array([end for _, end in range_ends], dtype=np.int64) - starts[last]
    seq_np = np.frombuffer(seqs, dtype=np.int64)
    now = time.monotonic_ns()
    waits = np.subtract(starts, submits.submit_times(seq_np, now))
    np.maximum(waits, 0, out=waits)
    offset = time.time_ns() - now
    seq = array("q")
    seq.frombytes(seqs)
    status = _ZERO * k
    error_type = _ZERO * k
    if errors:
        pairs = array("q")
        pairs.frombytes(errors)
        for i in range(0, len(pairs), 2):
            try:
                row = seq.index(pairs[i])
            except ValueError:
                continue  # a task that failed before telemetry was on
            status[row] = TASK_ERROR
            error_type[row] = pairs[i + 1]
    batch = TaskBatch.trusted(
        ops,
        tuple(err_names),
        seq,
        array("q", (w.wid,)) * k,
        op,
        _column(starts + offset),
        _column(durations),
        _column(waits),
        status,
        error_type,
    )
    if seq_np.min() <= submits.floor:
        batch = _only_after(batch, seq_np > submits.floor)
    return batch


def _only_after(batch: TaskBatch, keep: Any) -> TaskBatch:
    """Keep the rows where `keep` is true (tasks submitted while telemetry was on)."""
    rows = np.flatnonzero(keep)
    cols = [_column(np.frombuffer(col, dtype=np.int64)[rows]) for _, col in batch.columns()]
    return TaskBatch.trusted(batch.ops, batch.error_types, *cols)
