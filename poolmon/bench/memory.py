"""`python -m poolmon.bench memory`: what history costs, and whether the pool and app stay flat.

Figures:

* `history_mib_16min_20_ops`: the endpoint history's own memory once its 16 minutes of
  per-second rollups are full, for 20 operations with wide latency spreads (5,000 tasks a
  second, lognormal durations, 1 % errors), measured with tracemalloc around the `History`
  object alone (raw task rows excluded: they have their own 16 MiB bound). Side by side, the
  same rollups held the way history held them before (a `Rollup` plus its wire dict):
  `history_mib_16min_20_ops_unpacked`, and the ratio.
* `pool_rss_slope_mib_per_h` / `app_rss_slope_mib_per_h` (and the workers' together):
  least-squares slope of VmRSS sampled every 15 s after a warm-up, for a pool process at
  20,000 trivial tasks a second over 20 operations (a worker killed every minute) and an app
  attached to it (reconnecting every minute); see `poolmon.bench.memory_load`. The warm-up
  (`--warmup`, 12 min) must end in the steady state: history full, and the exited worker
  rows (kept 600 s, one more a minute) at their steady count, or the fit measures them
  filling (~170 KiB a minute, ~10 MiB/h over a 10-minute fit). `warmup_state` says whether
  it did. `--minutes` sets the measured part (10).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from array import array
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from poolmon.bench.common import machine
from poolmon.core.events import TaskBatch
from poolmon.runtime.endpoint.history import History

NS = 1_000_000_000
MIB = 1024 * 1024


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Suite options."""
    parser.add_argument("--minutes", type=float, default=10.0, help="measured minutes (RSS)")
    parser.add_argument(
        "--warmup",
        type=float,
        default=12.0,
        help="warm-up minutes before the RSS fit (12: exited worker rows, kept 600 s, steady)",
    )
    parser.add_argument("--rate", type=float, default=20_000.0, help="tasks per second")
    parser.add_argument("--history-only", action="store_true", help="skip the RSS runs")


def _batches(seconds: int, rows: int, seed: int = 1) -> list[TaskBatch]:
    rng = np.random.default_rng(seed)
    ops = tuple(f"op{i:02d}" for i in range(20))
    out = []
    t0 = 1_700_000_000
    for k in range(seconds):
        op = rng.integers(0, 20, rows)
        dur = rng.lognormal(np.log(2e5) + op * 0.2, 1.0, rows).astype(np.int64)
        start = (t0 + k) * NS + rng.integers(0, NS - 10**6, rows) - dur
        status = (rng.random(rows) < 0.01).astype(np.int64)
        cols = [
            np.arange(k * rows, (k + 1) * rows),
            rng.integers(0, 8, rows),
            op,
            start,
            dur,
            rng.integers(0, 10**6, rows),
            status,
            status,
        ]
        out.append(TaskBatch(ops, ("", "ValueError"), *(array("q", c.tobytes()) for c in cols)))
    return out


def history_figures(seconds: int = 960, rows: int = 5000) -> dict[str, float]:
    """Measure the full rollup history, packed (today) and as Rollup + wire dict (before)."""
    batches = _batches(seconds + 3, rows)
    t0 = 1_700_000_000
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    history = History(raw_task_bytes=1)
    old: list[tuple[Any, dict[str, Any]]] = []
    for k, batch in enumerate(batches):
        history.add_tasks(batch)
        history.commit()
        for rollup in history.tick((t0 + k + 1) * NS):
            old.append((rollup, rollup.to_wire()))  # what the history kept before
            del old[:-seconds]
    history._tasks.clear()  # raw rows are bounded separately; measure rollups only
    history._task_bytes = 0
    gc.collect()
    both = tracemalloc.get_traced_memory()[0] - base
    del old
    gc.collect()
    packed = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return {
        "history_mib_16min_20_ops": packed / MIB,
        "history_mib_16min_20_ops_unpacked": (both - packed) / MIB,
        "history_packed_bytes_per_s": history.rollup_bytes / seconds,
    }


def rss_mib(pid: int) -> float | None:
    """A process's VmRSS in MiB, or None once it is gone (the memory benches' one reader)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _children_rss_mib(pid: int) -> float | None:
    """The pool's workers together (its child processes' RSS)."""
    try:
        kids = psutil.Process(pid).children()
    except psutil.Error:
        return None
    total = 0
    for kid in kids:
        try:
            total += kid.memory_info().rss
        except psutil.Error:
            pass  # a worker killed just now
    return total / MIB


def slope_per_h(samples: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, MiB) samples, in MiB an hour (None under 3 samples)."""
    if len(samples) < 3:
        return None
    t = np.array([s[0] for s in samples]) / 3600.0
    y = np.array([s[1] for s in samples])
    return float(np.polyfit(t, y, 1)[0])


def _follow(proc: subprocess.Popen[bytes], into: dict[str, Any]) -> threading.Thread:
    """Keep the latest state line a bench process prints (`memory_load.report_state`)."""

    def loop() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                into.update(json.loads(line))
            except ValueError:
                continue

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


def rss_figures(minutes: float, warmup_min: float, rate: float) -> dict[str, Any]:
    """Run the loaded pool and the attached app; sample both every 15 s; fit the slopes.

    Warm-up criterion: the slope is fitted only over samples taken `warmup_min` minutes or
    more after the app attached. By then the pool's 60 s of rollups and its 16 MiB of raw
    rows must be full and the worker rows (one replacement a minute, exited rows forgotten
    after 600 s) at their steady count; `warmup_state` is what both processes reported at
    the first fitted sample and `steady_at_warmup` says whether the criterion held.
    """
    pool_state: dict[str, Any] = {}
    app_state: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="poolmon-membench-") as folder:
        sock = str(Path(folder) / "mem.sock")
        cmd = [sys.executable, "-m", "poolmon.bench.memory_load"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        pool = subprocess.Popen([*cmd, "pool", sock, str(rate)], env=env, stdout=subprocess.PIPE)
        _follow(pool, pool_state)
        app = None
        try:
            deadline = time.monotonic() + 30
            while not os.path.exists(sock) and time.monotonic() < deadline:
                time.sleep(0.1)
            with open(Path(folder) / "app.err", "wb") as app_err:  # the child keeps its copy
                app = subprocess.Popen(
                    [*cmd, "app", sock], env=env, stdout=subprocess.PIPE, stderr=app_err
                )
            _follow(app, app_state)
            start = time.monotonic()
            curve: list[dict[str, Any]] = []
            end = start + (warmup_min + minutes) * 60
            while time.monotonic() < end:
                if pool.poll() is not None or app.poll() is not None:
                    raise RuntimeError("a memory bench process died; run it by hand to see why")
                curve.append(
                    {
                        "t_s": round(time.monotonic() - start, 1),
                        "pool_mib": rss_mib(pool.pid),
                        "workers_mib": _children_rss_mib(pool.pid),
                        "app_mib": rss_mib(app.pid),
                        "pool": dict(pool_state),
                        "app_worker_rows": app_state.get("worker_rows"),
                        "app_state": app_state.get("state"),
                        "app_frames": app_state.get("frames"),
                        "app_render": app_state.get("render"),
                        "app_detail": app_state.get("detail"),
                        "app_reconnects": app_state.get("reconnects"),
                        "load1": round(os.getloadavg()[0], 2),
                    }
                )
                time.sleep(15)
        finally:
            for proc in (app, pool):
                if proc is not None and proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    try:
                        proc.wait(20)
                    except subprocess.TimeoutExpired:
                        proc.kill()
            errors = _tail(Path(folder) / "app.err")
    after = [c for c in curve if float(c["t_s"] or 0) >= warmup_min * 60]

    def series(key: str) -> list[tuple[float, float]]:
        return [(float(c["t_s"] or 0), float(v)) for c in after if (v := c[key]) is not None]

    stall = app_stall(after)
    return {
        "figures": {
            "pool_rss_slope_mib_per_h": slope_per_h(series("pool_mib")),
            # an app that stopped taking data is trivially flat: no figure then
            "app_rss_slope_mib_per_h": None if stall else slope_per_h(series("app_mib")),
            "workers_rss_slope_mib_per_h": slope_per_h(series("workers_mib")),
            "pool_rss_mib_end": curve[-1]["pool_mib"] if curve else None,
            "workers_rss_mib_end": curve[-1]["workers_mib"] if curve else None,
            "app_rss_mib_end": curve[-1]["app_mib"] if curve else None,
            "tasks_per_s_median": _median([c["pool"].get("tasks_per_s") for c in after]),
            "app_frames_in_fit": _grown([c["app_frames"] for c in after]),
        },
        "app_stall": stall,
        "app_stderr_tail": errors,
        "warmup_state": warmup_state(after),
        "curve": curve,
    }


STALL_SAMPLES = 5
"""Samples (15 s apart) without a frame reaching the app that make it stalled: over a minute,
longer than any reconnect after the bench's cut."""


def app_stall(after: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Where the app stopped receiving frames, or drawing, during the fit; None if never.

    Why: an app whose monitor stopped (its thread ended, or it never reconnected) draws the
    same screen for the rest of the run, so its RSS slope passes without measuring anything.
    And an app whose screen stopped changing while frames still came (run 14, 2026-12-07:
    its render objects identical for the last 17 minutes, its RSS up 5.4 MiB at that
    moment) no longer measures what a user's app does either. `stopped` says which.
    """
    for key, stopped in (("app_frames", "frames"), ("app_render", "drawing")):
        run = 0
        for i in range(1, len(after)):
            now, before = after[i].get(key), after[i - 1].get(key)
            run = run + 1 if now is not None and now == before else 0
            if run >= STALL_SAMPLES:
                at = after[i - run]
                return {
                    "t_s": at["t_s"],
                    "stopped": stopped,
                    "state": at["app_state"],
                    "detail": at.get("app_detail"),
                }
    return None


def _tail(path: Path, limit: int = 4000) -> str:
    """The end of what a bench process wrote to stderr ("" when nothing): why it stopped."""
    try:
        return path.read_bytes()[-limit:].decode(errors="replace")
    except OSError:
        return ""


def _grown(values: list[Any]) -> int | None:
    """Last minus first of the known values (None when none is known).

    The app's frames during the fit: proof it was live, since a stalled app is trivially flat.
    """
    found = [int(v) for v in values if v is not None]
    return found[-1] - found[0] if found else None


def _median(values: list[Any]) -> float | None:
    found = [float(v) for v in values if v is not None]
    return float(np.median(found)) if found else None


def warmup_state(after: list[dict[str, Any]]) -> dict[str, Any]:
    """What the pool and app held at the first fitted sample, and whether that was steady.

    Steady: rollups at their bound, raw rows within 10 % of theirs, and no more worker rows
    at that sample than at any later one (the rows stopped filling before the fit began).
    """
    if not after:
        return {"steady_at_warmup": False}
    first = after[0]
    pool = first["pool"]
    later_pool_rows = [c["pool"].get("worker_rows") or 0 for c in after]
    later_app_rows = [c["app_worker_rows"] or 0 for c in after]
    steady = (
        pool.get("rollups") is not None
        and pool.get("rollups") == pool.get("rollups_max")
        and pool.get("raw_mib", 0) >= 0.9 * pool.get("raw_max_mib", 1)
        and (pool.get("worker_rows") or 0) >= max(later_pool_rows) - 1
        and (first["app_worker_rows"] or 0) >= max(later_app_rows) - 1
    )
    return {
        "t_s": first["t_s"],
        "pool": pool,
        "app_worker_rows": first["app_worker_rows"],
        "worker_rows_max_after": {"pool": max(later_pool_rows), "app": max(later_app_rows)},
        "steady_at_warmup": steady,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the suite; see the module docstring."""
    hist = history_figures(seconds=60 if args.quick else 960)
    figures: dict[str, Any] = dict(hist)
    ratios = {
        "history_packed_vs_unpacked": hist["history_mib_16min_20_ops"]
        / hist["history_mib_16min_20_ops_unpacked"]
    }
    result: dict[str, Any] = {"suite": "memory", "machine": machine()}
    if not args.history_only:
        rss = rss_figures(args.minutes, args.warmup, args.rate)
        figures.update(rss["figures"])
        result["warmup_state"] = rss["warmup_state"]
        result["app_stall"] = rss["app_stall"]
        result["app_stderr_tail"] = rss["app_stderr_tail"]
        result["curve"] = rss["curve"]
    result["figures"] = figures
    result["ratios"] = ratios
    return result
