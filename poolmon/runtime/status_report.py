"""`poolmon status`: what a pool is doing, with every figure true and labelled with its window.

Two sources, each for what it knows best. The pool's own `stats` command gives the present:
size, busy and idle workers, the queue, uptime, restarts and the totals since start, all exact
integers. The window figures (throughput, latency percentiles, errors by type) come from the
same path the terminal app uses: a read-only `Monitor` takes the pool's history (per-second
rollups and recent task rows) into an `Aggregator`, and the snapshot of the last
`STATUS_WINDOW_S` seconds is read once. A rate is divided by the time the window actually has
data for (a pool 4 s old: 4 s, not the full minute, and not 10 closed seconds), and that time
is reported beside it.

The endpoint counts every connection, this command's own included; the report says how many
*other* monitors are attached.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from poolmon.core.errors import ConnectionFailed
from poolmon.core.queries import covered_time_s, window_first_s
from poolmon.core.snapshot import LatencySummary
from poolmon.runtime.client import MonitorClient

STATUS_WINDOW_S = 60
"""The window of `status`'s rates, latency percentiles and error counts."""

HISTORY_TIMEOUT_S = 5.0
"""How long to wait for the pool's history before reporting the window as "no data"."""


def pool_state(path: Path, timeout_s: float = 3.0) -> dict[str, Any]:
    """The pool's WELCOME and `stats` reply over one short read-only connection."""
    with MonitorClient(path, read_only=True, client="poolmon status", timeout_s=timeout_s) as c:
        reply = c.command("stats")
        welcome = c.welcome
    if not reply.ok:
        raise ConnectionFailed(f"{path}: the pool could not report its status: {reply.reason}")
    assert welcome is not None
    stats = dict(reply.result)
    monitors = stats.get("monitors")
    return {
        "name": welcome.pool,
        "pid": welcome.pid,
        "host": welcome.host,
        "socket": str(path),
        "started_at_ns": welcome.started_at_ns,
        "protocol_version": welcome.version,
        "pool": stats.get("pool") or {},
        # the endpoint counted this very connection among its monitors
        "other_monitors": None if monitors is None else max(0, int(monitors) - 1),
    }


def _latency(summary: LatencySummary) -> dict[str, Any]:
    """Latency over the window in nanoseconds (None: no task finished in it)."""
    return {
        "count": summary.count,
        "p50_ns": summary.p50_ns,
        "p90_ns": summary.p90_ns,
        "p99_ns": summary.p99_ns,
        "max_ns": summary.max_ns,
    }


def window_figures(
    path: Path, window_s: int = STATUS_WINDOW_S, timeout_s: float = HISTORY_TIMEOUT_S
) -> dict[str, Any]:
    """Throughput, latency and errors over the last `window_s` seconds, from the history.

    `covered_s` is the time within the window that has data (what the rate divides by);
    `complete` is False when the history did not arrive in time, and every figure is then
    None ("no data"), never 0.
    """
    from poolmon.runtime.monitor import Monitor

    monitor = Monitor(path, read_only=True, client="poolmon status")
    monitor.start()
    try:
        deadline = time.monotonic() + timeout_s
        while not any(monitor.histories.values()) and time.monotonic() < deadline:
            time.sleep(0.01)
        complete = any(monitor.histories.values())

        def read(agg: Any) -> tuple[Any, float]:
            snap = agg.snapshot(window_s)
            first_s = window_first_s(agg.stats.status, snap.taken_at_ns // 1_000_000_000, window_s)
            return snap, covered_time_s(agg, first_s, snap.taken_at_ns)

        snap, covered = monitor.read(read)
    finally:
        monitor.stop()
    if not complete:
        return {"window_s": window_s, "complete": False}
    return {
        "window_s": window_s,
        "complete": True,
        "covered_s": round(covered, 3),
        "tasks_finished": snap.tasks_finished,
        "tasks_failed": snap.tasks_failed,
        "tasks_timed_out": snap.tasks_timed_out,
        "throughput_per_s": snap.throughput_per_s,
        "error_rate": snap.error_rate,
        "latency": _latency(snap.latency),
        "errors_by_type": dict(snap.errors.by_type),
    }


def fetch_status(path: Path, timeout_s: float = 3.0) -> dict[str, Any]:
    """Everything `poolmon status --json` prints (docs/CLI.md, "poolmon status").

    The pool is asked for its `stats` once before the window (so an unreachable pool fails at
    once) and again after it, and the present comes from the second answer: the totals since
    start and the uptime then include everything the window counted (before, a young pool's
    window could count 555 tasks finished against 550 submitted since start).
    """
    pool_state(path, timeout_s)
    window = window_figures(path)
    status = pool_state(path, timeout_s)
    pool = status["pool"]
    workers = pool.get("workers")
    status["uptime_s"] = pool.get("uptime_s")
    rows = [w for w in workers if isinstance(w, dict)] if isinstance(workers, list) else []
    known = bool(rows) and all(isinstance(w.get("restarts"), int) for w in rows)
    # worker processes replaced, by the pool's own count; unknown (None) if it does not say
    status["restarts"] = sum(int(w["restarts"]) for w in rows) if known else None
    status["totals"] = pool.get("totals")
    status["window"] = window
    return status
