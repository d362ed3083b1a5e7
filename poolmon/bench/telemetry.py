"""`python -m poolmon.bench telemetry`: what telemetry costs, measured against a known peer.

Two halves, each run side by side, round-robin, medians quoted:

* **dispatch** (one process): ns per `Telemetry.emit` with one counting handler attached, with
  nobody listening, and prometheus_client's `Histogram.observe` (the cost every worker pays in
  prometheus' multiprocess mode); plus per-task costs of batch delivery and of per-task expansion.
* **pool** (real worker processes): pool throughput with telemetry off vs on (every event, a
  handler counting them and a batch handler counting tasks) on trivial and on 1 ms tasks.

Ratios: ``emit_ns_vs_prometheus_observe`` (target <= 0.3), ``throughput_on_vs_off_trivial``
(>= 0.95) and ``throughput_on_vs_off_1ms`` (>= 0.99).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Mapping
from typing import Any

from poolmon.bench.common import machine, median, round_robin
from poolmon.core.catalog import WORKER_EXIT
from poolmon.core.events import TaskBatch
from poolmon.runtime.telemetry import Telemetry


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Suite options: which half to run and how hard."""
    parser.add_argument(
        "--part",
        choices=("all", "dispatch", "pool"),
        default="all",
        help="run only the dispatch microbenchmarks or only the pool throughput runs",
    )
    parser.add_argument("--reps", type=int, default=None, help="repetitions per contender")


class _Counter:
    """The handlers under test: they count what they receive and nothing else."""

    __slots__ = ("events", "tasks")

    def __init__(self) -> None:
        self.events = 0
        self.tasks = 0

    def handler(
        self, name: str, measurements: Mapping[str, int | float], metadata: Mapping[str, Any]
    ) -> None:
        self.events += 1

    def batch_handler(self, batch: TaskBatch, metadata: Mapping[str, Any]) -> None:
        self.tasks += len(batch)


def _per_op(loop: Callable[[int], None], n: int) -> Callable[[], float]:
    """Wrap a loop of `n` operations into a contender returning ns per operation."""

    def run() -> float:
        t0 = time.perf_counter_ns()
        loop(n)
        return (time.perf_counter_ns() - t0) / n

    return run


def dispatch_contenders(n: int) -> dict[str, Callable[[], float]]:
    """Build the dispatch microbenchmarks; each returns ns per operation."""
    from prometheus_client import CollectorRegistry, Histogram

    counter = _Counter()
    tel = Telemetry()
    tel.attach("bench.count", "poolmon.worker", counter.handler)
    tel.attach("bench.tasks", "poolmon.task", counter.handler)
    quiet = Telemetry()
    emit, emit_quiet = tel.emit, quiet.emit
    measurements = {"lifetime_ns": 123_456, "tasks_done": 7}
    metadata = {"pool": "bench", "worker_id": 1, "pid": 1, "reason": "shutdown"}
    observe = Histogram("bench_seconds", "bench", registry=CollectorRegistry()).observe

    rows = [(i, i % 2, "f", 10**18, 1_000 + i, 100, 0, "") for i in range(256)]
    batch = TaskBatch.from_rows(rows)
    batch_tel = Telemetry()
    batch_tel.attach_batch("bench.batch", counter.batch_handler)

    def floor(k: int) -> None:
        for _ in range(k):
            pass

    def emit_one(k: int) -> None:
        for _ in range(k):
            emit(WORKER_EXIT, measurements, metadata)

    def emit_none(k: int) -> None:
        for _ in range(k):
            emit_quiet(WORKER_EXIT, measurements, metadata)

    def prometheus(k: int) -> None:
        for _ in range(k):
            observe(0.005)

    def batches(k: int) -> None:
        for _ in range(max(1, k // 256)):
            batch_tel.emit_tasks(batch, metadata)

    def expanded(k: int) -> None:
        for _ in range(max(1, k // 256)):
            tel.emit_tasks(batch, metadata)

    return {
        "loop_floor_ns": _per_op(floor, n),
        "emit_one_handler_ns": _per_op(emit_one, n),
        "emit_no_handler_ns": _per_op(emit_none, n),
        "prometheus_observe_ns": _per_op(prometheus, n),
        "emit_tasks_batch_ns_per_task": _per_op(batches, n),
        "emit_tasks_expanded_ns_per_task": _per_op(expanded, n),
    }


def run_dispatch(n: int, reps: int) -> tuple[dict[str, float], dict[str, float]]:
    """Run the dispatch half; return (figures, ratios)."""
    results = round_robin(dispatch_contenders(n), reps)
    figures = {name: round(median(values), 1) for name, values in results.items()}
    ratios = {
        "emit_ns_vs_prometheus_observe": round(
            figures["emit_one_handler_ns"] / figures["prometheus_observe_ns"], 3
        ),
        "emit_no_handler_vs_one_handler": round(
            figures["emit_no_handler_ns"] / figures["emit_one_handler_ns"], 3
        ),
    }
    return figures, ratios


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the selected halves and return the suite's result dict."""
    quick = bool(getattr(args, "quick", False))
    part = getattr(args, "part", "all")
    reps = getattr(args, "reps", None) or (5 if quick else 15)
    figures: dict[str, Any] = {}
    ratios: dict[str, float] = {}
    config: dict[str, Any] = {"reps": reps, "part": part}
    if part in ("all", "dispatch"):
        n = 50_000 if quick else 200_000
        config["dispatch_ops_per_rep"] = n
        f, r = run_dispatch(n, reps)
        figures.update(f)
        ratios.update(r)
    return {
        "suite": "telemetry",
        "machine": machine(),
        "config": config,
        "figures": figures,
        "ratios": ratios,
    }
