"""Counting a pool's telemetry stream directly (numpy and dicts, no aggregator code).

The judge for tests of what the monitor shows: whatever path the records take to the
monitor (live, resumed, backfilled, cut off and sent again), its counts must equal these.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from poolmon.core import catalog as C
from poolmon.core.events import STATUS_NAMES, TASK_CANCELLED, TASK_OK, Event, TaskBatch
from poolmon.core.snapshot import PoolSnapshot


class StreamCounts:
    """Totals, per operation, per worker, per error type and category, spawns per worker."""

    def __init__(self) -> None:
        self.ops: Counter[tuple[str, str]] = Counter()
        self.workers: Counter[tuple[int, str]] = Counter()
        self.error_types: Counter[str] = Counter()
        self.categories: Counter[str] = Counter()
        self.spawns: Counter[int] = Counter()
        self.status: dict[str, Any] = {}
        self.status_workers: list[dict[str, Any]] = []
        self.finished = 0

    def event(self, e: Event) -> None:
        """Count one plain event."""
        m, md = e.measurements, e.metadata
        if e.name == C.WORKER_SPAWN:
            self.spawns[int(md["worker_id"])] += 1
        elif e.name == C.TASK_EXCEPTION:
            self.categories[str(md.get("category") or "task")] += 1
        elif e.name == C.ERROR:
            self.categories[str(md.get("category") or "unknown")] += int(m.get("count", 1))
        elif e.name == C.POOL_STATUS:
            self.status = dict(m)
            self.status_workers = list(md.get("workers") or [])

    def restarts(self) -> dict[int, int]:
        """Restarts of each live worker: the pool's per-slot count, else its id's respawns."""
        if not self.status_workers:  # a stream without worker rows: ids are reused
            return {w: n - 1 for w, n in self.spawns.items() if n > 1}
        out = {}
        for row in self.status_workers:
            wid = int(row["worker_id"])
            n = row["restarts"] if "restarts" in row else self.spawns[wid] - 1
            if n > 0:
                out[wid] = n
        return out

    def tasks(self, batch: TaskBatch) -> None:
        """Count one task batch, row by row."""
        status = np.frombuffer(batch.status, dtype=np.int64)
        ops = np.frombuffer(batch.op, dtype=np.int64)
        wids = np.frombuffer(batch.worker_id, dtype=np.int64)
        etypes = np.frombuffer(batch.error_type, dtype=np.int64)
        for st, op, wid, et in zip(status, ops, wids, etypes, strict=True):
            if st == TASK_CANCELLED:
                continue
            self.finished += 1
            self.ops[(batch.ops[op], "count")] += 1
            if wid >= 0:
                self.workers[(int(wid), "done")] += 1
            if st != TASK_OK:
                self.ops[(batch.ops[op], "errors")] += 1
                if wid >= 0:
                    self.workers[(int(wid), "failed")] += 1
                self.error_types[batch.error_types[et] or STATUS_NAMES[st]] += 1

    def expected(self, pool_restarts: int = 0) -> dict[str, Any]:
        """What a monitor that missed nothing shows (compare with `shown`)."""
        return {
            "finished": self.finished,
            "window_finished": self.finished,
            "ops": self.ops,
            "workers": self.workers,
            "error_types": self.error_types,
            "categories": self.categories,
            "restarts": self.restarts(),
            "pool_restarts": pool_restarts,
            "pool_done": int(self.status["tasks_done"]) if "tasks_done" in self.status else None,
        }


def shown(snap: PoolSnapshot) -> dict[str, Any]:
    """The same figures as a monitor's snapshot (a window long enough for the whole run)."""
    ops: Counter[tuple[str, str]] = Counter()
    for o in snap.operations:
        ops[(o.name, "count")] += o.count
        if o.errors:
            ops[(o.name, "errors")] += o.errors
    workers: Counter[tuple[int, str]] = Counter()
    for w in snap.workers:
        if w.tasks_done:
            workers[(w.worker_id, "done")] += w.tasks_done
        if w.tasks_failed:
            workers[(w.worker_id, "failed")] += w.tasks_failed
    return {
        "finished": snap.tasks_finished_total,
        "window_finished": snap.tasks_finished,
        "ops": ops,
        "workers": workers,
        "error_types": Counter(dict(snap.errors.by_type)),
        "categories": Counter(dict(snap.errors.by_category)),
        "restarts": {w.worker_id: w.restarts for w in snap.workers if w.alive and w.restarts},
        "pool_restarts": snap.pool_restarts,
        "pool_done": snap.pool_tasks_done_total,
    }
