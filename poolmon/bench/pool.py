"""`python -m poolmon.bench pool`: poolmon.Pool against the standard library, side by side.

Every repetition runs every contender once, in turn (round robin), each with a fresh pool of
2 workers, a warm-up, then the measurement; tables quote medians. Contenders:

* submit throughput on trivial tasks (`ident`): poolmon `submit`, ProcessPoolExecutor
  `submit`, multiprocessing.Pool `apply_async` (N submits, then every result);
* chunked map: poolmon `map(chunksize=64)` vs multiprocessing.Pool `imap(chunksize=64)`;
* single-task round trip (`submit(...).result()` one at a time): poolmon vs PPE, p50 / p99,
  both as the kernel places them (`rtt_poolmon_p50_us`, what a user sees); and poolmon
  against the floor under it, a bare one-byte ping-pong between two processes
  (`placement.rtt_floor`), each in three placements (poolmon.bench.placement): pinned to
  one CPU, pinned to two, left to the kernel, with the share of round trips whose two ends
  ran on different CPUs measured in each (`..._crossed`). A pool is only ever compared
  with the floor in the same placement: `figures.rtt_floor_us` is the floor on one CPU,
  `ratios.rtt_p50_vs_socketpair_floor` = `rtt_poolmon_same_cpu_p50_us / rtt_floor_us` (the
  goal, <= 1.5), `rtt_p50_vs_cross_cpu_floor` pinned apart over the floor pinned apart,
  `rtt_p50_free_vs_free_floor` left alone over left alone; and the least any CPython
  executor does per round trip (bench.minimal_executor: a Future, msgpack, a call, nothing
  else) in the same placements, `rtt_minimal_python_*`, which splits the distance to the
  floor into CPython's share (`rtt_minimal_python_p50_vs_socketpair_floor`, ...) and
  poolmon's own (`rtt_p50_vs_minimal_python_same_cpu`, ...). The floor and the minimal
  executor each wait in `recv` and in `poll` and count the faster (placement.WAITS);
* ~1 ms CPU tasks (`burn`): poolmon `submit` vs the ideal, 2 x the serial in-process rate
  (the serial rate is itself a round-robin contender, so background load hits both alike),
  with multiprocessing.Pool `apply_async` on the same tasks for context;
* short tasks beside a long one, and 5 ms tasks (bench.mixed_load): poolmon vs PPE, the p99
  of a batch that nothing should hold up, and what not sending slow tasks ahead costs.

The stdlib pools use the platform default start method (fork on Linux before 3.14), poolmon
its own (forkserver); start-up is excluded from every figure.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import functools
import multiprocessing as mp
import time
from collections.abc import Callable
from typing import Any

from poolmon.bench import mixed_load as mixed
from poolmon.bench import placement as pl
from poolmon.bench import rtt_figures as figs
from poolmon.bench.common import machine, median, round_robin
from poolmon.bench.minimal_executor import rtt_minimal
from poolmon.bench.placement import CrossCount, Trips, placed
from poolmon.bench.tasks import burn, ident
from poolmon.runtime.pool import Pool
from poolmon.runtime.telemetry import Telemetry

WORKERS = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Sizes and repetitions (defaults fit in about a minute on 2 cores)."""
    parser.add_argument("--reps", type=int, default=None, help="repetitions per contender")
    parser.add_argument("--tasks", type=int, default=None, help="trivial tasks per submit run")


def _poolmon() -> Pool:
    pool = Pool(WORKERS, monitor=False, telemetry=Telemetry())
    pool.wait_ready(30)
    return pool


def _rate(n: int, fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return n / (time.perf_counter() - t0)


def _results(futures: Any) -> list[Any]:
    return [f.result() for f in list(futures)]


def _apply_all(pool: Any, n: int) -> list[Any]:
    return [r.get() for r in [pool.apply_async(ident, (i,)) for i in range(n)]]


def submit_poolmon(n: int) -> float:
    """Trivial-task submit throughput of poolmon (tasks/s)."""
    with _poolmon() as pool:
        [f.result() for f in [pool.submit(ident, i) for i in range(1000)]]
        return _rate(n, lambda: [f.result() for f in [pool.submit(ident, i) for i in range(n)]])


def submit_ppe(n: int) -> float:
    """Trivial-task submit throughput of ProcessPoolExecutor (tasks/s)."""
    with cf.ProcessPoolExecutor(WORKERS) as pool:
        [f.result() for f in [pool.submit(ident, i) for i in range(200)]]
        return _rate(n, lambda: [f.result() for f in [pool.submit(ident, i) for i in range(n)]])


def submit_mp(n: int) -> float:
    """Trivial-task apply_async throughput of multiprocessing.Pool (tasks/s)."""
    with mp.Pool(WORKERS) as pool:
        [r.get() for r in [pool.apply_async(ident, (i,)) for i in range(500)]]
        return _rate(
            n, lambda: [r.get() for r in [pool.apply_async(ident, (i,)) for i in range(n)]]
        )


def map_poolmon(n: int) -> float:
    """Chunked map throughput of poolmon (items/s)."""
    with _poolmon() as pool:
        list(pool.map(ident, range(10_000), chunksize=64))
        return _rate(n, lambda: list(pool.map(ident, range(n), chunksize=64)))


def map_mp(n: int) -> float:
    """Chunked imap throughput of multiprocessing.Pool (items/s)."""
    with mp.Pool(WORKERS) as pool:
        list(pool.imap(ident, range(10_000), chunksize=64))
        return _rate(n, lambda: list(pool.imap(ident, range(n), chunksize=64)))


def _round_trips(submit: Callable[[int], Any], k: int) -> list[float]:
    lat = []
    for i in range(k):
        t0 = time.perf_counter()
        submit(i).result()
        lat.append(time.perf_counter() - t0)
    return sorted(lat)


def rtt_poolmon(k: int, placement: str = "free") -> Trips:
    """Sequential round trips through poolmon in a placement: p50, p99 (µs) and `crossed`.

    `placement` pins the caller's process and the workers (poolmon.bench.placement); every
    16th round trip asks the worker where it ran instead of being timed (`crossed`: the
    share of those whose worker ran on another CPU than the caller).
    """
    with _poolmon() as pool:
        kids = [w.pid for w in pool.stats().workers]
        with placed(placement, kids) as possible:
            if not possible:
                return Trips.impossible()
            _round_trips(lambda i: pool.submit(ident, i), 200)
            where = CrossCount(pool)
            lat = []
            clock = time.perf_counter
            for i in where.trips(k):
                t0 = clock()
                pool.submit(ident, i).result()
                lat.append(clock() - t0)
    lat.sort()
    return Trips(lat[len(lat) // 2] * 1e6, where.share(), lat[int(len(lat) * 0.99)] * 1e6)


def rtt_ppe(k: int) -> tuple[float, float]:
    """Sequential round trips through ProcessPoolExecutor: (p50, p99) in microseconds."""
    with cf.ProcessPoolExecutor(WORKERS) as pool:
        _round_trips(lambda i: pool.submit(ident, i), 200)
        lat = _round_trips(lambda i: pool.submit(ident, i), k)
    return lat[len(lat) // 2] * 1e6, lat[int(len(lat) * 0.99)] * 1e6


def calibrate_burn(target_s: float = 0.001) -> int:
    """The `n` for which `burn(n)` takes about `target_s` here (best of 5: noise only adds)."""
    n = 10_000
    while True:
        t0 = time.perf_counter()
        burn(n)
        if time.perf_counter() - t0 > 0.02:
            break
        n *= 2
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        burn(n)
        best = min(best, time.perf_counter() - t0)
    return max(1, int(n * target_s / best))


def burn_serial(n: int, count: int) -> float:
    """In-process serial rate of burn(n) calls (calls/s)."""
    return _rate(count, lambda: [burn(n) for _ in range(count)])


def burn_poolmon(n: int, count: int) -> float:
    """Poolmon submit throughput of ~1 ms CPU tasks (tasks/s)."""
    with _poolmon() as pool:
        [f.result() for f in [pool.submit(burn, n) for _ in range(20)]]
        return _rate(
            count, lambda: [f.result() for f in [pool.submit(burn, n) for _ in range(count)]]
        )


def burn_mp(n: int, count: int) -> float:
    """multiprocessing.Pool apply_async throughput of ~1 ms CPU tasks (the peer, tasks/s)."""
    with mp.Pool(WORKERS) as pool:
        [r.get() for r in [pool.apply_async(burn, (n,)) for _ in range(20)]]
        return _rate(
            count, lambda: [r.get() for r in [pool.apply_async(burn, (n,)) for _ in range(count)]]
        )


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run every contender round robin and report medians and ratios."""
    quick = bool(getattr(args, "quick", False))
    reps = args.reps or (3 if quick else 5)
    n = args.tasks or (5_000 if quick else 20_000)
    n_map = 50_000 if quick else 200_000
    k = 200 if quick else 1_000
    n_burn_tasks = 200 if quick else 1_000
    n_burn = calibrate_burn()
    mixed_s = 3.0 if quick else 6.0
    n_sleep = 200 if quick else 600
    ppe: list[tuple[float, float]] = []
    trips: dict[str, dict[str, list[Trips]]] = {"pool": {}}  # kind (floors: by wait) -> place
    trip_fns: dict[str, Callable[[int, str], Trips]] = {"pool": rtt_poolmon}
    for wait in pl.WAITS:  # the floors wait both ways, the faster counts (placement.WAITS)
        trips[f"floor_{wait}"], trips[f"minimal_{wait}"] = {}, {}
        trip_fns[f"floor_{wait}"] = functools.partial(pl.rtt_floor, wait=wait)
        trip_fns[f"minimal_{wait}"] = functools.partial(rtt_minimal, wait=wait)

    def rtt_ppe_run() -> float:
        ppe.append(rtt_ppe(k))
        return ppe[-1][0]

    def trips_run(kind: str, placement: str) -> Callable[[], float]:
        def go() -> float:
            fn = trip_fns[kind]
            trips[kind].setdefault(placement, []).append(fn(k, placement))
            return trips[kind][placement][-1].p50_us

        return go

    rtt_contenders = {  # rtt_poolmon_same_cpu, rtt_socketpair_floor_same_cpu, ...
        f"rtt_{name}_{pl.FIGURE_NAME[where]}": trips_run(kind, where)
        for where in pl.PLACEMENTS
        for kind, name in (
            ("pool", "poolmon"),
            *((f"floor_{w}", f"socketpair_floor_{w}") for w in pl.WAITS),
            *((f"minimal_{w}", f"minimal_python_{w}") for w in pl.WAITS),
        )
    }
    runs = round_robin(
        {
            "submit_poolmon": lambda: submit_poolmon(n),
            "submit_ppe": lambda: submit_ppe(n),
            "submit_mp_apply_async": lambda: submit_mp(n),
            "map_poolmon_cs64": lambda: map_poolmon(n_map),
            "map_mp_imap_cs64": lambda: map_mp(n_map),
            **rtt_contenders,
            "rtt_ppe": rtt_ppe_run,
            "burn_poolmon": lambda: burn_poolmon(n_burn, n_burn_tasks),
            "burn_mp_apply_async": lambda: burn_mp(n_burn, n_burn_tasks),
            "burn_serial": lambda: burn_serial(n_burn, n_burn_tasks // 4),
            "mixed_poolmon": lambda: mixed.batch_p99_ms("poolmon", WORKERS, mixed_s),
            "mixed_ppe": lambda: mixed.batch_p99_ms("ppe", WORKERS, mixed_s),
            "sleep_5ms_poolmon": lambda: mixed.sleep_rate("poolmon", WORKERS, n_sleep),
            "sleep_5ms_ppe": lambda: mixed.sleep_rate("ppe", WORKERS, n_sleep),
        },
        reps,
    )
    serial = median(runs["burn_serial"])  # measured in the same rounds: same background load
    figures: dict[str, float] = {
        "submit_poolmon_per_s": median(runs["submit_poolmon"]),
        "submit_process_pool_executor_per_s": median(runs["submit_ppe"]),
        "submit_mp_pool_apply_async_per_s": median(runs["submit_mp_apply_async"]),
        "map_poolmon_cs64_per_s": median(runs["map_poolmon_cs64"]),
        "map_mp_pool_imap_cs64_per_s": median(runs["map_mp_imap_cs64"]),
        # left to the kernel, as a user's pool runs (the placements: below)
        "rtt_poolmon_p50_us": median([t.p50_us for t in trips["pool"]["free"]]),
        "rtt_poolmon_p99_us": median([t.p99_us for t in trips["pool"]["free"]]),
        "rtt_process_pool_executor_p50_us": median([p50 for p50, _ in ppe]),
        "rtt_process_pool_executor_p99_us": median([p99 for _, p99 in ppe]),
        **figs.floor_figures({w: trips[f"floor_{w}"] for w in pl.WAITS}),
        **figs.trip_figures("rtt_poolmon", trips["pool"]),
        **figs.best_of_waits("rtt_minimal_python", {w: trips[f"minimal_{w}"] for w in pl.WAITS}),
        "burn_poolmon_per_s": median(runs["burn_poolmon"]),
        "burn_poolmon_best_per_s": max(runs["burn_poolmon"]),
        "burn_mp_pool_apply_async_per_s": median(runs["burn_mp_apply_async"]),
        "burn_serial_per_s": serial,
        "burn_ideal_per_s": serial * WORKERS,
        "burn_task_ms": 1000.0 / serial,
        "mixed_batch_p99_ms_poolmon": median(runs["mixed_poolmon"]),
        "mixed_batch_p99_ms_process_pool_executor": median(runs["mixed_ppe"]),
        "sleep_5ms_poolmon_per_s": median(runs["sleep_5ms_poolmon"]),
        "sleep_5ms_process_pool_executor_per_s": median(runs["sleep_5ms_ppe"]),
    }
    ratios = {
        "submit_vs_process_pool_executor": figures["submit_poolmon_per_s"]
        / figures["submit_process_pool_executor_per_s"],
        "submit_vs_mp_pool_apply_async": figures["submit_poolmon_per_s"]
        / figures["submit_mp_pool_apply_async_per_s"],
        "map_vs_mp_pool_imap": figures["map_poolmon_cs64_per_s"]
        / figures["map_mp_pool_imap_cs64_per_s"],
        "rtt_p50_vs_process_pool_executor": figures["rtt_poolmon_p50_us"]
        / figures["rtt_process_pool_executor_p50_us"],
        "rtt_p99_vs_process_pool_executor": figures["rtt_poolmon_p99_us"]
        / figures["rtt_process_pool_executor_p99_us"],
        **figs.floor_ratios("rtt_poolmon", figures, "rtt"),
        **figs.floor_ratios("rtt_minimal_python", figures, "rtt_minimal_python"),
        **figs.minimal_ratios("rtt_poolmon", figures, "rtt"),
        "burn_vs_ideal": figures["burn_poolmon_per_s"] / figures["burn_ideal_per_s"],
        "burn_mp_pool_apply_async_vs_ideal": figures["burn_mp_pool_apply_async_per_s"]
        / figures["burn_ideal_per_s"],
        "mixed_batch_p99_vs_process_pool_executor": figures["mixed_batch_p99_ms_poolmon"]
        / figures["mixed_batch_p99_ms_process_pool_executor"],
        "sleep_5ms_vs_process_pool_executor": figures["sleep_5ms_poolmon_per_s"]
        / figures["sleep_5ms_process_pool_executor_per_s"],
    }
    return {
        "suite": "pool",
        "machine": {**machine(), **pl.machine_idle()},
        "params": {
            "workers": WORKERS,
            "reps": reps,
            "submit_tasks": n,
            "map_items": n_map,
            "round_trips": k,
            "burn_tasks": n_burn_tasks,
            "burn_n": n_burn,
            "mixed_seconds": mixed_s,
            "mixed": {"long_s": mixed.LONG_S, "short_s": mixed.SHORT_S, "batch": mixed.BATCH},
            "sleep_5ms_tasks": n_sleep,
            "quick": quick,
        },
        "figures": figures,
        "ratios": ratios,
        "runs": {name: values for name, values in runs.items()},
    }
