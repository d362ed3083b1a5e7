"""Zero-copy numpy views of a `TaskBatch`, grouped by the second each task finished in.

Both the aggregator and the rollup builder need the same first step: view the `array('q')`
columns as int64 arrays (`numpy.frombuffer`, no copy), work out each task's completion second
(`(start_ns + duration_ns) // 1e9`: throughput counts completions) and split the rows by that
second. A live batch almost always falls in one second, so that case returns the views as they
are; a backfill batch spanning many seconds is split with one stable argsort.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from poolmon.core.events import TASK_CANCELLED, TASK_COLUMNS, TASK_OK, TaskBatch

I64 = npt.NDArray[np.int64]
NS_PER_S = 1_000_000_000


@dataclass(frozen=True, slots=True)
class BatchView:
    """Columns of (part of) a batch as int64 numpy arrays, plus the batch's name tables."""

    ops: tuple[str, ...]
    error_types: tuple[str, ...]
    task_id: I64
    worker_id: I64
    op: I64
    start_ns: I64
    duration_ns: I64
    wait_ns: I64
    status: I64
    error_type: I64

    @classmethod
    def of(cls, batch: TaskBatch) -> BatchView:
        """View a batch's columns without copying them."""

        def col(a: object) -> I64:
            return np.frombuffer(a, dtype=np.int64)  # type: ignore[call-overload,no-any-return]

        return cls(
            batch.ops,
            batch.error_types,
            col(batch.task_id),
            col(batch.worker_id),
            col(batch.op),
            col(batch.start_ns),
            col(batch.duration_ns),
            col(batch.wait_ns),
            col(batch.status),
            col(batch.error_type),
        )

    def __len__(self) -> int:
        return len(self.task_id)

    def take(self, rows: npt.NDArray[np.intp] | slice) -> BatchView:
        """The subset of rows `rows` (a copy for index arrays, a view for slices)."""
        return BatchView(
            self.ops,
            self.error_types,
            self.task_id[rows],
            self.worker_id[rows],
            self.op[rows],
            self.start_ns[rows],
            self.duration_ns[rows],
            self.wait_ns[rows],
            self.status[rows],
            self.error_type[rows],
        )

    def by_second(self) -> Iterator[tuple[int, BatchView]]:
        """Yield `(completion_second, rows)` groups in time order."""
        n = len(self)
        if n == 0:
            return
        end_s = (self.start_ns + self.duration_ns) // NS_PER_S
        lo, hi = int(end_s.min()), int(end_s.max())
        if lo == hi:
            yield lo, self
            return
        order = np.argsort(end_s, kind="stable")
        sorted_s = end_s[order]
        seconds, starts = np.unique(sorted_s, return_index=True)
        bounds = [*starts.tolist(), n]
        for i, sec in enumerate(seconds.tolist()):
            yield int(sec), self.take(order[bounds[i] : bounds[i + 1]])

    def validate(self) -> None:
        """Raise ValueError when an index column points outside its name table."""
        if len(self) == 0:
            return
        if self.op.min() < 0 or self.op.max() >= max(len(self.ops), 1):
            raise ValueError(f"TaskBatch op index outside its {len(self.ops)} operation names")
        if self.error_type.min() < 0 or self.error_type.max() >= len(self.error_types):
            raise ValueError(
                f"TaskBatch error_type index outside its {len(self.error_types)} type names"
            )
        if self.status.min() < TASK_OK or self.status.max() > TASK_CANCELLED:
            raise ValueError("TaskBatch status outside the TASK_* codes")


def rows_from_second(batch: TaskBatch, first_second: int, floor_s: int) -> TaskBatch | None:
    """The rows of `batch` counted in `first_second` or later (None if none were).

    A row is counted in its completion second, or in `floor_s` (the first second still open
    when the batch arrived) if its own had closed by then.
    """
    if floor_s >= first_second:
        return batch
    view = BatchView.of(batch)
    end_s = (view.start_ns + view.duration_ns) // NS_PER_S
    keep = end_s >= first_second
    if keep.all():
        return batch
    if not keep.any():
        return None
    idx = np.flatnonzero(keep)
    cols = [getattr(view, name)[idx] for name in TASK_COLUMNS]
    return TaskBatch(
        batch.ops, batch.error_types, *(array("q", c.astype("<i8").tobytes()) for c in cols)
    )


def last_second(batch: TaskBatch) -> int:
    """The latest completion second of a batch's rows (-1 for an empty batch)."""
    if len(batch.task_id) == 0:
        return -1
    view = BatchView.of(batch)
    return int((view.start_ns + view.duration_ns).max()) // NS_PER_S
