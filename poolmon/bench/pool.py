"""`python -m poolmon.bench pool`: poolmon.Pool against the standard library, side by side.

Every repetition runs every contender once, in turn (round robin), each with a fresh pool of
2 workers, a warm-up, then the measurement; tables quote medians. Contenders:

* submit throughput on trivial tasks (`ident`): poolmon `submit`, ProcessPoolExecutor
  `submit`, multiprocessing.Pool `apply_async` (N submits, then every result);
* chunked map: poolmon `map(chunksize=64)` vs multiprocessing.Pool `imap(chunksize=64)`;
* single-task round trip (`submit(...).result()` one at a time): poolmon vs PPE, p50 / p99,
  and the floor under both: a bare one-byte ping-pong between two processes (`rtt_floor`),
  as the kernel places it (same CPU) and pinned to two CPUs;
* ~1 ms CPU tasks (`burn`): poolmon `submit` vs the ideal, 2 x the serial in-process rate
  (the serial rate is itself a round-robin contender, so background load hits both alike),
  with multiprocessing.Pool `apply_async` on the same tasks for context.

The stdlib pools use the platform default start method (fork on Linux before 3.14), poolmon
its own (forkserver); start-up is excluded from every figure.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing as mp
import os
import socket
import time
from collections.abc import Callable
from typing import Any

from poolmon.bench.common import machine, median, round_robin
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


def rtt_poolmon(k: int) -> tuple[float, float]:
    """Sequential round trips through poolmon: (p50, p99) in microseconds."""
    with _poolmon() as pool:
        _round_trips(lambda i: pool.submit(ident, i), 200)
        lat = _round_trips(lambda i: pool.submit(ident, i), k)
    return lat[len(lat) // 2] * 1e6, lat[int(len(lat) * 0.99)] * 1e6


def rtt_ppe(k: int) -> tuple[float, float]:
    """Sequential round trips through ProcessPoolExecutor: (p50, p99) in microseconds."""
    with cf.ProcessPoolExecutor(WORKERS) as pool:
        _round_trips(lambda i: pool.submit(ident, i), 200)
        lat = _round_trips(lambda i: pool.submit(ident, i), k)
    return lat[len(lat) // 2] * 1e6, lat[int(len(lat) * 0.99)] * 1e6


def _echo(sock: socket.socket, other_end: socket.socket, cpu: int | None) -> None:
    """The floor's far end: answer every byte with one byte until the socket closes."""
    other_end.close()  # inherited through fork: closing it lets the parent's close end us
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    recv, send = sock.recv, sock.send
    while recv(1):
        send(b"x")


def rtt_floor(k: int, cross_cpu: bool = False) -> float:
    """The physical floor: a bare one-byte ping-pong between two processes, p50 in µs.

    Two Python processes on a blocking Unix socketpair, nothing else: each round trip is the
    two wake-ups any pool's round trip must pay, plus two syscalls a side. Left to itself the
    kernel keeps such a pair on one CPU (the waker sleeps at once), so this is the same-CPU
    floor; `cross_cpu=True` pins the two ends to different CPUs, the floor when the other end
    runs elsewhere (None of that when this process may use only one CPU). Measured in the
    same rounds as the pools, so it moves with the machine's load as they do.
    """
    cpus = sorted(os.sched_getaffinity(0))
    if cross_cpu and len(cpus) < 2:
        return float("nan")
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    far = cpus[1] if cross_cpu else None
    child = mp.get_context("fork").Process(target=_echo, args=(theirs, ours, far), daemon=True)
    child.start()
    theirs.close()
    if cross_cpu:
        os.sched_setaffinity(0, {cpus[0]})
    recv, send = ours.recv, ours.send
    clock = time.perf_counter
    lat = []
    try:
        for i in range(200 + k):
            t0 = clock()
            send(b"x")
            recv(1)
            if i >= 200:
                lat.append(clock() - t0)
    finally:
        os.sched_setaffinity(0, cpus)
        ours.close()
        child.join(10)
    lat.sort()
    return lat[len(lat) // 2] * 1e6


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
    rtt: dict[str, list[tuple[float, float]]] = {"poolmon": [], "ppe": []}

    def rtt_run(name: str, fn: Callable[[int], tuple[float, float]]) -> Callable[[], float]:
        def go() -> float:
            rtt[name].append(fn(k))
            return rtt[name][-1][0]

        return go

    runs = round_robin(
        {
            "submit_poolmon": lambda: submit_poolmon(n),
            "submit_ppe": lambda: submit_ppe(n),
            "submit_mp_apply_async": lambda: submit_mp(n),
            "map_poolmon_cs64": lambda: map_poolmon(n_map),
            "map_mp_imap_cs64": lambda: map_mp(n_map),
            "rtt_poolmon": rtt_run("poolmon", rtt_poolmon),
            "rtt_ppe": rtt_run("ppe", rtt_ppe),
            "rtt_socketpair_floor": lambda: rtt_floor(k),
            "rtt_socketpair_cross_cpu": lambda: rtt_floor(k, cross_cpu=True),
            "burn_poolmon": lambda: burn_poolmon(n_burn, n_burn_tasks),
            "burn_mp_apply_async": lambda: burn_mp(n_burn, n_burn_tasks),
            "burn_serial": lambda: burn_serial(n_burn, n_burn_tasks // 4),
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
        "rtt_poolmon_p50_us": median([p50 for p50, _ in rtt["poolmon"]]),
        "rtt_poolmon_p99_us": median([p99 for _, p99 in rtt["poolmon"]]),
        "rtt_process_pool_executor_p50_us": median([p50 for p50, _ in rtt["ppe"]]),
        "rtt_process_pool_executor_p99_us": median([p99 for _, p99 in rtt["ppe"]]),
        "rtt_floor_us": median(runs["rtt_socketpair_floor"]),
        "rtt_floor_cross_cpu_us": median(runs["rtt_socketpair_cross_cpu"]),
        "burn_poolmon_per_s": median(runs["burn_poolmon"]),
        "burn_poolmon_best_per_s": max(runs["burn_poolmon"]),
        "burn_mp_pool_apply_async_per_s": median(runs["burn_mp_apply_async"]),
        "burn_serial_per_s": serial,
        "burn_ideal_per_s": serial * WORKERS,
        "burn_task_ms": 1000.0 / serial,
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
        "rtt_p50_vs_socketpair_floor": figures["rtt_poolmon_p50_us"] / figures["rtt_floor_us"],
        "rtt_p50_vs_cross_cpu_floor": figures["rtt_poolmon_p50_us"]
        / figures["rtt_floor_cross_cpu_us"],
        "burn_vs_ideal": figures["burn_poolmon_per_s"] / figures["burn_ideal_per_s"],
        "burn_mp_pool_apply_async_vs_ideal": figures["burn_mp_pool_apply_async_per_s"]
        / figures["burn_ideal_per_s"],
    }
    return {
        "suite": "pool",
        "machine": machine(),
        "params": {
            "workers": WORKERS,
            "reps": reps,
            "submit_tasks": n,
            "map_items": n_map,
            "round_trips": k,
            "burn_tasks": n_burn_tasks,
            "burn_n": n_burn,
            "quick": quick,
        },
        "figures": figures,
        "ratios": ratios,
        "runs": {name: values for name, values in runs.items()},
    }
