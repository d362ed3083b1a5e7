"""`python -m poolmon.bench telemetry`: what telemetry costs, measured against a known peer.

Two halves, each run side by side, round-robin, medians quoted:

* **dispatch** (one process): ns per `Telemetry.emit` with one counting handler attached, with
  nobody listening, and prometheus_client's `Histogram.observe` (the cost every worker pays in
  prometheus' multiprocess mode); plus per-task costs of batch delivery and of per-task expansion.
* **pool** (real worker processes): one pool's throughput with telemetry off vs on (every
  event, a handler counting them and a batch handler counting tasks, every row checked) on
  trivial and on 1 ms tasks, off and on alternating in pairs, plus an off-vs-off control.

Ratios: ``emit_ns_vs_prometheus_observe`` (target <= 0.3), ``throughput_on_vs_off_trivial``
(>= 0.95) and ``throughput_on_vs_off_1ms`` (>= 0.99).
"""

from __future__ import annotations

import argparse
import gc
import random
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


def spin(ns: int) -> int:
    """The 1 ms task: busy-wait `ns` nanoseconds of wall time in the worker; returns loops.

    Time-based rather than a calibrated loop count, because on a shared machine a calibration
    measures the neighbours and the "1 ms" task would silently become 0.6 or 1.4 ms.
    """
    clock = time.perf_counter_ns
    end = clock() + ns
    loops = 0
    while clock() < end:
        loops += 1
    return loops


def _throughput(pool: Any, fn: Callable[[Any], Any], arg: Any, n: int) -> Callable[[], float]:
    """A contender: submit `n` tasks one by one, wait for all, return tasks per second."""

    def run() -> float:
        submit = pool.submit
        # Every run starts from a collected heap: otherwise the previous run's 100k futures
        # decide when the cyclic GC's full collections land, which skews whole runs by 10-20 %.
        gc.collect()
        t0 = time.perf_counter_ns()
        futures = [submit(fn, arg) for _ in range(n)]
        for future in futures:
            future.result(120)
        return n / ((time.perf_counter_ns() - t0) / 1e9)

    return run


def paired(
    off: Callable[[], float], on: Callable[[], float], reps: int
) -> tuple[list[float], list[float], list[float]]:
    """Run off/on back to back `reps` times, alternating which goes first (ABBA).

    Returns (off results, on results, per-pair on/off ratios). On a shared, noisy machine the
    load drifts between seconds; a ratio of two runs adjacent in time cancels most of that drift,
    and alternating the order cancels any first-or-second bias.
    """
    offs: list[float] = []
    ons: list[float] = []
    for rep in range(reps):
        if rep % 2:
            b = on()
            a = off()
        else:
            a = off()
            b = on()
        offs.append(a)
        ons.append(b)
    return offs, ons, [b / a for a, b in zip(offs, ons, strict=True)]


def median_ci95(values: list[float], resamples: int = 2000) -> tuple[float, float]:
    """A 95 % bootstrap confidence interval of the median (seeded: the same data, same CI).

    Why: on a shared machine one run's median moves by a few percent; the interval says how
    far this one could be from the median of many runs.
    """
    rng = random.Random(0)
    n = len(values)
    meds = sorted(median([values[rng.randrange(n)] for _ in range(n)]) for _ in range(resamples))
    return meds[int(0.025 * resamples)], meds[int(0.975 * resamples) - 1]


class _Switch:
    """Turns one pool's telemetry off and on by detaching and attaching the counting handlers.

    Why one pool and not two side by side: two identically configured pools differ by
    several percent from each other on a shared 2-core machine (which worker processes land
    where), which is as large as what is measured; toggling one pool compares like with like.
    The pool notices within one supervisor tick (20 ms); `set` waits a few ticks.
    """

    SETTLE_S = 0.1

    def __init__(self, tel: Telemetry, counter: _Counter) -> None:
        self.tel = tel
        self.counter = counter

    def set(self, on: bool) -> None:
        """Attach (on) or detach (off) the handlers, then let the pool see it."""
        if on and not self.tel.wants_tasks:
            self.tel.attach("bench.all", "", self.counter.handler)
            self.tel.attach_batch("bench.tasks", self.counter.batch_handler)
        elif not on and self.tel.wants_tasks:
            self.tel.detach("bench.all")
            self.tel.detach("bench.tasks")
        time.sleep(self.SETTLE_S)

    def contender(
        self, on: bool, pool: Any, fn: Callable[[Any], Any], arg: Any, n: int
    ) -> Callable[[], float]:
        """A timed run of `n` tasks with telemetry `on` or off; checks every row arrived."""
        timed = _throughput(pool, fn, arg, n)

        def run() -> float:
            self.set(on)
            before = self.counter.tasks
            rate = timed()
            time.sleep(self.SETTLE_S)  # rows are emitted per batch or per tick: let them land
            rows = self.counter.tasks - before
            if rows != (n if on else 0):
                raise RuntimeError(f"telemetry {'on' if on else 'off'}: {rows} rows for {n} tasks")
            return rate

        return run


def run_pool(*, quick: bool, reps: int) -> tuple[dict[str, Any], dict[str, float], dict[str, Any]]:
    """Pool throughput with telemetry off vs on, trivial and 1 ms tasks; (figures, ratios, config).

    One pool (2 workers, no monitor endpoint, whose own listener would keep telemetry on) runs
    every contender. "Off": nothing attached, so the pool skips per-task telemetry entirely.
    "On": a catch-all handler counting every event and a batch handler counting every task row,
    so every event the pool can emit is built and delivered; each "on" run checks that exactly
    one row per task arrived. Off and on alternate in pairs (`paired`); each ratio is the median
    of the per-pair ratios, with a bootstrap 95 % interval (`*_ratio_ci95`). An off-vs-off
    control (`aa_*`) shows what this machine gives two identical runs.
    """
    from poolmon.bench.tasks import ident
    from poolmon.runtime.pool import Pool

    trivial_n = 30_000 if quick else 200_000
    ms_n_tasks = 100 if quick else 600
    counter = _Counter()
    tel = Telemetry()
    switch = _Switch(tel, counter)
    pool = Pool(2, name="bench-telemetry", telemetry=tel, monitor=False)
    figures: dict[str, Any] = {}
    ratios: dict[str, float] = {}
    try:
        pool.wait_ready(60)
        for future in [pool.submit(ident, i) for i in range(5_000)]:  # warm up
            future.result(60)
        events_before = counter.events
        workloads = {
            "trivial": (ident, 1, trivial_n),
            "1ms": (spin, 1_000_000, ms_n_tasks),
        }
        for label, (fn, arg, n) in workloads.items():
            offs, ons, pair_ratios = paired(
                switch.contender(False, pool, fn, arg, n),
                switch.contender(True, pool, fn, arg, n),
                reps if label == "trivial" else max(3, reps // 2),
            )
            low, high = median_ci95(pair_ratios)
            figures[f"{label}_tasks_per_s_off"] = round(median(offs), 1)
            figures[f"{label}_tasks_per_s_on"] = round(median(ons), 1)
            figures[f"{label}_pair_ratio_min"] = round(min(pair_ratios), 3)
            figures[f"{label}_pair_ratio_max"] = round(max(pair_ratios), 3)
            figures[f"{label}_ratio_ci95"] = [round(low, 3), round(high, 3)]
            ratios[f"throughput_on_vs_off_{label}"] = round(median(pair_ratios), 3)
        figures["on_events_counted"] = counter.events - events_before
        off = switch.contender(False, pool, ident, 1, trivial_n)
        _, _, aa = paired(off, off, max(3, reps // 2))
        figures["aa_trivial_ratio_median"] = round(median(aa), 3)
        figures["aa_trivial_ratio_ci95"] = [round(v, 3) for v in median_ci95(aa)]
    finally:
        pool.shutdown(wait=True)
    off_ns = 1e9 / figures["trivial_tasks_per_s_off"]
    figures["trivial_on_minus_off_ns_per_task"] = round(
        1e9 / figures["trivial_tasks_per_s_on"] - off_ns, 1
    )
    figures["on_task_rows_checked"] = reps * trivial_n + max(3, reps // 2) * ms_n_tasks
    config = {
        "workers": 2,
        "pools": 1,
        "trivial_pairs": reps,
        "1ms_and_aa_pairs": max(3, reps // 2),
        "trivial_tasks_per_run": trivial_n,
        "1ms_tasks_per_run": ms_n_tasks,
        "task_1ms": "poolmon.bench.telemetry.spin(1_000_000): busy-waits 1 ms of wall time",
    }
    return figures, ratios, config


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
    if part in ("all", "pool"):
        pool_reps = getattr(args, "reps", None) or (7 if quick else 51)
        f2, r2, c2 = run_pool(quick=quick, reps=pool_reps)
        c2["pool_reps"] = pool_reps
        if "emit_tasks_batch_ns_per_task" in figures and f2["trivial_on_minus_off_ns_per_task"] > 0:
            # How much of the per-task cost of "on" is the registry's own batch dispatch; the
            # rest is the pool's per-task path (edge ring, row copies, joins).
            f2["registry_share_of_on_cost"] = round(
                figures["emit_tasks_batch_ns_per_task"] / f2["trivial_on_minus_off_ns_per_task"], 4
            )
        figures.update(f2)
        ratios.update(r2)
        config.update(c2)
    return {
        "suite": "telemetry",
        "machine": machine(),
        "config": config,
        "figures": figures,
        "ratios": ratios,
    }
