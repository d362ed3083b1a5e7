"""Builds `PoolStats` from the engine's live state (called under the IO lock)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from poolmon.runtime.pool.config import PoolConfig
from poolmon.runtime.pool.current import current_task
from poolmon.runtime.pool.engine import Engine
from poolmon.runtime.pool.stats import PoolStats, SessionStats, Totals, WorkerStats

if TYPE_CHECKING:
    from poolmon.runtime.pool.pool import Pool


def build_stats(pool: Pool, eng: Engine, cfg: PoolConfig) -> PoolStats:
    """Copy everything `PoolStats` documents out of the engine into frozen dataclasses."""
    now = time.monotonic_ns()
    workers = []
    in_flight = 0
    for w in sorted(eng.workers.values(), key=lambda w: (w.slot_index, w.wid)):
        if w.exited:
            continue
        in_flight += len(w.inflight)
        op, task_id, age_ns = current_task(w, eng.op_of, now)
        workers.append(
            WorkerStats(
                worker_id=w.wid,
                slot=w.slot_index,
                pid=w.pid,
                state=w.state,
                state_age_s=(now - w.state_since_ns) / 1e9,
                current_op=op,
                current_task_id=task_id,
                current_task_age_s=None if age_ns is None else age_ns / 1e9,
                in_flight=len(w.inflight),
                tasks_done=w.tasks_done,
                restarts=eng.restarts.get(w.slot_index, 0),
                rss_bytes=w.rss_bytes,
                last_exit=eng.last_exit.get(w.slot_index),
            )
        )
    c = eng.counters
    s = eng.sessions
    return PoolStats(
        name=cfg.name,
        pid=pool.pid,
        start_method=cfg.start_method,
        size=eng.target,
        min_size=cfg.min_size,
        max_size=cfg.max_size,
        uptime_s=(now - eng.started_ns) / 1e9,
        closed=pool.closed,
        queue_depth=len(eng.pending) + sum(len(w.strict_q) for w in eng.workers.values()),
        max_queue=cfg.max_queue,
        in_flight=in_flight,
        task_timeout_s=cfg.task_timeout,
        health_check_interval_s=cfg.health_check_interval,
        workers=tuple(workers),
        sessions=SessionStats(len(s), s.hits, s.misses, s.expired, s.unbound),
        totals=Totals(
            submitted=eng.last_seq + 1,
            succeeded=c.results - c.failed,
            failed=c.failed,
            timed_out=c.timed_out,
            crashed=c.crashed,
            cancelled=c.cancelled,
            retried=c.retried,
            rejected=c.rejected,
        ),
    )
