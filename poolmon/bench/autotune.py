"""`python -m poolmon.bench autotune`: auto-tuning finds the right size and undoes wrong ones.

Real pools on this machine, each under an open-loop load (a thread submits at a fixed rate, as
requests would arrive, whatever the pool does), with auto-tuning's windows shortened through
`AutotuneConfig` so the suite takes a few minutes (settle 3 s, baseline and validation 10 s,
lag 3 s; the defaults are 5/30/30/3 s):

* IO-bound: 50 ms sleeps arriving at 80/s (a size-2 pool serves 40/s). First every fixed
  size of SWEEP is run alone; the best one's throughput is the reference. Then a size-2 pool
  with auto-tuning: `ratios.autotune_vs_best_static` is its throughput over the last
  LAST_S seconds / the best static one; `figures.autotune_converge_s` is the first second
  (after the load started) from which its 5-second throughput stays at >= 90 % of the best
  static one to the end (the advisor needs 30 s of data before its first finding);
  `figures.autotune_last_size_change_s` when it last changed size.
* CPU-bound: pure-Python loops of ~20 ms arriving 3x faster than 2 workers serve, on this
  2-core machine, from size 2: `ratios.autotune_cpu_bound_vs_start` = throughput over the
  last LAST_S s / over the LAST_S s after warm-up (it must not make things worse). A control
  pool run alongside would compete for the same two cores (its share moves against the tuned
  pool's, doubling the noise instead of cancelling it), so this one is the raw ratio, and the
  machine's drift is in its spread over runs.
* Contended: 20 ms sleeps holding one `fcntl.flock` shared by every worker process (a queue
  builds, busy workers use no CPU, so it looks IO-bound, but at most 50/s can pass): a grow is
  tried, found no better and rolled back: `figures.autotune_rollbacks_contended`, and
  `ratios.autotune_contended_vs_start`: end/start as for CPU-bound, divided by the same ratio
  of a control pool (size 2, no auto-tuning, its own lock, the same load) run alongside, so
  the machine's drift is not read as the tuner's doing (`figures.*_raw_end_vs_start` and
  `control_*_end_vs_start` give both parts; sleeping tasks do not compete for the cores).

The machine is shared (2 cores, several other jobs), so single runs are noisy; the suite
reports each figure once per run and docs/BENCHMARKS.md quotes medians of runs.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from poolmon import Pool
from poolmon.bench.common import machine
from poolmon.bench.tasks import burn, sleepy
from poolmon.core import catalog as C
from poolmon.core.advisor.autotune import AutotuneConfig
from poolmon.runtime.pool.errors import PoolClosed
from poolmon.runtime.telemetry import DEFAULT_TELEMETRY, Telemetry

BENCH_CONFIG = AutotuneConfig(
    settle_s=3, baseline_s=10, validate_s=10, lag_s=3, cooldown_s=120, max_changes_per_hour=60
)
"""Shortened windows so the suite fits in minutes (see module doc)."""
SWEEP = (2, 4, 6, 8)
"""Fixed sizes tried for the IO-bound reference."""
LAST_S = 20.0
"""The 'last part' of a run, and the 'start' part after warm-up."""
IO_TASK_S = 0.05
IO_RATE = 80.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Durations of the runs (shorter for a smoke test)."""
    parser.add_argument("--io-seconds", type=float, default=110.0)
    parser.add_argument("--cpu-seconds", type=float, default=75.0)
    parser.add_argument("--contended-seconds", type=float, default=75.0)


def locked_sleep(path: str, seconds: float) -> float:
    """Sleep while holding an exclusive flock on `path`: every worker waits for the others."""
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            time.sleep(seconds)
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    return seconds


class Load:
    """Submit `task(*args)` at `rate` per second from a thread; record completion times."""

    def __init__(self, pool: Pool, rate: float, task: Callable[..., Any], *args: Any) -> None:
        self.pool, self.rate, self.task, self.args = pool, rate, task, args
        self.done: list[float] = []
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Load:
        """Start submitting; offsets in `throughput` count from now."""
        self.started = time.monotonic()
        self._thread.start()
        return self

    def _run(self) -> None:
        at = time.monotonic()
        while not self._stop.is_set():
            at += 1 / self.rate
            delay = at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            try:
                fut = self.pool.submit(self.task, *self.args)
            except PoolClosed:
                return
            fut.add_done_callback(self._done)

    def _done(self, fut: Any) -> None:
        if not fut.cancelled():  # shutdown cancels what is still queued: not a completion
            self.done.append(time.monotonic())

    def stop(self) -> None:
        """Stop submitting (tasks already submitted still complete)."""
        self._stop.set()
        self._thread.join()

    def throughput(self, start_s: float, end_s: float) -> float:
        """Completions per second between two offsets from the start."""
        a, b = self.started + start_s, self.started + end_s
        return sum(1 for t in list(self.done) if a <= t < b) / (end_s - start_s)


def _run_pool(
    size: int,
    seconds: float,
    rate: float,
    task: Callable[..., Any],
    *args: Any,
    autotune: AutotuneConfig | None = None,
    control_args: tuple[Any, ...] | None = None,
) -> dict[str, Any]:
    """One pool under load; returns its load, size changes and auto-tuning decisions.

    With `control_args`, a second pool of the same size without auto-tuning runs the same
    load (with those task arguments) at the same time: its end/start ratio is the machine's
    drift, which the suite divides out.
    """
    sock = Path(tempfile.mkdtemp(prefix="poolmon-bench-")) / "at.sock"
    name = f"bench-autotune-{os.getpid()}-{time.monotonic_ns()}"
    decisions: list[dict[str, Any]] = []
    hid = f"bench.{name}"

    def on_decision(_n: str, _m: Any, md: Any) -> None:
        if md.get("pool") == name:
            decisions.append(dict(md["decision"]))

    DEFAULT_TELEMETRY.attach(hid, C.AUTOTUNE_DECISION, on_decision)
    sizes: list[tuple[float, int]] = []
    controlled: Load | None = None
    try:
        with Pool(
            size, name=name, monitor=str(sock), max_size=16, autotune=autotune or False
        ) as pool:
            control = (
                # its own registry: the default one would feed its tasks into the tuned
                # pool's endpoint (and so into what auto-tuning measures)
                Pool(size, name=f"{name}-control", monitor=False, telemetry=Telemetry())
                if control_args is not None
                else None
            )
            pool.wait_ready(30)
            if control is not None:
                control.wait_ready(30)
                control_load = Load(control, rate, task, *(control_args or ())).start()
            load = Load(pool, rate, task, *args).start()
            last = size
            while time.monotonic() - load.started < seconds:
                time.sleep(0.25)
                if pool.size != last:
                    last = pool.size
                    sizes.append((time.monotonic() - load.started, last))
            load.stop()
            pool.shutdown(wait=True, cancel_futures=True)
            if control is not None:
                control_load.stop()
                control.shutdown(wait=True, cancel_futures=True)
                controlled = control_load
    finally:
        DEFAULT_TELEMETRY.detach(hid)
        sock.unlink(missing_ok=True)
        sock.parent.rmdir()
    return {
        "load": load,
        "control": controlled,
        "sizes": sizes,
        "decisions": decisions,
        "seconds": seconds,
    }


def _end_vs_start(load: Load, seconds: float) -> float | None:
    """Throughput over the last LAST_S seconds / over LAST_S seconds after a 5 s warm-up."""
    start = load.throughput(5.0, 5.0 + LAST_S)
    return load.throughput(seconds - LAST_S, seconds) / start if start else None


def _calibrate_burn(target_s: float) -> int:
    n = 200_000
    t0 = time.perf_counter()
    burn(n)
    return max(1000, int(n * target_s / max(1e-6, time.perf_counter() - t0)))


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the three workloads (see module doc)."""
    static = {}
    for size in SWEEP:
        r = _run_pool(size, 14.0, IO_RATE, sleepy, IO_TASK_S)
        static[size] = r["load"].throughput(6.0, 14.0)
    best_size = max(static, key=lambda s: static[s])
    io = _run_pool(2, args.io_seconds, IO_RATE, sleepy, IO_TASK_S, autotune=BENCH_CONFIG)
    end = args.io_seconds
    io_last = io["load"].throughput(end - LAST_S, end)
    last_change = io["sizes"][-1][0] if io["sizes"] else None
    converge = _reached(io["load"], end, 0.9 * static[best_size])

    n = _calibrate_burn(0.02)
    cpu_s = args.cpu_seconds
    cpu = _run_pool(2, cpu_s, 150.0, burn, n, autotune=BENCH_CONFIG)
    cpu_start = cpu["load"].throughput(5.0, 5.0 + LAST_S)
    cpu_end = cpu["load"].throughput(cpu_s - LAST_S, cpu_s)
    cpu_ratio = _end_vs_start(cpu["load"], cpu_s)

    tmp = Path(tempfile.mkdtemp(prefix="poolmon-lock-"))
    lock, other = tmp / "lock", tmp / "control-lock"
    lock.touch()
    other.touch()
    con_s = args.contended_seconds
    try:
        con = _run_pool(
            2,
            con_s,
            80.0,
            locked_sleep,
            str(lock),
            0.02,
            autotune=BENCH_CONFIG,
            control_args=(str(other), 0.02),
        )
    finally:
        lock.unlink(missing_ok=True)
        other.unlink(missing_ok=True)
        tmp.rmdir()
    con_start = con["load"].throughput(5.0, 5.0 + LAST_S)
    con_end = con["load"].throughput(con_s - LAST_S, con_s)
    con_raw, con_drift = _end_vs_start(con["load"], con_s), _end_vs_start(con["control"], con_s)
    rollbacks = sum(1 for d in con["decisions"] if d["kind"] == "rolled_back")

    def log(r: dict[str, Any]) -> list[str]:
        return [
            f"{d['kind']} {d.get('from_size')}->{d.get('to_size')}: {d['reason']}"
            for d in r["decisions"]
        ]

    return {
        "suite": "autotune",
        "machine": machine(),
        "config": {
            "settle_s": BENCH_CONFIG.settle_s,
            "baseline_s": BENCH_CONFIG.baseline_s,
            "validate_s": BENCH_CONFIG.validate_s,
            "lag_s": BENCH_CONFIG.lag_s,
            "io": f"{IO_TASK_S * 1000:.0f} ms sleeps at {IO_RATE:.0f}/s from size 2",
            "cpu": f"~20 ms loops (n={n}) at 150/s from size 2",
            "contended": "20 ms sleeps under one flock at 80/s from size 2",
        },
        "figures": {
            "static_throughput_per_s": {str(k): round(v, 1) for k, v in static.items()},
            "best_static_size": best_size,
            "autotune_io_last_throughput_per_s": round(io_last, 1),
            "autotune_io_final_size": io["sizes"][-1][1] if io["sizes"] else 2,
            "autotune_converge_s": None if converge is None else round(converge, 1),
            "autotune_last_size_change_s": None if last_change is None else round(last_change, 1),
            "autotune_cpu_final_size": cpu["sizes"][-1][1] if cpu["sizes"] else 2,
            "autotune_cpu_start_per_s": round(cpu_start, 1),
            "autotune_cpu_end_per_s": round(cpu_end, 1),
            "autotune_rollbacks_contended": rollbacks,
            "autotune_contended_start_per_s": round(con_start, 1),
            "autotune_contended_end_per_s": round(con_end, 1),
            "autotune_contended_raw_end_vs_start": _r(con_raw),
            "control_contended_end_vs_start": _r(con_drift),
            "decisions_io": log(io),
            "decisions_cpu": log(cpu),
            "decisions_contended": log(con),
        },
        "ratios": {
            "autotune_vs_best_static": round(io_last / static[best_size], 3),
            "autotune_cpu_bound_vs_start": _r(cpu_ratio),
            "autotune_contended_vs_start": _corrected(con_raw, con_drift),
        },
    }


def _reached(load: Load, end: float, level: float, span: float = 5.0) -> float | None:
    """First second from which every `span`-second throughput stays >= `level` to the end."""
    t = end - span
    reached = None
    while t >= 0 and load.throughput(t, t + span) >= level:
        reached = t
        t -= 1.0
    return reached


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _corrected(raw: float | None, drift: float | None) -> float | None:
    """End/start of the tuned pool divided by the control pool's (the machine's drift)."""
    return None if raw is None or not drift else round(raw / drift, 3)
