"""What each worker, error and resource event means for the aggregator's state.

One function per catalog event, `fn(agg, event)`, registered in `HANDLERS`; the aggregator
dispatches by name. Pool lifecycle events (init, status, terminate) stay in the aggregator
because they drive restart detection.

* `worker.spawn/ready/state/exit`: the worker's row, state history (bounded, busy/ready churn
  collapsed), exits (bounded), and its pool slot (spawn, exit, or `pool.status` rows);
  a spawn for a known id is a restart of that row; `state` metadata `op` names the current
  operation while busy.
* `task.exception` (1 each) and `poolmon.error` (its `count`) count errors by `category`;
  a `task.exception` is also kept, with its message and traceback, in `agg.failures`.
* `resource.process`: worker_id -1 is the pool process (pool gauges), others update the
  worker's row and the summed workers' RSS gauge; `resource.machine`: machine gauges;
  `resource.internals`: the pool's own count of dropped events (increases also per slot).
* `session.affinity` (hits, misses) and `task.timeout` (per operation, and its limit) are
  counted per slot in `agg.signals`, for the advisor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final

import numpy as np

from poolmon.core import catalog as C
from poolmon.core.batchview import NS_PER_S
from poolmon.core.events import Event
from poolmon.core.snapshot import WorkerExit
from poolmon.core.workers import WorkerRecord

if TYPE_CHECKING:
    from poolmon.core.aggregator import Aggregator


def _worker_event(agg: Aggregator, e: Event) -> WorkerRecord | None:
    wid = e.metadata.get("worker_id")
    if wid is None:
        return None
    rec = agg.workers.get(int(wid), e.ts_ns)
    pid = e.metadata.get("pid")
    if pid:
        rec.pid = int(pid)
    return rec


def _set_state(rec: WorkerRecord, e: Event, to: str, reason: str = "") -> None:
    rec.record_state(e.ts_ns, to, reason)


def _note_slot(rec: WorkerRecord, md: Mapping[str, object]) -> None:
    """Remember the worker's slot when `md` (an event's metadata, a status row) names it."""
    slot = md.get("slot")
    if isinstance(slot, int) and not isinstance(slot, bool):
        rec.slot = slot


def on_worker_spawn(agg: Aggregator, e: Event) -> None:
    """A (re)started worker: count the spawn, mark it alive and starting."""
    rec = _worker_event(agg, e)
    if rec is not None:
        rec.spawns += 1
        rec.alive = True
        rec.exited_at_ns = None
        restarts = e.metadata.get("restarts")
        if isinstance(restarts, int):
            rec.pool_restarts = restarts
        _note_slot(rec, e.metadata)
        _set_state(rec, e, "starting", str(e.metadata.get("reason", "")))


def on_worker_ready(agg: Aggregator, e: Event) -> None:
    """The worker can take work."""
    rec = _worker_event(agg, e)
    if rec is not None:
        rec.alive = True
        _set_state(rec, e, "ready")


def on_worker_state(agg: Aggregator, e: Event) -> None:
    """A state transition, kept in the bounded history; `op` while busy.

    An event may stand for several busy/ready flips (measurement `flips`, catalog): all of
    them count in the worker's collapsed churn entry.
    """
    rec = _worker_event(agg, e)
    if rec is not None:
        to = str(e.metadata.get("to", rec.state))
        flips = e.measurements.get("flips", 1)
        flips = int(flips) if isinstance(flips, int | float) and flips >= 1 else 1
        rec.record_state(e.ts_ns, to, str(e.metadata.get("reason", "")), flips)
        op = e.metadata.get("op")
        rec.current_op = str(op) if to == "busy" and op else None
        rec.task_started_ns = e.ts_ns if rec.current_op else None


def on_pool_status_workers(agg: Aggregator, e: Event) -> None:
    """Each live worker's state and current task, from the periodic `poolmon.pool.status`.

    The pool reports what every worker is running once a second instead of an event per task;
    this is also how a monitor that attached late learns about workers it never saw spawn.
    """
    rows = e.metadata.get("workers")
    if not isinstance(rows, list | tuple):
        return
    for row in rows:
        if not isinstance(row, dict) or row.get("worker_id") is None:
            continue
        rec = agg.workers.get(int(row["worker_id"]), e.ts_ns)
        if row.get("pid"):
            rec.pid = int(row["pid"])
        if isinstance(row.get("restarts"), int):
            rec.pool_restarts = int(row["restarts"])
        _note_slot(rec, row)
        state = row.get("state")
        if isinstance(state, str) and state != rec.state:
            rec.record_state(e.ts_ns, state, "status")
        op, age = row.get("op"), row.get("task_age_ns")
        if op and isinstance(age, int):
            rec.current_op = str(op)
            rec.task_started_ns = e.ts_ns - age
        else:
            rec.current_op = None
            rec.task_started_ns = None


EXIT_STATES: Final[Mapping[str, str]] = {
    "crash": "crashed",
    "timeout": "killed",
    "health": "killed",
    "killed": "killed",
    "recycle": "recycled",
    "recycle_tasks": "recycled",
    "recycle_memory": "recycled",
    "resize": "retired",
    "shutdown": "stopped",
    "start_failed": "failed",
    "initializer": "failed",
}
"""Exit reason -> the state a dead worker shows: a crash must not read like a shrink."""


def exit_state(reason: str) -> str:
    """The state of a worker that exited for `reason` (`stopped` for an unknown reason)."""
    return EXIT_STATES.get(reason, "stopped")


def on_worker_exit(agg: Aggregator, e: Event) -> None:
    """The worker exited: record why, mark it gone (forgotten later)."""
    rec = _worker_event(agg, e)
    if rec is None:
        return
    md, m = e.metadata, e.measurements
    code, sig = md.get("exit_code"), md.get("signal")
    _note_slot(rec, md)  # older pools' exits do not say: the slot from the spawn stands
    rec.exits.append(
        WorkerExit(
            worker_id=rec.worker_id,
            pid=rec.pid,
            at_ns=e.ts_ns,
            reason=str(md.get("reason", "")),
            exit_code=None if code is None else int(code),
            signal=None if sig is None else int(sig),
            lifetime_ns=int(m.get("lifetime_ns", 0)),
            tasks_done=int(m.get("tasks_done", 0)),
            slot=rec.slot,
        )
    )
    _set_state(rec, e, exit_state(str(md.get("reason", ""))), str(md.get("reason", "")))
    rec.alive = False
    rec.current_op = None
    rec.exited_at_ns = e.ts_ns


def on_task_exception(agg: Aggregator, e: Event) -> None:
    """One failed task: counted under its error category; its message and traceback kept."""
    category = str(e.metadata.get("category") or "task")
    agg.categories.inc(e.ts_ns // NS_PER_S, category)
    agg.failures.add(e)


def on_error(agg: Aggregator, e: Event) -> None:
    """An operator-visible error: `count` occurrences under its category."""
    category = str(e.metadata.get("category") or "unknown")
    agg.categories.inc(e.ts_ns // NS_PER_S, category, int(e.measurements.get("count", 1)))


def on_resource_process(agg: Aggregator, e: Event) -> None:
    """A process sample: the pool process's gauges, or one worker's row."""
    m, second = e.measurements, e.ts_ns // NS_PER_S
    wid = int(e.metadata.get("worker_id", -1))
    if wid == -1:
        _set_gauges(agg, e, _POOL_PROCESS_GAUGES)
        return
    rec = _worker_event(agg, e)
    if rec is None:
        return
    if "cpu_percent" in m:
        rec.cpu_percent = float(m["cpu_percent"])
        cpu = sum(r.cpu_percent or 0.0 for r in agg.workers.rows.values() if r.alive)
        agg.gauges.set(second, e.ts_ns, {"workers_cpu_percent": cpu})
    status = e.metadata.get("status")
    if isinstance(status, str):  # runnable (R) vs sleeping: starved CPU work vs waiting
        flags, rows = agg.workers_running, agg.workers.rows
        flags[rec.worker_id] = status == "running"
        for gone in [w for w in flags if w not in rows or not rows[w].alive]:
            del flags[gone]  # bounded by the live workers
        agg.gauges.set(second, e.ts_ns, {"workers_running": float(sum(flags.values()))})
    for name in ("rss_bytes", "fds", "threads"):
        if name in m:
            setattr(rec, name, int(m[name]))
    if "rss_bytes" in m:
        rec.rss.add(second, np.array([float(m["rss_bytes"]), 1.0]))
        total = sum(r.rss_bytes or 0 for r in agg.workers.rows.values() if r.alive)
        agg.gauges.set(second, e.ts_ns, {"workers_rss_bytes": float(total)})


def on_resource_machine(agg: Aggregator, e: Event) -> None:
    """A machine sample: the machine gauges."""
    _set_gauges(agg, e, _MACHINE_GAUGES)


_POOL_PROCESS_GAUGES: Final[Mapping[str, str]] = {
    "cpu_percent": "pool_cpu_percent",
    "rss_bytes": "pool_rss_bytes",
    "fds": "fds",
    "threads": "threads",
}
"""Measurement of the pool process's own sample -> the gauge it sets."""

_MACHINE_GAUGES: Final[Mapping[str, str]] = {
    "cpu_percent": "machine_cpu_percent",
    "load1": "load1",
    "memory_percent": "memory_percent",
    "swap_percent": "swap_percent",
}
"""Measurement of a machine sample -> the gauge it sets."""


def _set_gauges(agg: Aggregator, e: Event, gauges: Mapping[str, str]) -> None:
    """Set the gauges `e` measured, in its second; a measurement it lacks leaves its gauge be."""
    m = e.measurements
    values = {g: float(m[k]) for k, g in gauges.items() if k in m}
    agg.gauges.set(e.ts_ns // NS_PER_S, e.ts_ns, values)


def on_resource_internals(agg: Aggregator, e: Event) -> None:
    """The pool's own monitoring counters: events it dropped."""
    dropped = e.measurements.get("events_dropped")
    if dropped is not None:
        # the first report is a baseline: drops before the monitor looked are not "recent"
        if agg.pool_dropped_seen and int(dropped) > agg.pool_dropped:
            agg.signals.inc(e.ts_ns // NS_PER_S, "dropped", int(dropped) - agg.pool_dropped)
        agg.pool_dropped = int(dropped)
        agg.pool_dropped_seen = True


def on_session_affinity(agg: Aggregator, e: Event) -> None:
    """Session routing outcomes: hits and misses per slot (the advisor's affinity hit rate)."""
    second, m = e.ts_ns // NS_PER_S, e.measurements
    for name in ("hits", "misses"):
        if m.get(name):
            agg.signals.inc(second, f"affinity_{name}", int(m[name]))


def on_task_timeout(agg: Aggregator, e: Event) -> None:
    """A task hit its timeout: counted per operation, and the limit it hit remembered."""
    op = str(e.metadata.get("op") or "(unnamed)")
    agg.signals.inc(e.ts_ns // NS_PER_S, f"timeout:{op}")
    limit = e.measurements.get("timeout_ns")
    if limit and (
        op in agg.op_timeout_ns or len(agg.op_timeout_ns) < agg.stats.ops.keys.max_labels
    ):
        agg.op_timeout_ns[op] = float(limit)


def on_autotune_decision(agg: Aggregator, e: Event) -> None:
    """An auto-tuning decision: the on/off state, the pause, the change log (deduplicated)."""
    agg.autotune_enabled = bool(e.measurements.get("enabled"))
    agg.autotune_paused_until_ns = int(e.metadata.get("paused_until_ns") or 0)
    decision = e.metadata.get("decision")
    if isinstance(decision, dict) and decision not in agg.autotune_decisions:
        agg.autotune_decisions.append(decision)


HANDLERS: dict[str, Callable[[Aggregator, Event], None]] = {
    C.WORKER_SPAWN: on_worker_spawn,
    C.WORKER_READY: on_worker_ready,
    C.WORKER_STATE: on_worker_state,
    C.WORKER_EXIT: on_worker_exit,
    C.TASK_EXCEPTION: on_task_exception,
    C.ERROR: on_error,
    C.RESOURCE_PROCESS: on_resource_process,
    C.RESOURCE_MACHINE: on_resource_machine,
    C.RESOURCE_INTERNALS: on_resource_internals,
    C.SESSION_AFFINITY: on_session_affinity,
    C.TASK_TIMEOUT: on_task_timeout,
    C.AUTOTUNE_DECISION: on_autotune_decision,
}
"""Event name -> handler."""
