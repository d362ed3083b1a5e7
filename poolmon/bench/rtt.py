"""`python -m poolmon.bench rtt`: where the microseconds of one round trip go.

Why: `bench pool` compares a single-task round trip (`submit(...).result()`, an idle pool) with
the floor under it, a bare one-byte ping-pong between two processes. This suite splits the
pool's round trip at the moment the task ran (the task returns `perf_counter_ns()`, the same
CLOCK_MONOTONIC in every process) and counts what each round trip costs:

* `submit_us`: the caller's `submit()`, up to and including writing the task to the worker
  (an idle pool sends it from the caller's thread: `Engine.kick`);
* `out_us`: from before `submit()` to the task running in the worker: the submit, the
  worker's wake-up, its read and decode;
* `back_us`: from the task running to `result()` returning: encoding and writing the result,
  the caller's wake-up, its read and decode, completing the future;
* CPU time per round trip in the pool process (caller and IO thread) and in the workers, and
  voluntary context switches (each one a sleep, so a wake-up) per round trip on each side;
* `crossed`: the share of round trips whose worker ran on another CPU than the caller.

Every pool and the floor (`placement.rtt_floor`, the one `bench pool` uses) run in three
placements in the same rounds (poolmon.bench.placement): `same_cpu` (the pool process and
its workers, or both ends of the ping-pong, pinned to one CPU), `cross_cpu` (pinned to two)
and `free` (left to the kernel). Figures name the placement before a `_p50_us` unit and at
the end otherwise (`w2_rtt_same_cpu_p50_us`, `w2_pool_cpu_us_per_rt_same_cpu`); the older
names without a placement (`w2_rtt_p50_us`) are the `free` placement, as before. Ratios
compare like with like: `w{n}_rtt_p50_vs_socketpair_floor` is the pool on one CPU over the
floor on one CPU (the goal, <= 1.5), `..._vs_cross_cpu_floor` pinned apart over pinned
apart, `..._free_vs_free_floor` left alone over left alone. The minimal CPython executor
(`bench.minimal_executor`, `rtt_minimal_python_*`) runs in the same rounds:
`w{n}_rtt_p50_vs_minimal_python_{placement}` is poolmon's own share of the distance to the
floor, `rtt_minimal_python_p50_vs_socketpair_floor` CPython's. The floor and the minimal
executor are each measured waiting in `recv` and in `poll` and take the faster
(placement.WAITS; `machine` reports the idle settings that decide which). All figures are
medians over the repetitions of the per-run p50s (or per-run means for CPU and switches).

The pools above run without the monitor endpoint. One more, `w1mon_*`, is one worker as a
user gets it by default (endpoint on, its history and alerting fed, no monitor attached):
`w1_rtt_p50_monitor_on_vs_off_{placement}` is what the monitoring costs a caller who waits
for each task (a task row each, and busy/ready flips, gathered per 20 ms into one worker-state
event: runtime.pool.flips).
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Callable
from typing import Any

from poolmon.bench.common import machine, median, round_robin
from poolmon.bench.minimal_executor import rtt_minimal
from poolmon.bench.placement import (
    FIGURE_NAME,
    PLACEMENTS,
    WAITS,
    CrossCount,
    Trips,
    machine_idle,
    placed,
    rtt_floor,
)
from poolmon.bench.rtt_figures import best_of_waits, floor_figures, floor_ratios, minimal_ratios
from poolmon.bench.tasks import stamp
from poolmon.runtime.pool import Pool
from poolmon.runtime.telemetry import Telemetry


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Repetitions and round trips per repetition."""
    parser.add_argument("--reps", type=int, default=None, help="repetitions")
    parser.add_argument("--trips", type=int, default=None, help="round trips per repetition")


def _p50(values: list[int]) -> float:
    values = sorted(values)
    return values[len(values) // 2] / 1000.0


def _threads(pid: int) -> tuple[int, int]:
    """(CPU ns, voluntary context switches) summed over a process's threads, from /proc.

    `schedstat` counts run time in ns (psutil's CPU times tick at 10 ms, too coarse for a
    round trip of tens of µs); a voluntary switch is a sleep, so the next run is a wake-up.
    """
    cpu = sleeps = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                cpu += int(f.read().split()[0])
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        sleeps += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            continue  # a thread that ended meanwhile
    return cpu, sleeps


def profile(
    workers: int, k: int, placement: str = "free", monitor: bool = False
) -> dict[str, float]:
    """One pool of `workers` in a placement, warmed up, then `k` round trips split and counted.

    Every 16th round trip asks where the worker ran instead (`crossed`), untimed; CPU time
    and switches are divided by every round trip made, those included. `monitor`: the pool
    as users get it by default, its monitor endpoint on (history, alerting, no monitor
    attached); otherwise without the endpoint.
    """
    options: dict[str, Any] = {"name": f"rtt-{os.getpid()}"} if monitor else {"monitor": False}
    with Pool(workers, telemetry=Telemetry(), **options) as pool:
        pool.wait_ready(30)
        kids = [w.pid for w in pool.stats().workers]
        with placed(placement, kids) as possible:
            if not possible:
                return {key: math.nan for key in FIELDS}
            return _profile(pool, kids, k)


def _profile(pool: Pool, kids: list[int], k: int) -> dict[str, float]:
    for _ in range(300):
        pool.submit(stamp).result()
    time.sleep(0.05)
    clock = time.perf_counter_ns
    submit, out, back, total = [], [], [], []
    where = CrossCount(pool)
    me0 = _threads(os.getpid())
    kid0 = [_threads(pid) for pid in kids]
    for _ in where.trips(k):
        t0 = clock()
        fut = pool.submit(stamp)
        t1 = clock()
        ran = fut.result()
        t2 = clock()
        submit.append(t1 - t0)
        out.append(ran - t0)
        back.append(t2 - ran)
        total.append(t2 - t0)
    me1 = _threads(os.getpid())
    kid1 = [_threads(pid) for pid in kids]
    kid_cpu = sum(b[0] - a[0] for a, b in zip(kid0, kid1, strict=True))
    kid_sleeps = sum(b[1] - a[1] for a, b in zip(kid0, kid1, strict=True))
    made = k + where.made
    return {
        "rtt_p50_us": _p50(total),
        "submit_p50_us": _p50(submit),
        "out_p50_us": _p50(out),
        "back_p50_us": _p50(back),
        "pool_cpu_us_per_rt": (me1[0] - me0[0]) / made / 1000,
        "worker_cpu_us_per_rt": kid_cpu / made / 1000,
        "pool_sleeps_per_rt": (me1[1] - me0[1]) / made,
        "worker_sleeps_per_rt": kid_sleeps / made,
        "crossed": where.share(),
    }


FIELDS = (
    "rtt_p50_us",
    "submit_p50_us",
    "out_p50_us",
    "back_p50_us",
    "pool_cpu_us_per_rt",
    "worker_cpu_us_per_rt",
    "pool_sleeps_per_rt",
    "worker_sleeps_per_rt",
    "crossed",
)
"""What `profile` reports for one run."""


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Profile pools of 1 and 2 workers and the floor, each in every placement, round robin."""
    quick = bool(getattr(args, "quick", False))
    reps = args.reps or (3 if quick else 5)
    k = args.trips or (1_000 if quick else 3_000)
    results: dict[tuple[int, str, bool], list[dict[str, float]]] = {}
    floors: dict[str, dict[str, list[Trips]]] = {wait: {} for wait in WAITS}
    minimal: dict[str, dict[str, list[Trips]]] = {wait: {} for wait in WAITS}

    def pool_run(workers: int, placement: str, monitor: bool = False) -> Callable[[], float]:
        key = (workers, placement, monitor)

        def go() -> float:
            results.setdefault(key, []).append(profile(workers, k, placement, monitor))
            return results[key][-1]["rtt_p50_us"]

        return go

    def floor_run(placement: str, wait: str) -> Callable[[], float]:
        def go() -> float:
            floors[wait].setdefault(placement, []).append(rtt_floor(k, placement, wait))
            return floors[wait][placement][-1].p50_us

        return go

    def minimal_run(placement: str, wait: str) -> Callable[[], float]:
        def go() -> float:
            minimal[wait].setdefault(placement, []).append(rtt_minimal(k, placement, wait))
            return minimal[wait][placement][-1].p50_us

        return go

    contenders: dict[str, Callable[[], float]] = {}
    for placement in PLACEMENTS:
        name = FIGURE_NAME[placement]
        for wait in WAITS:
            contenders[f"floor_{name}_{wait}"] = floor_run(placement, wait)
            contenders[f"minimal_python_{name}_{wait}"] = minimal_run(placement, wait)
        for workers in (1, 2):
            contenders[f"pool_{workers}_{name}"] = pool_run(workers, placement)
        contenders[f"pool_1_monitor_on_{name}"] = pool_run(1, placement, monitor=True)
    runs = round_robin(contenders, reps)
    figures: dict[str, float] = floor_figures(floors)
    figures.update(best_of_waits("rtt_minimal_python", minimal))
    ratios: dict[str, float] = floor_ratios("rtt_minimal_python", figures, "rtt_minimal_python")
    for workers, monitor, prefix in ((1, False, "w1"), (2, False, "w2"), (1, True, "w1mon")):
        for placement in PLACEMENTS:
            rows = results[workers, placement, monitor]
            for key in FIELDS:
                value = median([row[key] for row in rows])
                stem = key.removesuffix("_us").removesuffix("_p50")
                unit = key[len(stem) :]
                figures[f"{prefix}_{stem}_{FIGURE_NAME[placement]}{unit}"] = value
                if placement == "free":
                    figures[f"{prefix}_{key}"] = value  # the names before placements
            if monitor:
                on = figures[f"w1mon_rtt_{FIGURE_NAME[placement]}_p50_us"]
                off = figures[f"w1_rtt_{FIGURE_NAME[placement]}_p50_us"]
                ratios[f"w1_rtt_p50_monitor_on_vs_off_{FIGURE_NAME[placement]}"] = on / off
        if not monitor:
            ratios.update(floor_ratios(f"{prefix}_rtt", figures, f"{prefix}_rtt"))
            ratios.update(minimal_ratios(f"{prefix}_rtt", figures, f"{prefix}_rtt"))
    return {
        "suite": "rtt",
        "machine": {**machine(), **machine_idle(), "load_avg_1m": os.getloadavg()[0]},
        "params": {"reps": reps, "round_trips": k, "quick": quick},
        "figures": figures,
        "ratios": ratios,
        "goals": {"w2_rtt_p50_vs_socketpair_floor": "<= 1.5"},
        "runs": runs,
    }
