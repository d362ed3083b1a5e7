"""Per-task telemetry rows, joined in the pool from worker end stamps and the pool's futures.

Why here and not in the worker: a worker task costs ~1.7 µs, and a 7-field row per task
there cost ~240 ns (~14 %). The worker now records one int64 per task (its end edge, see
`worker_main._TaskStamps`); the pool already knows each task's id, op and submit time from
its future. It copies them into int64 columns when it sends the tasks (`remember_sent`,
while the futures are still in cache: read later, ~1 000 rows on, they cost ~3x more), and
joins them with the stamps once per batch (`join_rows`), vectorised with numpy for large
batches, with tight comprehensions for small ones (where numpy's per-call cost dominates).
"""

from __future__ import annotations

import struct
import time
from array import array
from collections.abc import Sequence
from typing import Any

import numpy as np

from poolmon.core.events import TASK_ERROR, TaskBatch
from poolmon.runtime.pool.future import PoolFuture
from poolmon.runtime.pool.worker import WorkerHandle

_NUMPY_ROWS = 32  # below this, plain comprehensions beat numpy's per-call overhead
BATCH_ROWS = 2048  # task rows the pool collects from a worker before emitting them as a batch


class StampMismatch(Exception):
    """A worker reported more task edges than tasks the pool sent it with telemetry on."""


def remember_sent(w: WorkerHandle, futs: list[PoolFuture]) -> None:
    """Record id, op and submit time of tasks sent to `w` while it records stamps, in order."""
    n = len(futs)
    try:
        op = [f._op for f in futs]
        sub = [f._submit_ns for f in futs]
    except AttributeError:  # submitted on the fast path while telemetry was off: no row
        op = [getattr(f, "_op", 0) for f in futs]
        sub = [getattr(f, "_submit_ns", 0) for f in futs]
    w.sent_seq += struct.pack(f"{n}q", *[f._seq for f in futs])
    w.sent_op += struct.pack(f"{n}q", *op)
    w.sent_sub += struct.pack(f"{n}q", *sub)


def buffer_frame(w: WorkerHandle, frame: list[Any]) -> bool:
    """Keep one TASKS frame's stamps until enough rows make a batch; True when that is now.

    Why buffer: a worker sends its stamps with every result flush, which for a worker that
    keeps up with the pool is every few tasks; building and emitting a batch costs a few µs
    whatever its size, so the pool joins rows per `BATCH_ROWS`, or per supervisor tick
    (`flush_rows` from the engine), not per frame. The bytes are already in the pool, so a
    worker crash loses none of them.
    """
    w.stamp_buf += frame[1]
    if frame[2]:
        w.error_buf += frame[2]
        w.err_names = frame[3]
    return len(w.stamp_buf) >= BATCH_ROWS * 8


def take_rows(w: WorkerHandle, ops: tuple[str, ...]) -> TaskBatch | None:
    """Join and clear everything `buffer_frame` kept for worker `w` (None: no task rows)."""
    stamps = bytes(w.stamp_buf)
    errors = bytes(w.error_buf)
    w.stamp_buf.clear()
    w.error_buf.clear()
    return join_rows(w, stamps, errors, w.err_names, ops)


def _take(buf: bytearray, k: int) -> array[int]:
    """The first `k` int64 values of `buf` as a column, removed from it."""
    col = array("q")
    col.frombytes(buf[: 8 * k])
    del buf[: 8 * k]
    return col


def _column(values: Any) -> array[int]:
    """An int64 column from a numpy int64 array."""
    col = array("q")
    col.frombytes(values.tobytes())
    return col


def _edges_small(w: WorkerHandle, raw: bytes) -> tuple[list[int], list[int]]:
    """(starts, ends) of the tasks in a short stamps blob; updates the worker's last edge."""
    stamps = array("q")
    stamps.frombytes(raw)
    starts: list[int] = []
    ends: list[int] = []
    last = w.last_edge_ns
    for v in stamps:
        if v < 0:
            last = -v
        else:
            starts.append(last)
            ends.append(v)
            last = v
    w.last_edge_ns = last
    return starts, ends


def join_rows(
    w: WorkerHandle,
    stamps: bytes,
    errors: bytes,
    err_names: Sequence[str],
    ops: tuple[str, ...],
) -> TaskBatch | None:
    """The TaskBatch for stamps and errors of worker `w`, or None when they hold no task edge.

    Raises StampMismatch (after consuming what it could) if the worker reported more edges
    than futures are waiting for them: the stream and the pool disagree, a bug to surface.
    """
    if not stamps:
        return None
    big = len(stamps) >= _NUMPY_ROWS * 8
    if big:
        st = np.frombuffer(stamps, dtype=np.int64)
        edge = np.abs(st)
        mask = st > 0
        ends_np = st[mask]
        k = len(ends_np)
        starts_np = np.concatenate(([w.last_edge_ns], edge[:-1]))[mask]
        w.last_edge_ns = int(edge[-1])
    else:
        starts, ends = _edges_small(w, stamps)
        k = len(ends)
    if not k:
        return None
    if len(w.sent_seq) < 8 * k:
        n = len(w.sent_seq) // 8
        del w.sent_seq[:], w.sent_op[:], w.sent_sub[:]
        raise StampMismatch(f"worker {w.wid} reported {k} task edges for {n} tasks")
    seq = _take(w.sent_seq, k)
    op = _take(w.sent_op, k)
    sub = _take(w.sent_sub, k)
    offset = time.time_ns() - time.monotonic_ns()
    if big:
        start_col = _column(starts_np + offset)
        duration_col = _column(ends_np - starts_np)
        wait_col = _column(starts_np - np.frombuffer(sub, dtype=np.int64))
    else:
        start_col = array("q", [s + offset for s in starts])
        duration_col = array("q", [e - s for s, e in zip(starts, ends, strict=True)])
        wait_col = array("q", [s - b for s, b in zip(starts, sub, strict=True)])
    status = array("q", bytes(8 * k))
    error_type = array("q", bytes(8 * k))
    if errors:
        pairs = array("q")
        pairs.frombytes(errors)
        for i in range(0, len(pairs), 2):
            row = seq.index(pairs[i])
            status[row] = TASK_ERROR
            error_type[row] = pairs[i + 1]
    batch = TaskBatch.trusted(
        ops,
        tuple(err_names),
        seq,
        array("q", [w.wid]) * k,
        op,
        start_col,
        duration_col,
        wait_col,
        status,
        error_type,
    )
    if 0 in sub:
        batch = _only_timed(batch, sub)
    return batch


def _only_timed(batch: TaskBatch, sub: array[int]) -> TaskBatch:
    """Drop rows of tasks submitted before telemetry was on (no submit time, so no row)."""
    keep = [i for i, s in enumerate(sub) if s]
    cols = [array("q", [col[i] for i in keep]) for _, col in batch.columns()]
    return TaskBatch.trusted(batch.ops, batch.error_types, *cols)
