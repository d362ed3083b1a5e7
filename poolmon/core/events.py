"""The two shapes telemetry takes on its way from the pool to a monitor.

* `Event`: one occurrence with a dotted name, numeric measurements (units in the field names:
  `duration_ns`, `rss_bytes`) and descriptive metadata. Used for everything that is not a
  per-task completion: lifecycle, errors, resources, pool status, user events.
* `TaskBatch`: many finished tasks at once, column by column. Per-task telemetry travels only in
  this form (one clock read per task edge in the worker, integer timestamps, `array('q')`
  columns), because a Python object or a message per task would cost the pool more than the task.

Both are immutable once built. Columns are `array.array('q')` so the protocol codec can ship
them as raw bytes and the aggregator can view them with `numpy.frombuffer` without copying.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

#: Outcome codes stored in `TaskBatch.status`.
TASK_OK: Final = 0
#: The task raised an exception.
TASK_ERROR: Final = 1
#: The task ran past its timeout; its worker was killed and replaced.
TASK_TIMEOUT: Final = 2
#: The worker running the task died (crash, kill, OOM) before answering.
TASK_CRASHED: Final = 3
#: The task was cancelled before it ran (shutdown with cancel_futures, or Future.cancel()).
TASK_CANCELLED: Final = 4

STATUS_NAMES: Final[tuple[str, ...]] = ("ok", "error", "timeout", "crashed", "cancelled")
"""Human names of the status codes, indexed by code."""

TASK_COLUMNS: Final[tuple[str, ...]] = (
    "task_id",
    "worker_id",
    "op",
    "start_ns",
    "duration_ns",
    "wait_ns",
    "status",
    "error_type",
)
"""The columns of a `TaskBatch`, in wire order. All are int64."""


@dataclass(frozen=True, slots=True)
class Event:
    """One telemetry event.

    Attributes:
        name: Dotted event name from the catalog (`poolmon.worker.exit`) or a user's own
            (`myapp.cache.hit`).
        ts_ns: Wall-clock time of the event in nanoseconds since the epoch.
        measurements: Numbers, each with its unit in its name.
        metadata: Descriptive values: pool, worker_id, pid, reason, ...
    """

    name: str
    ts_ns: int
    measurements: Mapping[str, int | float] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)


def _empty() -> array[int]:
    return array("q")


@dataclass(frozen=True, slots=True)
class TaskBatch:
    """Finished tasks in columns; row `i` of every column describes one task.

    Attributes:
        ops: Operation names; the `op` column indexes into it.
        error_types: Exception type names; the `error_type` column indexes into it, and index 0
            is always the empty string, meaning "no error".
        task_id: Pool-assigned task id.
        worker_id: Worker that ran (or was running) the task; -1 when it never ran.
        op: Index into `ops`.
        start_ns: Wall-clock time the task started running (ns since the epoch); for a task that
            never ran, the time it left the queue.
        duration_ns: Running time in ns, measured in the worker with a monotonic clock.
        wait_ns: Time from submit to start (queue wait) in ns.
        status: One of the TASK_* codes.
        error_type: Index into `error_types`.
    """

    ops: tuple[str, ...] = ()
    error_types: tuple[str, ...] = ("",)
    task_id: array[int] = field(default_factory=_empty)
    worker_id: array[int] = field(default_factory=_empty)
    op: array[int] = field(default_factory=_empty)
    start_ns: array[int] = field(default_factory=_empty)
    duration_ns: array[int] = field(default_factory=_empty)
    wait_ns: array[int] = field(default_factory=_empty)
    status: array[int] = field(default_factory=_empty)
    error_type: array[int] = field(default_factory=_empty)

    def __post_init__(self) -> None:
        n = len(self.task_id)
        for name in TASK_COLUMNS:
            if len(getattr(self, name)) != n:
                raise ValueError(
                    f"TaskBatch column {name!r} has {len(getattr(self, name))} rows, expected {n}"
                )
        if not self.error_types or self.error_types[0] != "":
            raise ValueError("TaskBatch.error_types[0] must be '' (no error)")

    @classmethod
    def trusted(
        cls,
        ops: tuple[str, ...],
        error_types: tuple[str, ...],
        task_id: array[int],
        worker_id: array[int],
        op: array[int],
        start_ns: array[int],
        duration_ns: array[int],
        wait_ns: array[int],
        status: array[int],
        error_type: array[int],
    ) -> TaskBatch:
        """Build a batch without `__post_init__`'s checks, for producers that guarantee them.

        Why: the pool builds a batch per worker flush, often of a handful of rows, and the
        checks cost as much as the rest of the build. The caller promises what the checks
        verify: every column an `array('q')` of the same length, `error_types[0] == ""`.
        """
        batch = object.__new__(cls)
        put = object.__setattr__
        put(batch, "ops", ops)
        put(batch, "error_types", error_types)
        put(batch, "task_id", task_id)
        put(batch, "worker_id", worker_id)
        put(batch, "op", op)
        put(batch, "start_ns", start_ns)
        put(batch, "duration_ns", duration_ns)
        put(batch, "wait_ns", wait_ns)
        put(batch, "status", status)
        put(batch, "error_type", error_type)
        return batch

    def __len__(self) -> int:
        return len(self.task_id)

    def columns(self) -> Iterator[tuple[str, array[int]]]:
        """Yield `(name, column)` in wire order."""
        for name in TASK_COLUMNS:
            yield name, getattr(self, name)

    @classmethod
    def from_rows(
        cls,
        rows: Sequence[tuple[int, int, str, int, int, int, int, str]],
    ) -> TaskBatch:
        """Build a batch from row tuples that carry names instead of indexes.

        Each row is `(task_id, worker_id, op, start_ns, duration_ns, wait_ns, status,
        error_type)`. Convenient for tests, recordings and slow paths; the pool builds
        columns directly.
        """
        ops: dict[str, int] = {}
        errs: dict[str, int] = {"": 0}
        cols: list[array[int]] = [array("q") for _ in TASK_COLUMNS]
        for task_id, worker_id, op, start_ns, duration_ns, wait_ns, status, err in rows:
            values = (
                task_id,
                worker_id,
                ops.setdefault(op, len(ops)),
                start_ns,
                duration_ns,
                wait_ns,
                status,
                errs.setdefault(err, len(errs)),
            )
            for col, value in zip(cols, values, strict=True):
                col.append(value)
        return cls(tuple(ops), tuple(errs), *cols)

    @classmethod
    def concat(cls, batches: Sequence[TaskBatch]) -> TaskBatch:
        """Join batches into one, merging their name tables.

        Consumers pay a fixed cost per ingested batch, so a monitor that receives many small
        batches joins them before ingesting (a few times a second) instead of one call each.
        """
        if len(batches) == 1:
            return batches[0]
        ops: dict[str, int] = {}
        errs: dict[str, int] = {"": 0}
        cols: dict[str, array[int]] = {name: array("q") for name in TASK_COLUMNS}
        for batch in batches:
            op_map = [ops.setdefault(name, len(ops)) for name in batch.ops]
            err_map = [errs.setdefault(name, len(errs)) for name in batch.error_types]
            for name, column in batch.columns():
                if name == "op" and op_map != list(range(len(op_map))):
                    cols[name].extend(op_map[i] for i in column)
                elif name == "error_type" and err_map != list(range(len(err_map))):
                    cols[name].extend(err_map[i] for i in column)
                else:
                    cols[name].extend(column)
        return cls(tuple(ops), tuple(errs), **cols)

    def rows(self) -> Iterator[tuple[int, int, str, int, int, int, int, str]]:
        """Yield row tuples with names resolved (the inverse of `from_rows`)."""
        for i in range(len(self)):
            yield (
                self.task_id[i],
                self.worker_id[i],
                self.ops[self.op[i]],
                self.start_ns[i],
                self.duration_ns[i],
                self.wait_ns[i],
                self.status[i],
                self.error_types[self.error_type[i]],
            )
