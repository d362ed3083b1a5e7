"""`python -m poolmon.bench resources`: what sampling the pool's processes costs.

Forks 64 real sleeping children from a numpy-importing parent (the memory map a pool worker
inherits), then, round-robin so background load hits every contender alike:

* one sweep of the 64 through the raw-/proc sampler against the same sampler with the psutil
  backend (identical fields and rate logic, only the reading differs), and against the
  reference's minimal psutil sweep (5 attributes in `oneshot()`);
* a USS sweep (`smaps_rollup`) against psutil's `memory_full_info()`;
* each field on its own, raw against psutil: the per-metric evidence for which reader is used;
* a full `ResourceMonitor.sweep()` with a handler listening (sampling + 66 events).

Then it runs the real monitor thread at 1 Hz with its default 10 s USS cadence, over whole USS
periods, and reports the thread's CPU time over wall time (sleeping and waking included):
`figures.cpu_fraction_64_workers_1hz` (budget 0.01).

Why raw /proc but not held-open /proc files: `pread` on a kept descriptor would save the
open/close (~0.5 ms of the ~2.4 ms sweep), but holds three descriptors per worker in the pool
process, which shows up in the pool's own fd count and eats into low `ulimit -n` settings.
"""

from __future__ import annotations

import argparse
import os
import signal
import time
from collections.abc import Callable, Mapping
from typing import Any

from poolmon.bench.common import machine, median, round_robin


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Suite options: how many children, repetitions and seconds of live monitoring."""
    parser.add_argument("--workers", type=int, default=64, help="sleeping children to sample")
    parser.add_argument("--reps", type=int, default=None, help="repetitions per contender")
    parser.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="live 1 Hz monitor run (default 19.5, quick 9.5)",
    )


def _fork_sleepers(count: int) -> list[int]:
    """Fork `count` children that sleep until killed; they never return into this code."""
    pids: list[int] = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            try:
                while True:
                    time.sleep(3600)
            finally:
                os._exit(0)
        pids.append(pid)
    return pids


def _kill(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for pid in pids:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


def _ms(fn: Callable[[], object]) -> Callable[[], float]:
    """A contender returning the wall milliseconds of one call of `fn`."""

    def run() -> float:
        t0 = time.perf_counter_ns()
        fn()
        return (time.perf_counter_ns() - t0) / 1e6

    return run


def _field_contenders(pids: list[int]) -> dict[str, Callable[[], float]]:
    """Each field read for every pid, raw /proc against psutil (kept Process objects)."""
    import psutil

    from poolmon.runtime.resources.procfs import read_bytes

    procs = [psutil.Process(p) for p in pids]

    def loop(fn: Callable[[int], object]) -> Callable[[], float]:
        return _ms(lambda: [fn(p) for p in pids])

    def ploop(fn: Callable[[Any], object]) -> Callable[[], float]:
        return _ms(lambda: [fn(p) for p in procs])

    return {
        "field_raw_stat_ms": loop(lambda p: read_bytes(f"/proc/{p}/stat")),
        "field_psutil_cpu_mem_threads_status_ms": ploop(
            lambda p: (p.cpu_times(), p.memory_info(), p.num_threads(), p.status())
        ),
        "field_raw_status_ctx_ms": loop(lambda p: read_bytes(f"/proc/{p}/status")),
        "field_psutil_ctx_ms": ploop(lambda p: p.num_ctx_switches()),
        "field_raw_io_ms": loop(lambda p: read_bytes(f"/proc/{p}/io")),
        "field_psutil_io_ms": ploop(lambda p: p.io_counters()),
        "field_raw_fd_size_ms": loop(lambda p: os.stat(f"/proc/{p}/fd").st_size),
        "field_raw_fd_listdir_ms": loop(lambda p: len(os.listdir(f"/proc/{p}/fd"))),
        "field_psutil_fds_ms": ploop(lambda p: p.num_fds()),
    }


def _live_fraction(targets: Mapping[int, int], seconds: float) -> tuple[float, int]:
    """Run the monitor thread at 1 Hz (default USS cadence); return (cpu fraction, sweeps)."""
    from poolmon.core.catalog import RESOURCE_PROCESS
    from poolmon.runtime.resources import ResourceMonitor
    from poolmon.runtime.telemetry import Telemetry

    tel = Telemetry()
    received = [0]
    tel.attach("bench.count", "poolmon.resource", lambda n, m, md: received.__setitem__(0, 1))
    monitor = ResourceMonitor(lambda: targets, tel, "bench", lambda: {"monitors": 1})
    monitor.start()
    time.sleep(seconds)
    monitor.stop()
    stats = monitor.stats
    if not (received[0] and tel.listening(RESOURCE_PROCESS)):
        raise RuntimeError("the live monitor emitted no resource events: nothing was measured")
    return stats.thread_cpu_ns / max(1, stats.thread_wall_ns), stats.sweeps


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Fork the sleepers, measure, clean up, and return the suite's figures and ratios."""
    import numpy  # noqa: F401  (the parent's memory map: what a forked pool worker inherits)
    import psutil

    from poolmon.runtime.resources import ProcessSampler
    from poolmon.runtime.resources.monitor import ResourceMonitor
    from poolmon.runtime.resources.procfs import ProcfsBackend
    from poolmon.runtime.resources.psutil_backend import PsutilBackend
    from poolmon.runtime.telemetry import Telemetry

    quick = bool(getattr(args, "quick", False))
    workers = int(getattr(args, "workers", 64) or 64)
    reps = getattr(args, "reps", None) or (5 if quick else 30)
    # Whole USS periods (10 s each, USS read in the first sweep of each), ending half an
    # interval early so the run does not stop just after starting the next period's USS
    # sweep: the steady-state mix of one USS sweep per ten ordinary ones.
    seconds = getattr(args, "seconds", None) or (9.5 if quick else 19.5)
    if not ProcfsBackend.available():
        raise SystemExit("the resources benchmark compares raw /proc with psutil: Linux only")

    pids = _fork_sleepers(workers)
    try:
        time.sleep(0.3)  # let every child reach its sleep
        targets = {i: pid for i, pid in enumerate(pids)}
        procfs = ProcfsBackend()
        raw = ProcessSampler(backend=procfs)
        via_psutil = ProcessSampler(backend=PsutilBackend())
        kept = [psutil.Process(p) for p in pids]
        for p in kept:
            p.cpu_percent(None)

        def psutil_min5() -> None:
            for p in kept:
                with p.oneshot():
                    p.cpu_percent(None), p.memory_info(), p.num_fds(), p.num_threads()
                    p.status()

        tel = Telemetry()
        tel.attach("bench.sink", "poolmon.resource", lambda n, m, md: None)
        monitor = ResourceMonitor(
            lambda: {-1: os.getpid(), **targets}, tel, "bench", uss_interval_s=None
        )
        contenders: dict[str, Callable[[], float]] = {
            "sweep_ms": _ms(lambda: raw.sample(targets)),
            "psutil_sweep_ms": _ms(lambda: via_psutil.sample(targets)),
            "psutil_min5_sweep_ms": _ms(psutil_min5),
            "uss_sweep_ms": _ms(lambda: [procfs.read_uss(p) for p in pids]),
            "psutil_uss_sweep_ms": _ms(lambda: [p.memory_full_info() for p in kept]),
            "monitor_sweep_ms": _ms(lambda: monitor.sweep(with_uss=False)),
            **_field_contenders(pids),
        }
        for fn in contenders.values():  # warm-up: first reads populate caches and baselines
            fn()
        results = round_robin(contenders, reps)
        fraction, sweeps = _live_fraction({-1: os.getpid(), **targets}, seconds)
    finally:
        _kill(pids)

    med = {name: median(values) for name, values in results.items()}
    n = workers
    figures: dict[str, Any] = {
        f"sweep_ms_{n}_workers": med["sweep_ms"],
        f"psutil_sweep_ms_{n}_workers": med["psutil_sweep_ms"],
        f"psutil_min5_sweep_ms_{n}_workers": med["psutil_min5_sweep_ms"],
        f"uss_sweep_ms_{n}_workers": med["uss_sweep_ms"],
        f"psutil_uss_sweep_ms_{n}_workers": med["psutil_uss_sweep_ms"],
        f"monitor_sweep_ms_{n}_workers": med["monitor_sweep_ms"],
        f"cpu_fraction_{n}_workers_1hz": fraction,
        "live_seconds": seconds,
        "live_sweeps": sweeps,
        "repetitions": reps,
    }
    figures.update({f"{k}_{n}": v for k, v in med.items() if k.startswith("field_")})
    ratios = {
        "psutil_vs_procfs_sweep": med["psutil_sweep_ms"] / med["sweep_ms"],
        "psutil_min5_vs_procfs_sweep": med["psutil_min5_sweep_ms"] / med["sweep_ms"],
        "psutil_vs_procfs_uss": med["psutil_uss_sweep_ms"] / med["uss_sweep_ms"],
        "cpu_fraction_vs_budget_1pct": fraction / 0.01,
    }
    return {
        "suite": "resources",
        "machine": machine(),
        "command": "python -m poolmon.bench resources --json" + (" --quick" if quick else ""),
        "figures": figures,
        "ratios": ratios,
    }
