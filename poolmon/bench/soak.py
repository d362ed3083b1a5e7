"""`python -m poolmon.bench soak [--minutes 60]`: the whole system for an hour, against truth.

A served pool runs a mixed load for `--minutes` (trivial tasks plus the demo's failing, slow,
timing-out, leaking and crashing operations, and a worker SIGKILLed every minute;
`poolmon.bench.soak_load`). Attached to it for the whole run, as a user would have them:

* a `Monitor` (the client, reconnection and aggregator of `poolmon attach`), its connection cut
  every `--cut-every` seconds so it resumes as after a network blip;
* a real `poolmon watch` process serving /metrics, scraped over HTTP;
* the terminal app itself, headless at 160x50 (`poolmon.bench.memory_load app`), cut every
  minute.

Every `--check-every` seconds the load pauses until every future is done and the last second
has closed, and the soak compares, exactly, the pool's ground truth (every future's outcome,
counted by the load process from the futures) with the pool's own `stats().totals`, with the
monitor's counts (by status, by operation, by error type) and with the watcher's
`poolmon_tasks_total`. Any difference is listed. The RSS of the pool, its workers, the app,
the watcher and this process (the monitor) is sampled every 15 s; slopes are fitted after the
warm-up. Figures: `mismatches` (goal 0), `checkpoints`, `tasks`, the slopes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from poolmon.bench.common import machine
from poolmon.bench.memory import rss_mib, slope_per_h

STATUSES = ("ok", "error", "timeout", "crashed")
"""The outcome statuses compared (cancelled tasks never happen in this load)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`--minutes`, `--rate`, `--check-every`, `--cut-every`, `--warmup`."""
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the run")
    parser.add_argument("--rate", type=float, default=2000.0, help="trivial tasks per second")
    parser.add_argument("--check-every", type=float, default=300.0, help="seconds per check")
    parser.add_argument("--cut-every", type=float, default=97.0, help="monitor cut period, s")
    parser.add_argument("--warmup", type=float, default=16.0, help="minutes before slopes")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _expected(truth: dict[str, Any]) -> dict[str, Any]:
    """Truth folded into what each observer reports: by status, by op, by error type."""
    by_status = dict.fromkeys(STATUSES, 0)
    by_op: dict[str, tuple[int, int]] = {}
    errors: dict[str, int] = {}
    for op, row in truth.items():
        n_err = sum(row["errors"].values())
        by_status["ok"] += row["ok"]
        by_status["error"] += n_err
        by_status["timeout"] += row["timeout"]
        by_status["crashed"] += row["crashed"]
        failed = n_err + row["timeout"] + row["crashed"]
        by_op[op] = (row["ok"] + failed, failed)
        for kind, n in row["errors"].items():
            errors[kind] = errors.get(kind, 0) + n
    return {"status": by_status, "ops": by_op, "errors": errors}


def _monitor_counts(agg: Any) -> dict[str, Any]:
    """What the monitor's aggregator says: status totals, per-op totals, error types."""
    from poolmon.core.events import STATUS_NAMES

    st = agg.stats
    status = {name: int(st.status_totals[i]) for i, name in enumerate(STATUS_NAMES)}
    ops = {t.name: (t.count, t.count - t.by_status[0]) for t in st.op_totals.view()}
    errors = st.errors.total()
    return {"status": status, "ops": ops, "errors": errors}


def _scrape(url: str) -> dict[str, int]:
    """`poolmon_tasks_total` summed by status from the watcher's /metrics."""
    with urllib.request.urlopen(url, timeout=10) as resp:
        text = resp.read().decode()
    out: dict[str, int] = {}
    for line in text.splitlines():
        if line.startswith("poolmon_tasks_total{"):
            status = re.search(r'status="([^"]*)"', line)
            if status:
                value = float(line.rsplit(" ", 1)[1])
                out[status.group(1)] = out.get(status.group(1), 0) + int(value)
    return out


def _compare(label: str, got: Any, want: Any, out: list[str]) -> None:
    if got != want:
        out.append(f"{label}: observed {got!r}, truth {want!r}")


def _check(reply: dict[str, Any], monitor: Any, metrics_url: str) -> list[str]:
    """Every observer against the truth; the differences, as readable lines."""
    want = _expected(reply["truth"])
    bad: list[str] = []
    pool = reply["pool"]
    _compare("pool.stats succeeded", pool["succeeded"], want["status"]["ok"], bad)
    _compare("pool.stats failed", pool["failed"], want["status"]["error"], bad)
    _compare("pool.stats timed_out", pool["timed_out"], want["status"]["timeout"], bad)
    _compare("pool.stats crashed", pool["crashed"], want["status"]["crashed"], bad)
    got = monitor.read(_monitor_counts)
    for status in STATUSES:
        _compare(f"monitor {status}", got["status"][status], want["status"][status], bad)
    for op, counts in sorted(want["ops"].items()):
        _compare(f"monitor op {op} (count, failed)", got["ops"].get(op), counts, bad)
    for kind, n in sorted(want["errors"].items()):
        _compare(f"monitor error type {kind}", got["errors"].get(kind), n, bad)
    exported = _scrape(metrics_url)
    total = sum(want["status"].values())
    _compare("watcher sum(poolmon_tasks_total)", sum(exported.values()), total, bad)
    for status in STATUSES:
        _compare(
            f"watcher poolmon_tasks_total{{status={status!r}}}",
            exported.get(status, 0),
            want["status"][status],
            bad,
        )
    return bad


def _workers_mib(pool_pid: int) -> float | None:
    """RSS of every process the pool started (workers and the forkserver), summed."""
    import psutil

    try:
        kids = psutil.Process(pool_pid).children(recursive=True)
    except psutil.Error:
        return None
    sizes = [rss_mib(k.pid) for k in kids]
    return round(sum(s for s in sizes if s is not None), 1)


def _stop(proc: subprocess.Popen[Any] | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the soak; return figures, every checkpoint, and the RSS curve."""
    from poolmon.runtime.monitor import Monitor

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    py = sys.executable
    checkpoints: list[dict[str, Any]] = []
    curve: list[dict[str, Any]] = []
    mismatches = 0
    cuts = 0
    with tempfile.TemporaryDirectory(prefix="poolmon-soak-") as folder:
        sock = str(Path(folder) / "soak.sock")
        pool = subprocess.Popen(
            [py, "-m", "poolmon.bench.soak_load", sock, str(args.rate)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert pool.stdin is not None
        assert pool.stdout is not None
        watcher = app = None
        monitor = Monitor(sock, read_only=True, client="poolmon bench soak")
        try:
            ready = json.loads(pool.stdout.readline() or "{}")
            if not ready.get("ready"):
                raise RuntimeError("the soak pool did not start; run poolmon.bench.soak_load")
            port = _free_port()
            metrics_url = f"http://127.0.0.1:{port}/metrics"
            watcher = subprocess.Popen(
                [py, "-m", "poolmon", "watch", sock, "--metrics-listen", f"127.0.0.1:{port}"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            app = subprocess.Popen(
                [py, "-m", "poolmon.bench.memory_load", "app", sock],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            monitor.start()
            start = time.monotonic()
            end = start + args.minutes * 60
            next_check = start + args.check_every
            next_cut = start + args.cut_every
            next_sample = start
            while True:
                now = time.monotonic()
                for name, proc in (("pool", pool), ("watcher", watcher), ("app", app)):
                    if proc.poll() is not None:
                        raise RuntimeError(f"the soak's {name} process died ({proc.returncode})")
                if now >= next_sample:
                    next_sample += 15
                    curve.append(
                        {
                            "t_s": round(now - start, 1),
                            "pool_mib": rss_mib(pool.pid),
                            "workers_mib": _workers_mib(pool.pid),
                            "app_mib": rss_mib(app.pid),
                            "watcher_mib": rss_mib(watcher.pid),
                            "monitor_mib": rss_mib(os.getpid()),
                        }
                    )
                if now >= next_cut:
                    next_cut += args.cut_every
                    monitor.drop_connection()
                    cuts += 1
                if now >= next_check or now >= end:
                    next_check += args.check_every
                    pool.stdin.write("pause\n")
                    pool.stdin.flush()
                    reply = json.loads(pool.stdout.readline())
                    time.sleep(2.0)  # the monitor's and the watcher's next frames
                    bad = _check(reply, monitor, metrics_url)
                    if bad:  # a frame may still be on its way on a loaded box: look again
                        time.sleep(5.0)
                        bad = _check(reply, monitor, metrics_url)
                    mismatches += len(bad)
                    tasks = sum(_expected(reply["truth"])["status"].values())
                    checkpoints.append(
                        {
                            "t_s": round(now - start),
                            "tasks": tasks,
                            "idle": reply["idle"],
                            "mismatches": bad,
                        }
                    )
                    print(
                        f"soak: {round(now - start)} s, {tasks} tasks, {len(bad)} mismatches",
                        file=sys.stderr,
                    )
                    for line in bad:
                        print(f"  {line}", file=sys.stderr)
                    pool.stdin.write("resume\n")
                    pool.stdin.flush()
                    if now >= end:
                        break
                time.sleep(0.5)
        finally:
            monitor.stop()
            _stop(app)
            _stop(watcher)
            if pool.poll() is None and pool.stdin is not None:
                try:
                    pool.stdin.write("quit\n")
                    pool.stdin.flush()
                    pool.wait(30)
                except (OSError, subprocess.TimeoutExpired):
                    pool.kill()
    after = [c for c in curve if c["t_s"] >= args.warmup * 60]

    def slope(key: str) -> float | None:
        got = slope_per_h([(c["t_s"], float(c[key])) for c in after if c[key] is not None])
        return None if got is None else round(got, 2)

    return {
        "suite": "soak",
        "machine": machine(),
        "config": {
            k: getattr(args, k) for k in ("minutes", "rate", "check_every", "cut_every", "warmup")
        },
        "figures": {
            "mismatches": mismatches,
            "checkpoints": len(checkpoints),
            "tasks": checkpoints[-1]["tasks"] if checkpoints else 0,
            "monitor_cuts": cuts,
            "pool_rss_slope_mib_per_h": slope("pool_mib"),
            "workers_rss_slope_mib_per_h": slope("workers_mib"),
            "app_rss_slope_mib_per_h": slope("app_mib"),
            "watcher_rss_slope_mib_per_h": slope("watcher_mib"),
            "monitor_rss_slope_mib_per_h": slope("monitor_mib"),
        },
        "checkpoints": checkpoints,
        "curve": curve[:: max(1, len(curve) // 60)],
    }
