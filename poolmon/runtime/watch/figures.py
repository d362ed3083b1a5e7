"""One pool's exported figures, read from its aggregator in one short look under the lock.

A scrape must cost the same whether the pool ran ten tasks or ten million, so the watcher never
builds a full `PoolSnapshot` (per-worker series, recent tasks, window merges) for Prometheus:
`read_figures` copies only what is exported - the latest pool gauges, the live workers' RSS
and CPU, the since-attach per-operation totals (`poolmon.core.op_totals`), worker exits, drops
and the alert view - into a frozen `PoolFigures`. Nothing is per task; a gauge the pool has not
reported yet is None and is left out of the exposition rather than shown as 0, and so are the
counts of a pool whose history never reached the watcher (`heard`): a stale socket named on
the command line has no tasks_total, not 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from poolmon.core.aggregator import Aggregator
from poolmon.core.alerts.model import AlertsView
from poolmon.core.events import TASK_CANCELLED
from poolmon.core.op_totals import STATUSES, OpTotal


@dataclass(frozen=True, slots=True)
class WorkerFigures:
    """One live worker's resources (None: not sampled yet)."""

    worker_id: int
    rss_bytes: int | None
    cpu_ratio: float | None


@dataclass(frozen=True, slots=True)
class PoolFigures:
    """Everything `/metrics` and `--once --json` say about one pool.

    Attributes:
        pool: The `pool` label: the socket's name (`<name>.sock` -> name), unique in its
            folder and stable across restarts; the full socket path if two folders clash.
        socket: The socket path the watcher attaches to.
        state: Connection state (connecting, live, stale, disconnected).
        heard: The pool's history reached the watcher at least once, so its counts are known;
            until then they are None in JSON and have no sample in /metrics.
        lag_s: Seconds since the last frame from the pool (None before the first).
        pid: The pool process (0 before the handshake).
        size, busy, queue_depth, utilization: Latest pool status (None: not reported yet).
        ops: Per-operation totals since attach, first-seen order.
        cancelled_total: Tasks cancelled before they ran, since attach.
        worker_exits: Worker exits since attach by reason.
        telemetry_dropped: Events lost in transport or dropped by the pool, since attach.
        workers: Live workers, by id.
        alerts: The pool's latest alert view (None: none received).
    """

    pool: str
    socket: str
    state: str
    heard: bool
    lag_s: float | None
    pid: int
    size: int | None
    busy: int | None
    queue_depth: int | None
    utilization: float | None
    ops: tuple[OpTotal, ...]
    cancelled_total: int
    worker_exits: tuple[tuple[str, int], ...]
    telemetry_dropped: int
    workers: tuple[WorkerFigures, ...]
    alerts: AlertsView | None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for `poolmon watch --once --json` (the same figures as /metrics)."""
        counts = {
            "tasks_total": sum(o.count for o in self.ops),
            "tasks_cancelled_total": self.cancelled_total,
            "operations": [
                {
                    "op": o.name,
                    "by_status": dict(zip(STATUSES, o.by_status, strict=True)),
                    "duration_seconds_sum": o.sum_s,
                }
                for o in self.ops
            ],
            "worker_exits_total": dict(self.worker_exits),
            "telemetry_dropped_total": self.telemetry_dropped,
            "workers": [
                {"worker": w.worker_id, "rss_bytes": w.rss_bytes, "cpu_ratio": w.cpu_ratio}
                for w in self.workers
            ],
        }
        return {
            "pool": self.pool,
            "socket": self.socket,
            "state": self.state,
            "lag_s": self.lag_s,
            "pid": self.pid or None,
            "size": self.size,
            "busy_workers": self.busy,
            "queue_depth": self.queue_depth,
            "utilization_ratio": self.utilization,
            **{k: v if self.heard else None for k, v in counts.items()},
            "alerts": None
            if self.alerts is None
            else [
                {"alertname": a.rule, "severity": a.severity, "state": a.state, "id": a.id}
                for a in self.alerts.alerts
            ],
        }


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def read_figures(
    agg: Aggregator, *, pool: str, socket: str, state: str, heard: bool, lag_s: float | None
) -> PoolFigures:
    """Copy the exported figures out of `agg` (call under the monitor's lock)."""
    g = agg.gauges.latest
    workers = tuple(
        WorkerFigures(
            r.worker_id,
            r.rss_bytes,
            None if r.cpu_percent is None else r.cpu_percent / 100.0,
        )
        for r in sorted(agg.workers.rows.values(), key=lambda r: r.worker_id)
        if r.alive
    )
    return PoolFigures(
        pool=pool,
        socket=socket,
        state=state,
        heard=heard,
        lag_s=lag_s,
        pid=agg.pool.pid,
        size=_int(g.get("size")),
        busy=_int(g.get("busy")),
        queue_depth=_int(g.get("queue_depth")),
        utilization=g.get("utilization"),
        ops=agg.stats.op_totals.view(),
        cancelled_total=int(agg.stats.status_totals[TASK_CANCELLED]),
        worker_exits=tuple(sorted(agg.worker_exits.items())),
        telemetry_dropped=agg.transport_dropped + agg.pool_dropped,
        workers=workers,
        alerts=agg.alert_state.view,
    )
