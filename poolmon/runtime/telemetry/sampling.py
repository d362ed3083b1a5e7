"""Sampling of per-task detail that keeps every count exact.

Why: a monitor that only wants latency percentiles does not need every successful row of a
million-task-per-second pool, but it must never under-count tasks or errors. So sampling keeps
one successful row in N (chosen by task id, so the choice is deterministic and spread evenly),
keeps every failed, timed-out, crashed and cancelled row, and the batch's metadata carries the
exact totals of the rows before sampling.
"""

from __future__ import annotations

from array import array
from typing import Any

import numpy as np

from poolmon.core.events import STATUS_NAMES, TASK_COLUMNS, TASK_OK, TaskBatch

SAMPLE_KEYS = (
    "sample_every",
    "tasks_total",
    "status_counts",
    "duration_ns_total",
    "wait_ns_total",
)
"""Metadata keys a sampled batch carries (see `totals_metadata`)."""


def _view(column: array[int]) -> np.ndarray[Any, np.dtype[np.int64]]:
    return np.frombuffer(column, dtype=np.int64) if len(column) else np.zeros(0, np.int64)


def totals_metadata(batch: TaskBatch, every: int) -> dict[str, Any]:
    """Exact totals of `batch` before sampling, for the metadata of its sampled version.

    Returns ``sample_every`` (the stride), ``tasks_total`` (rows before sampling),
    ``status_counts`` (a tuple indexed by the TASK_* status codes), ``duration_ns_total`` and
    ``wait_ns_total`` (sums over every row). A consumer scales nothing: it reads counts from
    here and uses the sampled rows only for distributions.
    """
    status = _view(batch.status)
    counts = np.bincount(status, minlength=len(STATUS_NAMES)) if len(status) else None
    return {
        "sample_every": every,
        "tasks_total": len(batch),
        "status_counts": tuple(int(c) for c in counts)
        if counts is not None
        else (0,) * len(STATUS_NAMES),
        "duration_ns_total": int(_view(batch.duration_ns).sum()),
        "wait_ns_total": int(_view(batch.wait_ns).sum()),
    }


def sample_batch(batch: TaskBatch, every: int) -> TaskBatch:
    """Keep every non-OK row and the OK rows whose task id is a multiple of `every`.

    Returns `batch` itself when nothing would be dropped. Raises ValueError for `every` < 1.
    """
    if every < 1:
        raise ValueError(f"sample_every must be >= 1, got {every}")
    if every == 1 or not len(batch):
        return batch
    keep = (_view(batch.status) != TASK_OK) | (_view(batch.task_id) % every == 0)
    if bool(keep.all()):
        return batch
    columns = []
    for name in TASK_COLUMNS:
        column: array[int] = array("q")
        column.frombytes(_view(getattr(batch, name))[keep].tobytes())
        columns.append(column)
    return TaskBatch(batch.ops, batch.error_types, *columns)
