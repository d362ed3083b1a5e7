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
  voluntary context switches (each one a sleep, so a wake-up) per round trip on each side.

The floor is measured in the same rounds (`bench pool`'s `rtt_floor`, same CPU as the kernel
places it, and pinned to two CPUs). All figures are medians over the repetitions of the
per-run p50s (or per-run means for CPU and switches).
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from poolmon.bench.common import machine, median, round_robin
from poolmon.bench.pool import rtt_floor
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


def profile(workers: int, k: int) -> dict[str, float]:
    """One pool of `workers`, warmed up, then `k` sequential round trips, split and counted."""
    with Pool(workers, monitor=False, telemetry=Telemetry()) as pool:
        pool.wait_ready(30)
        for _ in range(300):
            pool.submit(stamp).result()
        time.sleep(0.05)
        kids = [w.pid for w in pool.stats().workers]
        clock = time.perf_counter_ns
        submit, out, back, total = [], [], [], []
        me0 = _threads(os.getpid())
        kid0 = [_threads(pid) for pid in kids]
        for _ in range(k):
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
    return {
        "rtt_p50_us": _p50(total),
        "submit_p50_us": _p50(submit),
        "out_p50_us": _p50(out),
        "back_p50_us": _p50(back),
        "pool_cpu_us_per_rt": (me1[0] - me0[0]) / k / 1000,
        "worker_cpu_us_per_rt": kid_cpu / k / 1000,
        "pool_sleeps_per_rt": (me1[1] - me0[1]) / k,
        "worker_sleeps_per_rt": kid_sleeps / k,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Profile pools of 1 and 2 workers round robin with the floor; report medians."""
    quick = bool(getattr(args, "quick", False))
    reps = args.reps or (3 if quick else 5)
    k = args.trips or (1_000 if quick else 3_000)
    results: dict[str, list[dict[str, float]]] = {"1": [], "2": []}

    def go(workers: int) -> float:
        results[str(workers)].append(profile(workers, k))
        return results[str(workers)][-1]["rtt_p50_us"]

    runs = round_robin(
        {
            "pool_1_worker": lambda: go(1),
            "pool_2_workers": lambda: go(2),
            "floor_same_cpu": lambda: rtt_floor(k),
            "floor_cross_cpu": lambda: rtt_floor(k, cross_cpu=True),
        },
        reps,
    )
    figures: dict[str, float] = {
        "rtt_floor_us": median(runs["floor_same_cpu"]),
        "rtt_floor_cross_cpu_us": median(runs["floor_cross_cpu"]),
    }
    for workers, rows in results.items():
        for key in rows[0]:
            figures[f"w{workers}_{key}"] = median([row[key] for row in rows])
    ratios = {
        f"w{w}_rtt_p50_vs_socketpair_floor": figures[f"w{w}_rtt_p50_us"] / figures["rtt_floor_us"]
        for w in results
    }
    return {
        "suite": "rtt",
        "machine": {**machine(), "load_avg_1m": os.getloadavg()[0]},
        "params": {"reps": reps, "round_trips": k, "quick": quick},
        "figures": figures,
        "ratios": ratios,
        "goals": {"w2_rtt_p50_vs_socketpair_floor": "<= 1.5"},
    }
