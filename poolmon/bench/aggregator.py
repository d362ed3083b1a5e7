"""`python -m poolmon.bench aggregator`: ingest speed, query speed, accuracy and memory.

Measured side by side in one process, round-robin, medians:

* `ingest_events_per_s`: task events per second through `Aggregator.ingest_tasks` on one
  core, batches of `--batch` tasks (16 workers, 4 operations, 2 error types, ~6 % failures),
  everything counted (pool, per-operation and per-worker sketches and counters, recent tasks).
* `per_value_ns` against `prometheus_client.Histogram.observe` on the same values: the ratio
  `per_value_vs_prometheus_observe` is our whole per-task cost over its per-value cost.
* `summary_query_ms_15m`: `Aggregator.summary()` (1/5/15 min, all percentiles) with 15 full
  minutes of data held.
* `percentile_max_rel_error`: the worst relative error of p50..p99.9 read through the
  aggregator, against exact `numpy.percentile(method="lower")`, over lognormal, bimodal,
  Pareto and constant data.
* bytes per pool, per operation and per worker, from the engine's own array accounting.
"""

from __future__ import annotations

import argparse
import time
from array import array
from typing import Any

import numpy as np
import numpy.typing as npt

from poolmon.bench.common import machine, median, round_robin
from poolmon.core.aggregator import Aggregator
from poolmon.core.events import TaskBatch
from poolmon.core.sketch import QUANTILES
from poolmon.core.workers import WorkerRecord
from poolmon.testing.clock import ManualClock

NS = 1_000_000_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Suite options."""
    parser.add_argument("--batch", type=int, default=100_000, help="tasks per batch")
    parser.add_argument("--repetitions", type=int, default=7, help="round-robin rounds")


def _batch(rng: np.random.Generator, n: int, end_ns: int, first_id: int) -> TaskBatch:
    dur = rng.lognormal(np.log(4e6), 1.0, n).astype(np.int64)
    status = rng.choice(np.array([0] * 15 + [1]), n)

    def col(a: Any) -> array[int]:
        return array("q", np.asarray(a, dtype=np.int64).tobytes())

    return TaskBatch(
        ops=("parse", "fetch", "render", "store"),
        error_types=("", "KeyError", "TimeoutError"),
        task_id=col(np.arange(first_id, first_id + n)),
        worker_id=col(rng.integers(0, 16, n)),
        op=col(rng.integers(0, 4, n)),
        start_ns=col(end_ns - dur - rng.integers(0, NS // 2, n)),
        duration_ns=col(dur),
        wait_ns=col(rng.integers(0, 3_000_000, n)),
        status=col(status),
        error_type=col(np.where(status == 1, rng.integers(1, 3, n), 0)),
    )


def _ingest_contender(batch_size: int, batches: int) -> Any:
    rng = np.random.default_rng(1)
    clock = ManualClock()
    agg = Aggregator(clock)
    prepared = [
        _batch(rng, batch_size, clock.time_ns() + i * NS, i * batch_size) for i in range(batches)
    ]
    state = {"i": 0}

    def run() -> float:
        i = state["i"] % batches
        state["i"] += 1
        clock.advance(1)
        b = prepared[i]
        t0 = time.perf_counter_ns()
        agg.ingest_tasks(b)
        return (time.perf_counter_ns() - t0) / len(b)

    return run


def _prometheus_contender(values: npt.NDArray[np.float64]) -> Any:
    from prometheus_client import CollectorRegistry, Histogram

    hist = Histogram("bench_latency_seconds", "bench", registry=CollectorRegistry())
    observe = hist.observe
    seconds = (values / 1e9).tolist()

    def run() -> float:
        t0 = time.perf_counter_ns()
        for v in seconds:
            observe(v)
        return (time.perf_counter_ns() - t0) / len(seconds)

    return run


def _summary_ms(repetitions: int) -> float:
    rng = np.random.default_rng(2)
    clock = ManualClock()
    agg = Aggregator(clock)
    for i in range(900):  # 15 minutes, 2,000 tasks a second
        agg.ingest_tasks(_batch(rng, 2000, clock.time_ns(), i * 2000))
        clock.advance(1)
    times = []
    for _ in range(max(repetitions * 10, 20)):
        t0 = time.perf_counter_ns()
        agg.summary()
        times.append((time.perf_counter_ns() - t0) / 1e6)
    return median(times)


def _accuracy() -> dict[str, float]:
    rng = np.random.default_rng(3)
    data = {
        "lognormal": rng.lognormal(np.log(5e6), 1.2, 200_000),
        "bimodal": np.concatenate([rng.normal(2e5, 2e4, 150_000), rng.normal(8e7, 5e6, 50_000)]),
        "pareto": (rng.pareto(1.1, 200_000) + 1) * 1e5,
        "constant": np.full(50_000, 12_345_678.0),
    }
    worst: dict[str, float] = {}
    for name, values in data.items():
        v = values.clip(1_000).astype(np.int64)
        clock = ManualClock()
        agg = Aggregator(clock)
        end = np.full(len(v), clock.time_ns())
        cols = {
            "start_ns": end - v,
            "duration_ns": v,
            "task_id": np.arange(len(v)),
        }
        zeros = array("q", bytes(8 * len(v)))
        agg.ingest_tasks(
            TaskBatch(
                ops=("op",),
                task_id=array("q", cols["task_id"].tobytes()),
                worker_id=zeros,
                op=zeros,
                start_ns=array("q", cols["start_ns"].tobytes()),
                duration_ns=array("q", v.tobytes()),
                wait_ns=zeros,
                status=zeros,
                error_type=zeros,
            )
        )
        lat = agg.snapshot(60).latency
        got = [lat.p50_ns, lat.p90_ns, lat.p95_ns, lat.p99_ns, lat.p999_ns]
        exact = np.percentile(v, [q * 100 for q in QUANTILES], method="lower")
        worst[name] = max(abs(float(g or 0) - e) / e for g, e in zip(got, exact, strict=True))
    return worst


def _memory() -> dict[str, int]:
    agg = Aggregator(ManualClock())
    pool = agg.nbytes
    per_worker = WorkerRecord(0, 0).nbytes
    from poolmon.core.distring import DistRing
    from poolmon.core.ring import ENTITY_TIERS

    return {
        "bytes_per_pool": pool,
        "bytes_per_operation": DistRing(ENTITY_TIERS).nbytes,
        "bytes_per_worker": per_worker,
        "bytes_pool_16_workers_4_ops": pool + 16 * per_worker + 4 * DistRing(ENTITY_TIERS).nbytes,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the suite; see the module docstring for what each figure means."""
    quick = bool(getattr(args, "quick", False))
    batch = args.batch
    reps = 3 if quick else args.repetitions
    rng = np.random.default_rng(4)
    prom_values = rng.lognormal(np.log(4e6), 1.0, 20_000 if quick else 100_000)
    results = round_robin(
        {
            "poolmon_ingest_ns_per_task": _ingest_contender(batch, 8),
            "prometheus_observe_ns": _prometheus_contender(prom_values),
        },
        reps,
    )
    ours = median(results["poolmon_ingest_ns_per_task"])
    prom = median(results["prometheus_observe_ns"])
    accuracy = _accuracy()
    figures: dict[str, Any] = {
        "ingest_events_per_s": round(1e9 / ours),
        "per_value_ns": round(ours, 2),
        "prometheus_observe_ns": round(prom, 1),
        "summary_query_ms_15m": round(_summary_ms(reps), 4),
        "percentile_max_rel_error": round(max(accuracy.values()), 5),
        **{f"percentile_rel_error_{k}": round(v, 5) for k, v in accuracy.items()},
        **_memory(),
        "batch_size": batch,
        "repetitions": reps,
    }
    return {
        "suite": "aggregator",
        "machine": machine(),
        "figures": figures,
        "ratios": {"per_value_vs_prometheus_observe": round(ours / prom, 4)},
        "raw": results,
    }
