"""What the monitor endpoint costs a pool that nobody is watching (part of the endpoint suite).

Every `poolmon.Pool` serves the endpoint by default, so its cost with no monitor attached is
paid by everyone. Two measurements:

* **rollup**: CPU time per task of the endpoint's history path alone (`History.add_tasks`,
  `commit` per simulated flush, `tick` per second, so the per-second rollups are built and
  closed), fed batches shaped like a busy pool's (337 rows: the mean batch of a 2-worker pool
  running trivial tasks, measured; and 3000 rows). Thread CPU time, so a busy neighbour
  slows the figure less than wall time would; median of the repetitions.
* **cost**: throughput of one real `poolmon.Pool` (2 workers, trivial tasks) with no endpoint
  and no listener (what `Pool(monitor=False)` runs), with only a batch handler that counts
  rows (the pool's own per-task telemetry, which any batch listener switches on), with that
  plus a catch-all event handler that counts (everything the endpoint listens to, minus the
  endpoint), and with the endpoint serving and nobody attached; round-robin, medians. Beside
  throughput: the process CPU time per task of each contender, and the endpoint thread's CPU
  time per task (from after the warm-up to after the next heartbeat tick, so the timed rows'
  rollups are included); both are far less sensitive than throughput to the load of the
  other engineers on these 2 shared cores.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from array import array
from pathlib import Path
from typing import Any

import numpy as np

from poolmon.bench.common import median, round_robin
from poolmon.core.batchview import NS_PER_S
from poolmon.core.events import TASK_COLUMNS, TaskBatch
from poolmon.runtime.endpoint import EndpointServer
from poolmon.runtime.endpoint.history import History
from poolmon.runtime.telemetry import Telemetry

POOL_BATCH_ROWS = 337
"""Mean rows per TaskBatch from a 2-worker pool running trivial tasks (measured)."""
_RATE = 300_000  # simulated tasks per second (a busy pool on this machine)
_FLUSH_BATCHES = 4  # batches per simulated server flush (5 ms at _RATE)
_CHUNK = 64  # batches built (untimed) before each timed group: warm in cache, as in a pool


class _BatchSource:
    """Batches of `rows` tasks (4 ops, 2 workers, 2 % errors) finishing at `_RATE` per second.

    Each batch is built just before it is used, like the pool's IO thread builds it just
    before the endpoint gets it: its columns are warm in cache, as they are in a real pool.
    """

    def __init__(self, rows: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.rows = rows
        self.t0 = time.time_ns() // NS_PER_S * NS_PER_S
        dur = rng.lognormal(np.log(20e3), 1.0, (8, rows)).astype(np.int64)
        status = np.where(rng.random((8, rows)) < 0.02, 1, 0)
        self._templates = [
            {
                "worker_id": rng.integers(0, 2, rows),
                "op": rng.integers(0, 4, rows),
                "duration_ns": dur[k],
                "wait_ns": rng.integers(0, 50_000, rows),
                "status": status[k],
                "error_type": status[k],
            }
            for k in range(8)
        ]
        self._end = np.arange(rows, dtype=np.int64) * (NS_PER_S // _RATE)

    def batch(self, i: int) -> TaskBatch:
        """The i-th batch (rows `i * rows` onwards)."""
        cols = dict(self._templates[i % 8])
        end = self.t0 + (i * self.rows) * (NS_PER_S // _RATE) + self._end
        cols["task_id"] = i * self.rows + np.arange(self.rows)
        cols["start_ns"] = end - cols["duration_ns"]
        return TaskBatch(
            ("op0", "op1", "op2", "op3"),
            ("", "ValueError"),
            *(array("q", np.asarray(cols[c], dtype=np.int64).tobytes()) for c in TASK_COLUMNS),
        )


def rollup_ns_per_task(rows: int, total: int, reps: int) -> float:
    """CPU ns per task of the history path (add, commit per flush, tick per second).

    Only the history calls are timed (thread CPU time around each group of `_CHUNK` batches);
    building the batches, just before each group, is not.
    """
    source = _BatchSource(rows)
    n_batches = max(total // rows, _CHUNK)
    clock = time.thread_time_ns
    results = []
    for _ in range(reps):
        history = History()
        next_tick = now = spent = 0
        for first in range(0, n_batches, _CHUNK):
            batches = [source.batch(i) for i in range(first, first + _CHUNK)]
            started = clock()
            for i, batch in enumerate(batches, first):
                history.add_tasks(batch)
                if i % _FLUSH_BATCHES == _FLUSH_BATCHES - 1:
                    history.commit()
                now = batch.start_ns[-1] + batch.duration_ns[-1]
                if now >= next_tick:
                    history.tick(now)
                    next_tick = now + NS_PER_S
            spent += clock() - started
        started = clock()
        history.tick(now + 10 * NS_PER_S)  # close every second: all rows rolled up
        spent += clock() - started
        results.append(spent / (-(-n_batches // _CHUNK) * _CHUNK * rows))
    return median(results)


def run_rollup(quick: bool, reps: int) -> dict[str, float]:
    """Figures: `rollup_ns_per_task` (337-row batches) and `rollup_ns_per_task_batch_3000`."""
    total = 300_000 if quick else 1_500_000
    return {
        "rollup_ns_per_task": round(rollup_ns_per_task(POOL_BATCH_ROWS, total, reps), 1),
        "rollup_ns_per_task_batch_3000": round(rollup_ns_per_task(3000, total, reps), 1),
    }


def _endpoint_thread() -> threading.Thread:
    return next(t for t in threading.enumerate() if t.name == "poolmon-endpoint")


def run_cost(n_tasks: int, reps: int) -> tuple[dict[str, Any], dict[str, float]]:
    """Throughput and CPU per task: no endpoint, a counting batch handler, the endpoint."""
    from poolmon import Pool
    from poolmon.bench.tasks import ident

    telemetry = Telemetry()
    pool = Pool(2, name="bench-endpoint-cost", monitor=False, telemetry=telemetry)
    path = Path(tempfile.mkdtemp(prefix="pmb", dir="/tmp")) / "cost.sock"
    cpu: dict[str, list[float]] = {k: [] for k in ("no_endpoint", "count_only", "count_all")}
    cpu["endpoint"] = []
    thread_cpu: list[float] = []

    def warm() -> None:
        # Untimed: the pool picks up listeners, a fresh server folds its first rows.
        time.sleep(0.05)
        for f in [pool.submit(ident, i) for i in range(n_tasks // 2)]:
            f.result()

    def timed(kind: str) -> float:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for f in [pool.submit(ident, i) for i in range(n_tasks)]:
            f.result()
        wall = time.perf_counter() - wall0
        cpu[kind].append((time.process_time() - cpu0) / n_tasks * 1e9)
        return n_tasks / wall

    def no_endpoint() -> float:
        warm()
        return timed("no_endpoint")

    def count_only() -> float:
        rows = [0]
        telemetry.attach_batch("bench.count", lambda b, _m: rows.__setitem__(0, rows[0] + len(b)))
        try:
            warm()
            return timed("count_only")
        finally:
            telemetry.detach("bench.count")

    def count_all() -> float:
        rows, events = [0], [0]
        telemetry.attach_batch("bench.count", lambda b, _m: rows.__setitem__(0, rows[0] + len(b)))
        telemetry.attach("bench.events", "", lambda *_: events.__setitem__(0, events[0] + 1))
        try:
            warm()
            return timed("count_all")
        finally:
            telemetry.detach("bench.count")
            telemetry.detach("bench.events")

    def endpoint() -> float:
        server = EndpointServer(pool, telemetry, path=path).start()
        clock = time.pthread_getcpuclockid(_endpoint_thread().ident or 0)
        try:
            warm()
            time.sleep(1.05)  # a heartbeat tick folds the warm-up rows
            before = time.clock_gettime(clock)
            result = timed("endpoint")
            time.sleep(1.05)  # the next tick folds the timed rows into the rollups
            thread_cpu.append((time.clock_gettime(clock) - before) / n_tasks * 1e9)
            return result
        finally:
            server.close()

    try:
        for f in [pool.submit(ident, i) for i in range(2000)]:
            f.result()
        results = round_robin(
            {
                "no_endpoint": no_endpoint,
                "count_only": count_only,
                "count_all": count_all,
                "endpoint": endpoint,
            },
            reps,
        )
    finally:
        pool.shutdown()
    med = {k: median(v) for k, v in results.items()}
    pairs = [e / o for e, o in zip(results["endpoint"], results["no_endpoint"], strict=True)]
    figures: dict[str, Any] = {
        "cost_tasks_per_s_no_endpoint": round(med["no_endpoint"], 1),
        "cost_tasks_per_s_count_only": round(med["count_only"], 1),
        "cost_tasks_per_s_count_all": round(med["count_all"], 1),
        "cost_tasks_per_s_endpoint": round(med["endpoint"], 1),
        "cpu_ns_per_task_no_endpoint": round(median(cpu["no_endpoint"]), 1),
        "cpu_ns_per_task_count_only": round(median(cpu["count_only"]), 1),
        "cpu_ns_per_task_count_all": round(median(cpu["count_all"]), 1),
        "cpu_ns_per_task_endpoint": round(median(cpu["endpoint"]), 1),
        "endpoint_thread_cpu_ns_per_task": round(median(thread_cpu), 1),
        "endpoint_vs_no_endpoint_pair_ratios": [round(p, 3) for p in pairs],
        "endpoint_vs_no_endpoint_pair_ratio_median": round(statistics.median(pairs), 4),
    }
    ratios = {
        "throughput_endpoint_vs_no_endpoint": round(med["endpoint"] / med["no_endpoint"], 4),
        "throughput_count_only_vs_no_endpoint": round(med["count_only"] / med["no_endpoint"], 4),
        "throughput_endpoint_vs_count_only": round(med["endpoint"] / med["count_only"], 4),
        "throughput_endpoint_vs_count_all": round(med["endpoint"] / med["count_all"], 4),
    }
    return figures, ratios
