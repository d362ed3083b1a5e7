"""`python -m poolmon.bench watch`: what the headless watcher costs, per scrape and per pool.

Three figures (issue #14):

* **scrape_ms_64_workers_20_ops**: one GET /metrics over HTTP on loopback, served by the real
  `MetricsServer` and `WatchCollector`, from an aggregator holding a generated pool of 64
  workers running 20 operations (`poolmon.testing.StreamGenerator` played into a `FeedSource`
  for 60 s, so every worker and operation has data); median of the scrapes.
* **watcher_cpu_fraction_10_pools**: 10 real pools (1 worker each) fed ~2,000 trivial tasks/s
  each (bursts of 100 every 50 ms; `_steady`: 10 every 5 ms, so nearly every endpoint flush
  carries tasks and the watcher gets more frames) by two driver processes, one
  `poolmon watch --all` subprocess attached to all of them and scraped once a second (as
  Prometheus would); the watcher's CPU time (user + system, from /proc via psutil) over the
  measured stretch divided by its wall time: the share of one core. The tasks/s the pools
  actually ran is reported beside it, from the watcher's own counters.
* **throughput_watched_vs_unwatched**: one real pool (2 workers, trivial tasks) timed over a
  fixed number of tasks with a `poolmon watch` subprocess attached and without, interleaved;
  the median of the per-pair ratios, with a bootstrap 95 % interval of that median
  (`figures.throughput_watched_vs_unwatched_ci95`).

The watcher takes each pool's tasks as live rollups (one frame a second per pool, whatever the
task rate; docs/PROTOCOL.md "Live rollups"), so both CPU figures are per second and per pool,
not per task.

The machine is shared with other busy sessions: the scrape and throughput figures are medians
of repetitions; each CPU figure is one stretch of `--seconds` (20 by default).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil

from poolmon.bench.common import machine, median
from poolmon.bench.tasks import ident
from poolmon.bench.telemetry import median_ci95
from poolmon.runtime.watch.collector import Caps, WatchCollector
from poolmon.runtime.watch.figures import read_figures
from poolmon.runtime.watch.serve import MetricsServer, parse_listen
from poolmon.testing.clock import ManualClock
from poolmon.testing.feed_source import FeedSource
from poolmon.testing.stream_generator import Operation, StreamGenerator, StreamSpec

_REPO = str(Path(__file__).resolve().parents[2])
"""Subprocesses run here, so `-m poolmon` imports this poolmon, not one in the caller's folder."""

_DRIVER = r"""
import sys, time
from poolmon import Pool
from poolmon.bench.tasks import ident
from poolmon.runtime.telemetry import Telemetry
names, rate, seconds = sys.argv[1].split(","), float(sys.argv[2]), float(sys.argv[3])
tick = float(sys.argv[4])
# one Telemetry per pool: the default registry is process-wide, shared by every pool in it
pools = [Pool(1, name=n, alerts=False, telemetry=Telemetry()) for n in names]
print("ready", flush=True)
t0 = time.monotonic()
per_tick = max(1, int(rate * tick))
n = 0
while time.monotonic() - t0 < seconds:
    futures = [f for p in pools for f in [p.submit(ident, i) for i in range(per_tick)]]
    for f in futures:
        f.result()
    n += 1
    delay = t0 + n * tick - time.monotonic()
    if delay > 0:
        time.sleep(delay)
for p in pools:
    p.shutdown()
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Suite options."""
    parser.add_argument("--seconds", type=float, default=20.0, help="measured CPU stretch")
    parser.add_argument("--pairs", type=int, default=5, help="watched/unwatched pairs")


def _spec(workers: int, n_ops: int) -> StreamSpec:
    ops = tuple(
        Operation(f"op_{i:02d}", 1.0, 0.5 + i, 0.5, 0.02, ("ValueError",)) for i in range(n_ops)
    )
    return StreamSpec(
        workers=workers, tasks_per_s=4000, operations=ops, spike_every_s=0, crash_at_s=-1
    )


def scrape_ms(repetitions: int) -> dict[str, Any]:
    """Median milliseconds of one /metrics scrape over 64 workers x 20 operations."""
    clock = ManualClock()
    feed = FeedSource(clock)
    gen = StreamGenerator(_spec(64, 20), clock.time_ns())
    feed.attach(gen.pool_info())
    feed.play(gen, 60)
    agg = feed.engine

    def source() -> list[Any]:
        return [read_figures(agg, pool="bench", socket="-", state="live", heard=True, lag_s=0.1)]  # type: ignore[arg-type]

    server = MetricsServer(
        WatchCollector(source, Caps(max_ops=32, max_workers=128)),
        parse_listen("127.0.0.1:0", explicit=False),
    )
    times, size = [], 0
    try:
        for _ in range(repetitions):
            t0 = time.perf_counter()
            with urllib.request.urlopen(server.url(), timeout=10) as resp:
                size = len(resp.read())
            times.append((time.perf_counter() - t0) * 1e3)
    finally:
        server.close()
    figs = source()[0]
    return {
        "scrape_ms": median(times),
        "bytes": size,
        "workers": len(figs.workers),
        "ops": len(figs.ops),
    }


def _start_watcher(env: dict[str, str], *targets: str) -> tuple[subprocess.Popen[str], str]:
    """A `poolmon watch` subprocess on a free loopback port; (process, /metrics URL)."""
    args = [sys.executable, "-m", "poolmon", "watch", *targets]
    args += ["--metrics-listen", "127.0.0.1:0"]
    proc = subprocess.Popen(args, env=env, stderr=subprocess.PIPE, text=True, cwd=_REPO)
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if "serving http" in line:
            return proc, line.split("serving ", 1)[1].strip()
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError("poolmon watch did not start")


def _cpu_s(pid: int) -> float:
    """CPU seconds of every thread of `pid`, to the nanosecond (/proc/PID/task/*/schedstat).

    psutil's times tick in 10 ms, more than a watcher on live rollups uses while one timed
    run of the pool lasts; the scheduler's own per-thread counters are exact.
    """
    total = 0
    for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        try:
            total += int(stat.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # a thread that ended meanwhile
    return total / 1e9


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _tasks_seen(url: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(url, timeout=10) as resp:
        body = resp.read().decode()
    return sum(
        s.value
        for f in text_string_to_metric_families(body)
        for s in f.samples
        if s.name == "poolmon_tasks_total"
    )


def watcher_cpu(
    env: dict[str, str], seconds: float, rate: float = 2000.0, tick_s: float = 0.05
) -> dict[str, Any]:
    """The watcher's share of one core while watching 10 pools at `rate` tasks/s each."""
    names = [f"load{i}" for i in range(10)]
    driver_args = (str(rate), str(seconds + 25), str(tick_s))
    drivers = [
        subprocess.Popen(
            [sys.executable, "-c", _DRIVER, ",".join(half), *driver_args],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
            cwd=_REPO,
        )
        for half in (names[:5], names[5:])
    ]
    try:
        for d in drivers:
            assert d.stdout is not None
            d.stdout.readline()  # "ready": the pools serve their sockets
        watcher, url = _start_watcher(env, "--all")
        try:
            time.sleep(5)  # attach and backfill
            proc = psutil.Process(watcher.pid)
            c0, w0, n0 = proc.cpu_times(), time.monotonic(), _tasks_seen(url)
            end = w0 + seconds
            while time.monotonic() < end:
                time.sleep(1.0)
                _tasks_seen(url)  # a scrape a second, as Prometheus would
            c1, w1, n1 = proc.cpu_times(), time.monotonic(), _tasks_seen(url)
        finally:
            _stop(watcher)
    finally:
        for d in drivers:
            _stop_driver(d)
    wall = w1 - w0
    cpu = (c1.user + c1.system) - (c0.user + c0.system)
    return {"cpu_fraction": cpu / wall, "tasks_per_s_per_pool": (n1 - n0) / wall / 10}


def _stop_driver(proc: subprocess.Popen[str]) -> None:
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        _stop(proc)


def throughput_ratio(env: dict[str, str], pairs: int, n_tasks: int = 200_000) -> dict[str, Any]:
    """Throughput of one pool with a watcher attached / without, interleaved pairs."""
    from poolmon import Pool

    os.environ["XDG_RUNTIME_DIR"] = env["XDG_RUNTIME_DIR"]
    pool = Pool(2, name="watched", alerts=False)
    sock = str(Path(env["XDG_RUNTIME_DIR"]) / "poolmon" / "watched.sock")

    def timed() -> float:
        t0 = time.perf_counter()
        for f in [pool.submit(ident, i) for i in range(n_tasks)]:
            f.result()
        return n_tasks / (time.perf_counter() - t0)

    watched: list[float] = []
    unwatched: list[float] = []
    shares: list[float] = []  # the watcher's CPU (cores) while the watched run went on
    try:
        timed()  # warm-up
        for _ in range(pairs):
            unwatched.append(timed())
            proc, _url = _start_watcher(env, sock)
            try:
                time.sleep(1.5)  # attached and live
                c0, w0 = _cpu_s(proc.pid), time.monotonic()
                watched.append(timed())
                shares.append((_cpu_s(proc.pid) - c0) / (time.monotonic() - w0))
            finally:
                _stop(proc)
    finally:
        pool.shutdown()
    ratios = [w / u for w, u in zip(watched, unwatched, strict=True)]
    return {
        "ratio": median(ratios),
        "ratio_ci95": [round(v, 3) for v in median_ci95(ratios)],
        "ratios": ratios,
        "watcher_cores_while_watched": median(shares),
        "watched_tasks_per_s": median(watched),
        "unwatched_tasks_per_s": median(unwatched),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the suite (see module doc)."""
    quick = bool(getattr(args, "quick", False))
    tmp = tempfile.mkdtemp(prefix="pmb", dir="/tmp")
    env = dict(os.environ, XDG_RUNTIME_DIR=tmp, XDG_STATE_HOME=os.path.join(tmp, "state"))
    try:
        scrape = scrape_ms(10 if quick else 50)
        cpu = watcher_cpu(env, 5.0 if quick else float(args.seconds))
        steady = watcher_cpu(env, 5.0 if quick else float(args.seconds), tick_s=0.005)
        ratio = throughput_ratio(env, 2 if quick else int(args.pairs))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "suite": "watch",
        "machine": machine(),
        "figures": {
            "scrape_ms_64_workers_20_ops": scrape["scrape_ms"],
            "scrape_bytes_64_workers_20_ops": scrape["bytes"],
            "watcher_cpu_fraction_10_pools": cpu["cpu_fraction"],
            "tasks_per_s_per_pool_measured": cpu["tasks_per_s_per_pool"],
            "watcher_cpu_fraction_10_pools_steady": steady["cpu_fraction"],
            "tasks_per_s_per_pool_measured_steady": steady["tasks_per_s_per_pool"],
            "watched_tasks_per_s": ratio["watched_tasks_per_s"],
            "unwatched_tasks_per_s": ratio["unwatched_tasks_per_s"],
            "watcher_cores_while_watched": ratio["watcher_cores_while_watched"],
            "throughput_ratio_per_pair": ratio["ratios"],
            "throughput_watched_vs_unwatched_ci95": ratio["ratio_ci95"],
        },
        "ratios": {"throughput_watched_vs_unwatched": ratio["ratio"]},
        "targets": {
            "scrape_ms_64_workers_20_ops": "<= 50",
            "watcher_cpu_fraction_10_pools": "<= 0.05",
            "throughput_watched_vs_unwatched": ">= 0.97",
        },
    }
