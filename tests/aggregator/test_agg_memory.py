"""Fixed memory: 10 million task events, and memory stops growing once the 1 h window is full."""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np

from poolmon.core import catalog as C
from poolmon.core.aggregator import Aggregator
from poolmon.core.events import Event
from poolmon.testing.clock import ManualClock

NS = 1_000_000_000
BATCH = 100_000
BATCHES = 100  # 10 million events
SPACING_S = 50  # 100 batches span 5000 s, well past the 1 h window


def test_ten_million_events_in_fixed_memory(make_batch) -> None:
    clock = ManualClock()
    agg = Aggregator(clock, forget_workers_after_s=120)
    rng = np.random.default_rng(7)
    dur = rng.lognormal(np.log(3e6), 1.0, BATCH).astype(np.int64)
    wait = rng.integers(0, 2_000_000, BATCH)
    ops = rng.integers(0, 4, BATCH)
    status = rng.choice([0, 0, 0, 0, 0, 0, 1, 2], BATCH)
    errs = np.where(status == 1, rng.integers(1, 3, BATCH), 0)
    offsets = rng.integers(0, NS, BATCH)
    sizes: list[tuple[int, int, int]] = []
    tracemalloc.start()
    try:
        for k in range(BATCHES):
            now = clock.time_ns()
            temp = 1000 + k  # a short-lived worker per batch: spawned, used, exited
            workers = rng.integers(0, 16, BATCH)
            workers[:10] = temp
            agg.ingest_event(Event(C.WORKER_SPAWN, now, {}, {"worker_id": temp, "pid": temp}))
            agg.ingest_tasks(
                make_batch(
                    end_ns=now - offsets,
                    duration_ns=dur,
                    wait_ns=wait,
                    worker_id=workers,
                    op=ops,
                    status=status,
                    error_type=errs,
                    task_id=np.arange(k * BATCH, (k + 1) * BATCH),
                    ops=("a", "b", "c", "d"),
                    error_types=("", "KeyError", "OSError"),
                )
            )
            agg.ingest_event(
                Event(C.WORKER_EXIT, now, {}, {"worker_id": temp, "reason": "recycle_tasks"})
            )
            agg.ingest_event(Event(C.POOL_STATUS, now, {"size": 16, "busy": 12, "queue_depth": 0}))
            agg.snapshot(3600)
            clock.advance(SPACING_S)
            if k >= 80:  # 4000 s in: every window, including the hour, has wrapped
                gc.collect()
                sizes.append((k, agg.nbytes, tracemalloc.get_traced_memory()[0]))
    finally:
        tracemalloc.stop()
    assert agg.snapshot(3600).tasks_finished > 0
    array_bytes = {s[1] for s in sizes}
    assert len(array_bytes) == 1, f"engine arrays grew: {sorted(array_bytes)}"
    traced = [s[2] for s in sizes]
    # Everything Python allocated (arrays, dicts, deques, records) stays flat within 1 %.
    assert max(traced) - min(traced) < 0.01 * min(traced), sizes
    assert len(agg.workers.rows) <= 16 + 120 // SPACING_S + 2
