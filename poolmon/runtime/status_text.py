"""The words of `poolmon status`: labelled lines, integer counts, units on every duration.

Reads only the plain dict `status_report.fetch_status` returns, so the text and `--json` can
never disagree. A figure that is not known prints as "—" (no data), never as 0; a rate always
says the time it was computed over.
"""

from __future__ import annotations

from typing import Any

NO_DATA = "—"
"""What a missing figure prints as."""

_UNITS = ((1e9, "s"), (1e6, "ms"), (1e3, "µs"), (1.0, "ns"))


def span(ns: float | None) -> str:
    """A latency with its unit and three significant digits: `1.11 ms`, `120 ms`, `2.05 s`."""
    if ns is None:
        return NO_DATA
    for scale, unit in _UNITS:
        if ns >= scale or unit == "ns":
            value = ns / scale
            digits = 0 if value >= 100 else 1 if value >= 10 else 2
            return f"{value:.{digits}f} {unit}"
    return NO_DATA  # pragma: no cover - the loop always returns


def uptime(seconds: float | None) -> str:
    """`6.8 s` under a minute, then as the alert verbs write spans: `3m07s`, `2h05m`, `3d04h`."""
    if seconds is None:
        return NO_DATA
    if seconds < 60:
        return f"{seconds:.1f} s"
    from poolmon.runtime.alerting.cli import human_duration

    return human_duration(int(seconds * 1e9))


def per_second(rate: float | None) -> str:
    """`177 tasks/s`, `12.5 tasks/s`, `0.25 tasks/s`."""
    if rate is None:
        return NO_DATA
    if rate >= 100:
        return f"{rate:,.0f} tasks/s"
    return f"{rate:.1f} tasks/s" if rate >= 1 else f"{rate:.2f} tasks/s"


def _n(value: Any) -> str:
    """An integer count with thousands separators, or "—"."""
    return NO_DATA if value is None else f"{int(value):,}"


def _id(value: Any) -> str:
    """A worker id or pid, as it is (no separators), or "—"."""
    return NO_DATA if value is None else str(value)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def window_lines(window: dict[str, Any]) -> list[str]:
    """Throughput, latency and errors over the window, each saying which window."""
    w = int(window["window_s"])
    if not window.get("complete"):
        return [f"throughput  {NO_DATA} (no data: the pool's history did not arrive in time)"]
    covered = float(window["covered_s"])
    if window["throughput_per_s"] is None or covered <= 0:
        return [
            f"throughput  {NO_DATA} tasks/s (no task data in the last {w} s)",
            f"latency     {NO_DATA} (no task finished in the last {w} s)",
        ]
    if covered >= w - 1:
        over = f"over the last {w} s"
    else:  # the rate is divided by the time with data, and says so
        over = f"over the last {covered:.1f} s (all the data there is; window {w} s)"
    finished, failed = int(window["tasks_finished"]), int(window["tasks_failed"])
    rate = window["error_rate"]
    errors = f"{_n(failed)} failed" + (f" ({100 * rate:.1f} %)" if rate is not None else "")
    lines = [
        f"throughput  {per_second(window['throughput_per_s'])} {over} · "
        f"{_plural(finished, 'task')} finished, {errors}"
    ]
    lat = window["latency"]
    if lat["count"]:
        lines.append(
            f"latency     p50 {span(lat['p50_ns'])} · p90 {span(lat['p90_ns'])} · "
            f"p99 {span(lat['p99_ns'])} · max {span(lat['max_ns'])} "
            f"({_plural(int(lat['count']), 'task')}, last {w} s)"
        )
    else:
        lines.append(f"latency     {NO_DATA} (no task finished in the last {w} s)")
    by_type = window["errors_by_type"]
    if by_type:
        kinds = " · ".join(f"{name} {_n(count)}" for name, count in by_type.items())
        lines.append(f"errors      {kinds} (last {w} s)")
    return lines


def worker_lines(workers: list[Any]) -> list[str]:
    """One row per worker: id, pid, state, tasks done, restarts, what it runs."""
    rows = [w for w in workers if isinstance(w, dict)]
    if not rows:
        return []
    out = [f"  {'id':>3}  {'pid':>7}  {'state':<9} {'tasks':>9}  {'restarts':>8}  running"]
    for w in rows:
        running = w.get("current_op") or ""
        age = w.get("current_task_age_s")
        if running and age is not None:
            running += f" for {span(float(age) * 1e9)}"
        out.append(
            f"  {_id(w.get('worker_id')):>3}  {_id(w.get('pid')):>7}  "
            f"{w.get('state') or NO_DATA!s:<9} {_n(w.get('tasks_done')):>9}  "
            f"{_n(w.get('restarts')):>8}  {running}".rstrip()
        )
    return out


def format_status(status: dict[str, Any]) -> str:
    """The human-readable form of `status_report.fetch_status`'s result."""
    pool = status.get("pool") or {}
    lines = [
        f"pool        {status['name']} · pid {status['pid']} on {status['host']} · "
        f"up {uptime(status.get('uptime_s'))} · {status['socket']}"
    ]
    size = pool.get("size")
    bounds = ""
    if pool.get("min_size") is not None and pool.get("max_size") is not None:
        bounds = f" (min {pool['min_size']}, max {pool['max_size']})"
    lines.append(
        f"workers     {_n(size)}{bounds}: {_n(pool.get('busy'))} busy, {_n(pool.get('idle'))} "
        f"idle · {_n(status.get('restarts'))} restarts since start"
    )
    if "queue_depth" in pool:
        bound = pool.get("max_queue")
        limit = f" (bound {_n(bound)})" if bound is not None else " (unbounded)"
        limit = limit if "max_queue" in pool else ""  # the pool did not say
        lines.append(f"queue       {_n(pool['queue_depth'])} waiting{limit}")
    lines += window_lines(status["window"])
    totals = status.get("totals")
    if isinstance(totals, dict) and totals:
        keys = ("submitted", "succeeded", "failed", "timed_out", "crashed", "cancelled")
        parts = [f"{_n(totals[k])} {k.replace('_', ' ')}" for k in keys if k in totals]
        lines.append("since start " + " · ".join(parts))
    workers = pool.get("workers")
    lines += worker_lines(workers if isinstance(workers, list) else [])
    others = status.get("other_monitors")
    lines.append(
        f"monitors    {_n(others)} other{'' if others == 1 else 's'} attached "
        "(not counting this status call)"
    )
    return "\n".join(lines)
