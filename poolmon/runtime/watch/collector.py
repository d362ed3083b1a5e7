"""The Prometheus collector: `PoolFigures` in, metric families out, at scrape time.

prometheus_client calls `collect()` once per scrape and renders the families in the text
format or OpenMetrics, whichever the scraper asked for (content negotiation is the library's).
The collector only turns figures already aggregated into samples: the cost is per pool,
operation and worker, never per task.

Cardinality is bounded here: at most `max_ops` operations per pool keep their own `op` label
(the first ones seen; later ones are summed into `op="(other)"`, so membership never changes
and the counters stay monotonic) and at most `max_workers` workers per pool keep their own
`worker` label (the lowest ids; the rest are left out). What was folded or left out is the
gauge `poolmon_watch_series_dropped{pool,kind}`. The names follow docs/FLEET.md.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import psutil
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from poolmon.core.op_totals import EXPORT_BOUNDS_S, OTHER_OP, STATUSES, OpTotal
from poolmon.runtime.watch.figures import PoolFigures

LE_LABELS: tuple[str, ...] = (*(repr(b) for b in EXPORT_BOUNDS_S), "+Inf")
"""The `le` label values of the duration histogram."""


@dataclass(frozen=True, slots=True)
class Caps:
    """Label cardinality limits per pool."""

    max_ops: int = 32
    max_workers: int = 128


def cap_ops(ops: Sequence[OpTotal], max_ops: int) -> tuple[list[OpTotal], int]:
    """The first `max_ops` operations, the rest summed into `(other)`; and how many folded."""
    if len(ops) <= max_ops:
        return list(ops), 0
    keep = [o for o in ops[:max_ops] if o.name != OTHER_OP]
    rest = [o for o in ops if o not in keep]
    folded = OpTotal(
        OTHER_OP,
        tuple(sum(col) for col in zip(*(o.by_status for o in rest), strict=True)),
        tuple(sum(col) for col in zip(*(o.buckets for o in rest), strict=True)),
        sum(o.sum_s for o in rest),
    )
    return [*keep, folded], len([o for o in rest if o.name != OTHER_OP])


def heard_now(p: PoolFigures) -> bool:
    """Whether the pool's present state is known: only over a live connection.

    A gauge of what the pool does now (its size, queue, workers' memory, its firing alerts)
    has no sample while the link is down or stale, so Prometheus marks the series stale
    instead of repeating the last value: a pool that died with an alert firing must not keep
    that alert firing in Alertmanager. Counters keep their totals; `poolmon_pool_up` says 0.
    """
    return p.state == "live"


class WatchCollector(Collector):
    """Exports the figures `source()` returns at each scrape (see module doc).

    Args:
        source: Returns every attached pool's current figures.
        caps: Label cardinality limits.
    """

    def __init__(self, source: Callable[[], list[PoolFigures]], caps: Caps | None = None) -> None:
        self.source = source
        self.caps = caps or Caps()
        self.last_scrape_s: float | None = None
        self._proc = psutil.Process(os.getpid())

    def describe(self) -> Iterable[Metric]:
        """Nothing up front: the families depend on which pools are attached."""
        return []

    def collect(self) -> Iterable[Metric]:
        """Every family, built from one look at each pool."""
        started = time.perf_counter()
        pools = self.source()
        yield from self._tasks(pools)
        yield from self._pool_gauges(pools)
        yield from self._workers(pools)
        yield from self._alerts(pools)
        yield from self._watcher(pools)
        self.last_scrape_s = time.perf_counter() - started

    def _tasks(self, pools: list[PoolFigures]) -> Iterable[Metric]:
        tasks = CounterMetricFamily(
            "poolmon_tasks",
            "Tasks that ran, by operation and outcome, since the watcher attached.",
            labels=["pool", "op", "status"],
        )
        duration = HistogramMetricFamily(
            "poolmon_task_duration_seconds",
            "Task run time (start on a worker to outcome), since the watcher attached.",
            labels=["pool", "op"],
            unit="seconds",
        )
        cancelled = CounterMetricFamily(
            "poolmon_tasks_cancelled",
            "Tasks cancelled before they ran, since the watcher attached.",
            labels=["pool"],
        )
        dropped = GaugeMetricFamily(
            "poolmon_watch_series_dropped",
            "Label values left out by the watcher's cardinality caps at this scrape.",
            labels=["pool", "kind"],
        )
        for p in pools:
            ops, folded = cap_ops(p.ops, self.caps.max_ops)
            dropped.add_metric([p.pool, "op"], folded)
            for o in ops:
                for status, n in zip(STATUSES, o.by_status, strict=True):
                    if n or status in ("ok", "error"):
                        tasks.add_metric([p.pool, o.name, status], n)
                cum, buckets = 0, []
                for le, n in zip(LE_LABELS, o.buckets, strict=True):
                    cum += n
                    buckets.append((le, cum))
                duration.add_metric([p.pool, o.name], buckets, o.sum_s)
            if p.heard:
                cancelled.add_metric([p.pool], p.cancelled_total)
            dropped.add_metric([p.pool, "worker"], max(0, len(p.workers) - self.caps.max_workers))
        return [tasks, duration, cancelled, dropped]

    def _pool_gauges(self, pools: list[PoolFigures]) -> Iterable[Metric]:
        def gauge(name: str, doc: str, unit: str = "") -> GaugeMetricFamily:
            return GaugeMetricFamily(name, doc, labels=["pool"], unit=unit)

        size = gauge("poolmon_pool_size", "Worker processes the pool runs now.")
        busy = gauge("poolmon_pool_busy_workers", "Workers running a task now.")
        queue = gauge("poolmon_queue_depth", "Tasks waiting for a worker now.")
        util = gauge("poolmon_utilization_ratio", "Busy share of worker time (0-1).", "ratio")
        up = gauge("poolmon_pool_up", "1 while the watcher has a live connection to the pool.")
        lag = gauge(
            "poolmon_watcher_lag_seconds",
            "Seconds since the last frame from the pool (heartbeats come every second).",
            "seconds",
        )
        exits = CounterMetricFamily(
            "poolmon_worker_restarts",
            "Worker processes that exited since the watcher attached, by reason "
            "(resize and shutdown are not replaced; the others are).",
            labels=["pool", "reason"],
        )
        drops = CounterMetricFamily(
            "poolmon_telemetry_dropped",
            "Telemetry events lost in transport or dropped by the pool, since attach.",
            labels=["pool"],
        )
        for p in pools:
            label = [p.pool]
            up.add_metric(label, 1 if p.state == "live" else 0)
            now = (size, p.size), (busy, p.busy), (queue, p.queue_depth), (util, p.utilization)
            for fam, value in now if heard_now(p) else ():
                if value is not None:
                    fam.add_metric(label, value)
            if p.lag_s is not None:
                lag.add_metric(label, p.lag_s)
            for reason, n in p.worker_exits:
                exits.add_metric([p.pool, reason], n)
            if p.heard:
                drops.add_metric(label, p.telemetry_dropped)
        return [size, busy, queue, util, up, lag, exits, drops]

    def _workers(self, pools: list[PoolFigures]) -> Iterable[Metric]:
        rss = GaugeMetricFamily(
            "poolmon_worker_rss_bytes",
            "Resident memory of one worker process.",
            labels=["pool", "worker"],
            unit="bytes",
        )
        cpu = GaugeMetricFamily(
            "poolmon_worker_cpu_ratio",
            "CPU use of one worker process, in cores (1.0 = one core busy).",
            labels=["pool", "worker"],
            unit="ratio",
        )
        for p in pools:
            for w in p.workers[: self.caps.max_workers] if heard_now(p) else ():
                label = [p.pool, str(w.worker_id)]
                if w.rss_bytes is not None:
                    rss.add_metric(label, w.rss_bytes)
                if w.cpu_ratio is not None:
                    cpu.add_metric(label, w.cpu_ratio)
        return [rss, cpu]

    def _alerts(self, pools: list[PoolFigures]) -> Iterable[Metric]:
        alerts = GaugeMetricFamily(
            "poolmon_alerts",
            "Active alert instances in the pool, by rule, severity and state (pending, "
            "firing), like Prometheus' ALERTS; pools that sent no alert state have none.",
            labels=["pool", "alertname", "severity", "alertstate"],
        )
        for p in pools:
            if p.alerts is None or not heard_now(p):
                continue
            counts: dict[tuple[str, str, str], int] = {}
            for a in p.alerts.alerts:
                if a.state in ("pending", "firing"):
                    key = (a.rule, a.severity, a.state)
                    counts[key] = counts.get(key, 0) + 1
            for (rule, severity, state), n in sorted(counts.items()):
                alerts.add_metric([p.pool, rule, severity, state], n)
        return [alerts]

    def _watcher(self, pools: list[PoolFigures]) -> Iterable[Metric]:
        with self._proc.oneshot():
            rss = self._proc.memory_info().rss
            cpu = self._proc.cpu_times()
        attached = GaugeMetricFamily(
            "poolmon_watcher_pools", "Pools the watcher is attached to, by state.", labels=["state"]
        )
        by_state: dict[str, int] = {}
        for p in pools:
            by_state[p.state] = by_state.get(p.state, 0) + 1
        for state in ("connecting", "live", "stale", "disconnected"):
            attached.add_metric([state], by_state.get(state, 0))
        mem = GaugeMetricFamily(
            "poolmon_watcher_resident_memory_bytes",
            "Resident memory of the watcher process.",
            value=rss,
            unit="bytes",
        )
        cpu_s = CounterMetricFamily(
            "poolmon_watcher_cpu_seconds",
            "CPU time (user + system) the watcher process used.",
            value=cpu.user + cpu.system,
            unit="seconds",
        )
        out: list[Metric] = [attached, mem, cpu_s]
        if self.last_scrape_s is not None:
            out.append(
                GaugeMetricFamily(
                    "poolmon_watcher_scrape_duration_seconds",
                    "How long the previous /metrics scrape took to build.",
                    value=self.last_scrape_s,
                    unit="seconds",
                )
            )
        return out
