"""The aggregator's read side: build the immutable views the app and watchers render.

Every function takes the aggregator, reads "now" from its clock once, and returns frozen
dataclasses from `poolmon.core.snapshot`; nothing returned shares memory with the engine.
Windows are 1..3600 s and are read from the finest tier that spans them (1 s slots for a
minute, 10 s for 5 and 15 minutes, 1 min for an hour; per-worker and per-operation: 10 s,
1 min, 5 min), ending with the slot that contains "now".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from poolmon.core import series as S
from poolmon.core.batchview import NS_PER_S
from poolmon.core.distring import summarize
from poolmon.core.errors import ConfigError
from poolmon.core.events import TASK_CANCELLED, TASK_CRASHED, TASK_ERROR, TASK_OK, TASK_TIMEOUT
from poolmon.core.health import HealthInputs, health_breakdown
from poolmon.core.metric_series import complete_slots
from poolmon.core.ring import Tiers
from poolmon.core.sketch import bucket_edges, quantiles_from_counts
from poolmon.core.snapshot import (
    AutotuneView,
    ErrorView,
    Histogram,
    LoadSignals,
    OperationView,
    PerformanceSummary,
    PoolSnapshot,
    ResourceView,
    Series,
    TaskRecord,
    WindowSummary,
    WorkerView,
)
from poolmon.core.workers import WorkerRecord

if TYPE_CHECKING:
    from poolmon.core.aggregator import Aggregator

MAX_WINDOW_S = 3600
"""Longest window kept."""
SUMMARY_WINDOWS = (60, 300, 900)
"""The windows of `summary()`."""
MAX_TYPE_SERIES = 8
"""Error types that get their own series in an ErrorView (the most frequent)."""
_EDGES = bucket_edges()


def _check_window(window_s: int) -> None:
    if not 1 <= window_s <= MAX_WINDOW_S:
        raise ConfigError(f"window_s must be within 1..{MAX_WINDOW_S}, got {window_s}")


def window_first_s(tiers: Tiers, now_s: int, window_s: int) -> int:
    """First second of the window as the tier chosen for it sees it."""
    ring = tiers.for_window(window_s)
    k = -(-window_s // ring.slot_s)
    return (now_s // ring.slot_s - k + 1) * ring.slot_s


def covered_time_s(agg: Aggregator, first_s: int, now_ns: int) -> float:
    """Seconds of data in `[first_s, now]`: covered whole seconds plus the elapsed part of now's.

    Rates divide by this, so a window that started being watched 10 s ago, or a partial
    current second, does not dilute the rate.
    The pool's first second counts from its start, not from the second's beginning: a pool
    5.9 s old has 5.9 s of data, where whole seconds made it 6.4 (more than its uptime).
    """
    now_s = now_ns // NS_PER_S
    covered = float(agg.coverage.covered_count(first_s, now_s - 1))
    if agg.coverage.is_covered(now_s):
        covered += (now_ns - now_s * NS_PER_S) / NS_PER_S
    started_ns = agg.pool.started_at_ns
    start_s = started_ns // NS_PER_S
    if (
        started_ns
        and first_s <= start_s <= now_s
        and agg.coverage.is_covered(start_s)
        and not agg.coverage.is_covered(start_s - 1)  # else an earlier instance ran then
    ):
        covered -= min(started_ns, now_ns) / NS_PER_S - start_s
    return max(covered, 0.0)


def _status_counts(agg: Aggregator, now_s: int, window_s: int) -> tuple[int, int, int, int]:
    s = agg.stats.status.window_sum(now_s, window_s).tolist()
    finished = s[TASK_OK] + s[TASK_ERROR] + s[TASK_TIMEOUT] + s[TASK_CRASHED]
    failed = s[TASK_ERROR] + s[TASK_TIMEOUT] + s[TASK_CRASHED]
    return finished, failed, s[TASK_TIMEOUT], s[TASK_CANCELLED]


def _histogram(counts: npt.NDArray[np.int64]) -> Histogram:
    nz = np.flatnonzero(counts)
    if len(nz) == 0:
        return Histogram()
    lo, hi = int(nz[0]), int(nz[-1]) + 1
    return Histogram(tuple(_EDGES[lo : hi + 1].tolist()), tuple(int(c) for c in counts[lo:hi]))


def snapshot(agg: Aggregator, window_s: int) -> PoolSnapshot:
    """Everything the overview shows over the window (see `PoolSnapshot`)."""
    _check_window(window_s)
    now = agg.now_ns()
    now_s = now // NS_PER_S
    st = agg.stats
    finished, failed, timed_out, cancelled = _status_counts(agg, now_s, window_s)
    first_s = window_first_s(st.status, now_s, window_s)
    cov = covered_time_s(agg, first_s, now)
    counts, total, lo, hi = st.latency.window_counts(now_s, window_s)
    latency = summarize(counts, total, lo, hi)
    g = agg.gauges.latest
    size, busy = g.get("size"), g.get("busy")
    queue = g.get("queue_depth")
    error_rate = failed / finished if finished else None
    health, score = health_breakdown(
        HealthInputs(
            size=None if size is None else int(size),
            busy=None if busy is None else int(busy),
            queue_depth=None if queue is None else int(queue),
            error_rate=error_rate,
            p99_ns=latency.p99_ns,
            latency_target_ns=agg.latency_target_ns,
        )
    )
    ring = st.status.for_window(window_s)
    totals = agg.totals()
    seen_status = bool(agg._totals_last) or agg.pool_restarts > 0
    done_total = int(st.status_totals[:TASK_CANCELLED].sum())
    failed_total = int(st.status_totals[TASK_ERROR : TASK_CRASHED + 1].sum())
    return PoolSnapshot(
        taken_at_ns=now,
        window_s=window_s,
        pool=agg.pool,
        size=_int_or_none(size),
        busy=_int_or_none(busy),
        idle=_int_or_none(g.get("idle")),
        queue_depth=_int_or_none(queue),
        utilization=g.get("utilization"),
        tasks_finished=finished,
        tasks_failed=failed,
        tasks_timed_out=timed_out,
        throughput_per_s=finished / cov if cov else None,
        throughput=complete_slots(agg, "throughput", first_s, now_s, ring.slot_s),
        latency=latency,
        latency_histogram=_histogram(counts),
        queue_wait=st.wait.summary(now_s, window_s),
        errors=error_rates(agg, window_s),
        workers=tuple(
            _worker_view(agg, r, now, window_s) for _, r in sorted(agg.workers.rows.items())
        ),
        operations=operations(agg, window_s),
        resources=_resources(agg),
        health_score=score,
        events_dropped=agg.transport_dropped + agg.pool_dropped,
        gaps=tuple(agg.coverage.gaps),
        tasks_cancelled=cancelled,
        error_rate=error_rate,
        covered_s=agg.coverage.covered_count(first_s, now_s),
        tasks_finished_total=done_total,
        tasks_failed_total=failed_total,
        pool_tasks_submitted_total=totals["tasks_submitted"] if seen_status else None,
        pool_tasks_done_total=totals["tasks_done"] if seen_status else None,
        pool_tasks_failed_total=totals["tasks_failed"] if seen_status else None,
        pool_restarts=agg.pool_restarts,
        pool_state=agg.pool_state,
        data_until_ns=agg.data_until_ns,
        duplicates_ignored=agg.duplicates_ignored,
        health=health,
        load=_load(agg, now_s, window_s, first_s, ring.slot_s),
        autotune=AutotuneView(
            agg.autotune_enabled, agg.autotune_paused_until_ns, tuple(agg.autotune_decisions)
        ),
        alerts=agg.alert_state.view,
        alert_views_malformed=agg.alert_state.malformed,
        control_log=tuple(agg.control_log),
        failures=agg.failures.recent(),
    )


def _load(agg: Aggregator, now_s: int, window_s: int, first_s: int, step: int) -> LoadSignals:
    """The window means and signal counts of `LoadSignals` (the advisor's inputs)."""
    g = agg.gauges
    sig = agg.signals.window(now_s, window_s)
    return LoadSignals(
        utilization_mean=g.window_mean(now_s, window_s, "utilization"),
        busy_mean=g.window_mean(now_s, window_s, "busy"),
        size_mean=g.window_mean(now_s, window_s, "size"),
        queue_depth_mean=g.window_mean(now_s, window_s, "queue_depth"),
        queue_depth=complete_slots(agg, "queue_depth", first_s, now_s, step),
        workers_cpu_percent_mean=g.window_mean(now_s, window_s, "workers_cpu_percent"),
        workers_running_mean=g.window_mean(now_s, window_s, "workers_running"),
        affinity_hits=sig.get("affinity_hits", 0),
        affinity_misses=sig.get("affinity_misses", 0),
        events_dropped=sig.get("dropped", 0),
    )


def _int_or_none(value: float | None) -> int | None:
    """A gauge as an int, None (no data) staying None: never a made-up 0."""
    return None if value is None else int(value)


def _resources(agg: Aggregator) -> ResourceView:
    g = agg.gauges.latest

    def as_int(name: str) -> int | None:
        v = g.get(name)
        return None if v is None else int(v)

    return ResourceView(
        pool_cpu_percent=g.get("pool_cpu_percent"),
        pool_rss_bytes=as_int("pool_rss_bytes"),
        workers_rss_bytes=as_int("workers_rss_bytes"),
        fds=as_int("fds"),
        threads=as_int("threads"),
        machine_cpu_percent=g.get("machine_cpu_percent"),
        load1=g.get("load1"),
        memory_percent=g.get("memory_percent"),
        swap_percent=g.get("swap_percent"),
    )


def operations(agg: Aggregator, window_s: int) -> tuple[OperationView, ...]:
    """Per-operation counts, rates and latency over the window, busiest first.

    Every figure of a row comes from the same per-operation slots (10 s for a minute, 1 min
    for 5 and 15 minutes, 5 min for an hour), so its latency `count` equals its `count`.
    """
    _check_window(window_s)
    now = agg.now_ns()
    now_s = now // NS_PER_S
    ops = agg.stats.op_counts  # the slots of the per-operation latency: one window a row
    block = ops.window_block(now_s, window_s)
    # whole slots start at the first boundary inside the window (50-60 s of a minute); each
    # row says how long that is (`covered_s`), as its rate divides by it
    cov = covered_time_s(agg, window_first_s(ops.ring, now_s, window_s), now)
    timeouts = agg.signals.window(now_s, window_s)
    views = []
    for col in np.flatnonzero(block[:, 0]).tolist():
        ring = agg.stats.op_latency.get(col)
        name = ops.keys.name(col)
        timed_out = timeouts.get(f"timeout:{name}", 0)
        if ring is not None:
            counts, total, lo, hi = ring.window_counts(now_s, window_s)
            latency = summarize(counts, total, lo, hi)
            p99_ok = _p99_without_top(counts, timed_out, lo, hi)
        else:
            counts = np.zeros(1, dtype=np.int64)
            latency, p99_ok = summarize(counts, 0.0, 0.0, 0.0), None
        views.append(
            OperationView(
                name=name,
                count=int(block[col, 0]),
                errors=int(block[col, 1]),
                rate_per_s=float(block[col, 0]) / cov if cov else None,
                latency=latency,
                timeouts=timed_out,
                timeout_ns=agg.op_timeout_ns.get(name),
                p99_ok_ns=p99_ok,
                histogram=_histogram(counts),
                covered_s=cov,
            )
        )
    views.sort(key=lambda v: (-v.count, v.name))
    return tuple(views)


def _p99_without_top(
    counts: npt.NDArray[np.int64], drop: int, lo: float, hi: float
) -> float | None:
    """p99 of a sketch after removing its `drop` largest values (the timed-out tasks)."""
    if drop <= 0:
        return quantiles_from_counts(counts, (0.99,), lo, hi)[0]
    kept = counts.copy()
    for b in np.flatnonzero(kept)[::-1].tolist():
        take = min(int(kept[b]), drop)
        kept[b] -= take
        drop -= take
        if drop == 0:
            break
    return quantiles_from_counts(kept, (0.99,), lo, hi)[0]


def error_rates(agg: Aggregator, window_s: int) -> ErrorView:
    """Failed / finished over the window, by type and category, with per-type series."""
    _check_window(window_s)
    now_s = agg.now_ns() // NS_PER_S
    finished, failed, _, _ = _status_counts(agg, now_s, window_s)
    by_type = agg.stats.errors.window(now_s, window_s)
    first_s = window_first_s(agg.stats.status, now_s, window_s)
    step = agg.stats.status.for_window(window_s).slot_s
    per_type = tuple(
        (name, complete_slots(agg, f"errors:{name}", first_s, now_s, step))
        for name in list(by_type)[:MAX_TYPE_SERIES]
    )
    return ErrorView(
        total=failed,
        rate=failed / finished if finished else None,
        by_type=tuple(by_type.items()),
        by_category=tuple(agg.categories.window(now_s, window_s).items()),
        series_by_type=per_type,
    )


def worker(agg: Aggregator, worker_id: int, window_s: int) -> WorkerView | None:
    """One worker's view, or None when unknown or forgotten."""
    _check_window(window_s)
    now = agg.now_ns()
    rec = agg.workers.rows.get(worker_id)
    return None if rec is None else _worker_view(agg, rec, now, window_s)


def _worker_view(agg: Aggregator, rec: WorkerRecord, now: int, window_s: int) -> WorkerView:
    now_s = now // NS_PER_S
    first_s = window_first_s(rec.counts, now_s, window_s)
    step = rec.counts.for_window(window_s).slot_s
    end_s = max(now_s - now_s % step, first_s + step)  # up to the last complete slot
    grid = S.grid_for(rec.counts, first_s * NS_PER_S, end_s * NS_PER_S, step, now_s)
    cov = S.covered(agg.coverage, grid)
    done = S.point_rows(rec.counts, grid)[:, 0]
    rss = S.point_rows(rec.rss, grid)
    busy = rec.state == "busy"
    if agg.data_until_ns is not None:  # connection down: what it does now is unknown
        now = min(now, agg.data_until_ns)
    started = rec.task_started_ns if rec.current_op else None
    started = started if started is not None else (rec.state_since_ns if busy else None)
    return WorkerView(
        worker_id=rec.worker_id,
        pid=rec.pid,
        # an exit already seen stays a fact; a live worker's state is unknown without a link
        state=rec.state if agg.data_until_ns is None or not rec.alive else "unknown",
        current_op=rec.current_op,
        current_task_age_ns=None if started is None else max(0, now - started),
        current_task_age_at_most=started is not None and agg.workers.task_age_at_most(started),
        tasks_done=rec.tasks_done,
        tasks_failed=rec.tasks_failed,
        restarts=rec.restarts,
        latency=rec.latency.summary(now_s, window_s),
        # a dead process uses nothing: its last sample is history (the RSS series keeps it)
        cpu_percent=rec.cpu_percent if rec.alive else None,
        rss_bytes=rec.rss_bytes if rec.alive else None,
        fds=rec.fds if rec.alive else None,
        threads=rec.threads if rec.alive else None,
        throughput=Series(grid.start_ns, grid.step_s * NS_PER_S, tuple(S.rates(done, cov))),
        rss_series=Series(
            grid.start_ns, grid.step_s * NS_PER_S, tuple(S.means(rss[:, 0], rss[:, 1]))
        ),
        recent_tasks=tuple(TaskRecord(*t) for t in rec.recent),
        state_history=tuple(rec.history),
        exits=tuple(rec.exits),
        alive=rec.alive,
    )


def summary(agg: Aggregator) -> PerformanceSummary:
    """1, 5 and 15-minute figures with all percentiles."""
    now = agg.now_ns()
    now_s = now // NS_PER_S
    st = agg.stats
    out = []
    for w in SUMMARY_WINDOWS:
        finished, failed, _, _ = _status_counts(agg, now_s, w)
        first_s = window_first_s(st.status, now_s, w)
        cov = covered_time_s(agg, first_s, now)
        out.append(
            WindowSummary(
                window_s=w,
                tasks_finished=finished,
                tasks_failed=failed,
                throughput_per_s=finished / cov if cov else None,
                error_rate=failed / finished if finished else None,
                latency=st.latency.summary(now_s, w),
                queue_wait=st.wait.summary(now_s, w),
                utilization_mean=agg.gauges.window_mean(now_s, w, "utilization"),
                queue_depth_mean=agg.gauges.window_mean(now_s, w, "queue_depth"),
                covered_s=agg.coverage.covered_count(first_s, now_s),
            )
        )
    return PerformanceSummary(taken_at_ns=now, windows=tuple(out))
