"""One operation's drill-down: its own throughput, latency histogram, errors, tasks, workers.

Why: the operations table says which operation is slow or failing; the next questions are
since when (its throughput and failure rate over the window), how its latency is spread (its
histogram, not the pool's), which exceptions (its error types), which tasks (its slowest
recent ones) and where (the workers that ran it). All of it is read from the aggregator under
its lock in one call (`operation_detail`), like a worker's drill-down:

* throughput and failures per second: the per-operation counters (`TaskStats.ops`), on the
  pool-wide time grid, so they line up with the overview's charts;
* the histogram and the table row: the per-operation slots (one window per row);
* error types: `TaskStats.op_errors` (per operation and type) over the row's window (the
  per-operation slots' span, so they add up to the row's failures); failures counted only from
  backfilled history (rollups carry no per-operation types) are `unattributed`;
* slowest tasks and workers: the recent tasks each worker keeps (`RECENT_TASKS` per worker),
  so they describe recent work, not the whole window; and which workers run it now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from poolmon.core import series as S
from poolmon.core.batchview import NS_PER_S
from poolmon.core.queries import _histogram, operations, window_first_s
from poolmon.core.snapshot import Histogram, OperationView, Series, TaskRecord
from poolmon.core.taskstats import OP_ERROR_SEP
from poolmon.core.workers import RECENT_TASKS

if TYPE_CHECKING:
    from poolmon.core.aggregator import Aggregator

SLOWEST_SHOWN = 10
"""Slowest recent tasks listed."""


@dataclass(frozen=True, slots=True)
class SlowTask:
    """A recent task of the operation and the worker that ran it."""

    worker_id: int
    task: TaskRecord


@dataclass(frozen=True, slots=True)
class OpWorker:
    """A worker that ran the operation recently, or runs it now."""

    worker_id: int
    recent: int
    """Tasks of the operation among the worker's last `RECENT_TASKS`."""
    running: bool
    """Whether it is running the operation now."""
    alive: bool = True


@dataclass(frozen=True, slots=True)
class OperationDetail:
    """Everything the operation drill-down shows (see the module doc).

    `view` is None when the operation ran nothing in the window. `unattributed` counts
    failures of the window whose error type is not known per operation (from history).
    """

    name: str
    window_s: int = 60
    taken_at_ns: int = 0
    view: OperationView | None = None
    throughput: Series = field(default_factory=Series)
    failures: Series = field(default_factory=Series)
    histogram: Histogram = field(default_factory=Histogram)
    error_types: tuple[tuple[str, int], ...] = ()
    unattributed: int = 0
    slowest: tuple[SlowTask, ...] = ()
    workers: tuple[OpWorker, ...] = ()
    recent_per_worker: int = RECENT_TASKS


def _op_series(agg: Aggregator, col: int, fld: int, first_s: int, now_s: int, step: int) -> Series:
    """Per-second rate of one operation's field (0 finished, 1 failed) up to the last full slot."""
    ring = agg.stats.ops.ring
    end_s = max(now_s - now_s % step, first_s + step)
    grid = S.grid_for(ring, first_s * NS_PER_S, end_s * NS_PER_S, step, now_s)
    cov = S.covered(agg.coverage, grid)
    rows = S.point_rows(ring, grid)
    return Series(grid.start_ns, grid.step_s * NS_PER_S, tuple(S.rates(rows[:, col, fld], cov)))


def operation_detail(agg: Aggregator, name: str, window_s: int) -> OperationDetail:
    """The drill-down of operation `name` over the window (see `OperationDetail`)."""
    view = next((o for o in operations(agg, window_s) if o.name == name), None)
    now = agg.now_ns()
    now_s = now // NS_PER_S
    st = agg.stats
    col = st.ops.keys._index.get(name)
    slowest, workers = _recent(agg, name)
    if col is None:
        return OperationDetail(name, window_s, now, view, slowest=slowest, workers=workers)
    first_s = window_first_s(st.status, now_s, window_s)
    step = st.status.for_window(window_s).slot_s
    ring = st.op_latency.get(col)
    histogram = _histogram(ring.window_counts(now_s, window_s)[0]) if ring else Histogram()
    prefix = name + OP_ERROR_SEP
    span = now_s - window_first_s(st.op_counts.ring, now_s, window_s) + 1  # the row's window
    types = sorted(
        (
            (label[len(prefix) :], n)
            for label, n in st.op_errors.window(now_s, span).items()
            if label.startswith(prefix) and n
        ),
        key=lambda kv: (-kv[1], kv[0]),
    )
    failed = view.errors if view is not None else 0
    return OperationDetail(
        name=name,
        window_s=window_s,
        taken_at_ns=now,
        view=view,
        throughput=_op_series(agg, col, 0, first_s, now_s, step),
        failures=_op_series(agg, col, 1, first_s, now_s, step),
        histogram=histogram,
        error_types=tuple(types),
        unattributed=max(0, failed - sum(n for _, n in types)),
        slowest=slowest,
        workers=workers,
    )


def _recent(agg: Aggregator, name: str) -> tuple[tuple[SlowTask, ...], tuple[OpWorker, ...]]:
    """The slowest of the workers' recent tasks of `name`, and the workers that ran it."""
    tasks: list[SlowTask] = []
    workers: list[OpWorker] = []
    for wid, rec in sorted(agg.workers.rows.items()):
        mine = [TaskRecord(*t) for t in rec.recent if t[1] == name]
        running = rec.alive and rec.current_op == name
        tasks.extend(SlowTask(wid, t) for t in mine)
        if mine or running:
            workers.append(OpWorker(wid, len(mine), running, rec.alive))
    order = np.argsort([-t.task.duration_ns for t in tasks], kind="stable")
    slowest = tuple(tasks[i] for i in order[:SLOWEST_SHOWN].tolist())
    workers.sort(key=lambda w: (not w.running, -w.recent, w.worker_id))
    return slowest, tuple(workers)
