"""The telemetry event catalog's entries: every event poolmon emits, with its fields.

Why apart from catalog.py: the emitters import the names and allowed values from there at
startup; the descriptions below (about 350 lines of text) are read only by the documentation
generator (docs/EVENTS.md), the telemetry span helpers and the catalog's tests.
"""

from __future__ import annotations

from typing import Final

from poolmon.core.catalog import (
    ALERT_ACK,
    ALERT_STATE,
    AUTOTUNE_DECISION,
    CONTROL_COMMAND,
    ERROR,
    ERROR_CATEGORIES,
    POOL_INIT,
    POOL_OPERATION_EXCEPTION,
    POOL_OPERATION_START,
    POOL_OPERATION_STOP,
    POOL_RESIZE,
    POOL_STATUS,
    POOL_TERMINATE,
    QUEUE_ENQUEUED,
    QUEUE_REJECTED,
    RECOVERY,
    RECOVERY_ACTIONS,
    RECOVERY_RESULTS,
    RESOURCE_INTERNALS,
    RESOURCE_MACHINE,
    RESOURCE_PROCESS,
    SESSION_AFFINITY,
    SEVERITIES,
    TASK_EXCEPTION,
    TASK_START,
    TASK_STOP,
    TASK_TIMEOUT,
    WORKER_EXIT,
    WORKER_HEALTH_CHECK,
    WORKER_READY,
    WORKER_SPAWN,
    WORKER_STATE,
    WORKER_STATES,
    EventSpec,
)
from poolmon.core.failures import MESSAGE_CAP, TRACEBACK_CAP, TRACEBACK_HEAD

_POOL = {"pool": "pool name"}
_WORKER = {**_POOL, "worker_id": "worker id (stable across the pool's life)", "pid": "OS pid"}


_WAIT = (
    "queue wait, submit to start, with submits dated by the pool's dispatch rounds: never "
    "longer than the true wait, short by at most the time to the next round (32 submits in a "
    "burst, none into an idle pool, else at most one 20 ms supervisor tick; docs/POOL.md)"
)
"""The `wait_ns` field of task rows (the pool reads no clock per submit: submitstamps.py)."""

_OPERATION = {**_POOL, "operation": "resize | shutdown | recycle_worker | ... (what was timed)"}

CATALOG: Final[tuple[EventSpec, ...]] = (
    EventSpec(
        POOL_INIT,
        "The pool started its workers and is accepting work.",
        measurements={
            "size": "workers at start",
            "min_size": "lower bound",
            "max_size": "upper bound",
            "startup_ns": "time to all workers ready",
        },
        metadata={
            **_POOL,
            "pid": "pool process pid",
            "host": "hostname",
            "start_method": "multiprocessing start method",
            "started_at_ns": "pool start (wall clock, ns): the instance's identity, as in WELCOME",
        },
    ),
    EventSpec(
        POOL_TERMINATE,
        "The pool shut down.",
        measurements={"uptime_ns": "pool lifetime", "tasks_done": "tasks finished in total"},
        metadata={**_POOL, "reason": "shutdown | cancel | parent_exit | collected | initializer"},
    ),
    EventSpec(
        POOL_RESIZE,
        "The pool's target size changed.",
        measurements={"from_size": "size before", "to_size": "size after"},
        metadata={**_POOL, "reason": "user | control | autotune"},
    ),
    EventSpec(
        POOL_OPERATION_START,
        "A control operation on the pool (resize, shutdown, recycle) began; see "
        "`execute_pool_operation`.",
        measurements={
            "system_time_ns": "wall clock at the start",
            "monotonic_ns": "monotonic clock at the start",
        },
        metadata=_OPERATION,
    ),
    EventSpec(
        POOL_OPERATION_STOP,
        "A control operation on the pool finished.",
        measurements={"duration_ns": "how long it took (monotonic)"},
        metadata=_OPERATION,
    ),
    EventSpec(
        POOL_OPERATION_EXCEPTION,
        "A control operation on the pool raised (the exception still propagates).",
        measurements={"duration_ns": "time until it raised (monotonic)"},
        metadata={
            **_OPERATION,
            "kind": "error | exit (BaseException)",
            "error_type": "exception class name",
            "message": "str(exception)",
            "traceback": "formatted traceback",
        },
    ),
    EventSpec(
        POOL_STATUS,
        "A periodic snapshot of the pool's occupancy and totals since start.",
        delivery="periodic",
        measurements={
            "size": "live workers",
            "busy": "workers running a task",
            "idle": "workers ready and waiting",
            "queue_depth": "tasks waiting",
            "utilization": "busy / size (0..1)",
            "sessions": "session bindings held",
            "tasks_submitted": "total submitted",
            "tasks_done": "total finished",
            "tasks_failed": "total failed (error, timeout, crash)",
        },
        metadata={
            **_POOL,
            "workers": "one map per live worker: worker_id, pid, state, op (running operation "
            "or None), task_id, task_age_ns (how long it has run), in_flight, tasks_done, slot "
            "(its position in the pool), restarts (times that slot's worker was replaced)",
        },
    ),
    EventSpec(
        WORKER_SPAWN,
        "A worker process was started.",
        metadata={
            **_WORKER,
            "reason": "initial | replace | resize | recycle",
            "slot": "its position in the pool (a replacement takes the dead worker's slot)",
            "restarts": "times this slot's worker has been replaced, this spawn included",
        },
    ),
    EventSpec(
        WORKER_READY,
        "A worker finished starting and can take work.",
        measurements={"startup_ns": "spawn to ready"},
        metadata=_WORKER,
    ),
    EventSpec(
        WORKER_STATE,
        "A worker moved between states (" + ", ".join(WORKER_STATES) + "). Busy/ready flips "
        "coming faster than one per 20 ms are sent as one event per worker, the latest flip's.",
        measurements={
            "previous_state_ns": "time spent in the previous state",
            "flips": "busy/ready flips this event stands for (1 unless gathered)",
        },
        metadata={
            **_WORKER,
            "from": "previous state",
            "to": "new state",
            "reason": "why",
            "op": "operation a checkout (to busy) starts, else None",
            "ts_ns": "when the change (of a gathered event, its latest flip) happened, wall clock",
        },
    ),
    EventSpec(
        WORKER_EXIT,
        "A worker process exited, for whatever reason.",
        measurements={"lifetime_ns": "spawn to exit", "tasks_done": "tasks it finished"},
        metadata={
            **_WORKER,
            "reason": "crash | timeout | recycle_tasks | recycle_memory | "
            "health | resize | shutdown | killed (kill_worker)",
            "exit_code": "exit status or None",
            "signal": "terminating signal number or None",
            "slot": "its position in the pool, which its replacement takes (as in "
            "`poolmon.worker.spawn`): the built-in WorkerCrashLoop counts exits per slot",
        },
    ),
    EventSpec(
        WORKER_HEALTH_CHECK,
        "A heartbeat round trip to a worker completed or was missed.",
        measurements={"duration_ns": "round trip", "missed": "consecutive misses"},
        metadata={**_WORKER, "result": "ok | late | missed"},
    ),
    EventSpec(
        TASK_START,
        "A task left the queue and started on a worker (the checkout). Delivered inside the "
        "TaskBatch of its stop; per-task handlers get it expanded from the batch.",
        delivery="batch",
        measurements={
            "wait_ns": _WAIT,
            "start_ns": "wall clock when it started",
        },
        metadata={**_POOL, "worker_id": "worker", "task_id": "task", "op": "operation name"},
    ),
    EventSpec(
        TASK_STOP,
        "A task finished on a worker (the checkin), whatever its outcome.",
        delivery="batch",
        measurements={
            "duration_ns": "running time, measured in the worker",
            "wait_ns": _WAIT,
            "start_ns": "wall clock when it started",
        },
        metadata={
            **_POOL,
            "worker_id": "worker",
            "task_id": "task",
            "op": "operation name",
            "status": "ok | error | timeout | crashed | cancelled",
            "error_type": "exception class name, or None",
        },
    ),
    EventSpec(
        TASK_EXCEPTION,
        "A task raised; one event per failure, with the remote traceback.",
        measurements={"duration_ns": "running time until the exception"},
        metadata={
            **_WORKER,
            "task_id": "task",
            "op": "operation name",
            "error_type": "exception class name",
            "message": f"str(exception), at most {MESSAGE_CAP:,} characters (longer: cut, "
            "with a marker)",
            "category": "error category",
            "traceback": f"remote traceback text, at most {TRACEBACK_CAP:,} characters (longer: "
            f"its first {TRACEBACK_HEAD:,} and its last part, around a marker saying how much "
            "was cut)",
        },
    ),
    EventSpec(
        TASK_TIMEOUT,
        "A task ran past its timeout; its worker is killed and replaced.",
        measurements={"duration_ns": "running time when killed", "timeout_ns": "the limit"},
        metadata={**_WORKER, "task_id": "task", "op": "operation name"},
    ),
    EventSpec(
        QUEUE_ENQUEUED,
        "Tasks entered the queue since the last report (counts, not one event per task).",
        delivery="periodic",
        measurements={"count": "tasks enqueued", "depth": "queue depth now"},
        metadata=_POOL,
    ),
    EventSpec(
        QUEUE_REJECTED,
        "A submit was refused because the queue was full.",
        measurements={"depth": "queue depth", "max_queue": "the bound"},
        metadata={**_POOL, "policy": "what the pool did: raise | block timeout"},
    ),
    EventSpec(
        SESSION_AFFINITY,
        "Session routing outcomes since the last report.",
        delivery="periodic",
        measurements={
            "hits": "sent to the bound worker",
            "misses": "sent elsewhere",
            "expired": "bindings dropped after the idle TTL",
            "unbound": "tasks of a new session not bound: the binding table was full",
        },
        metadata=_POOL,
    ),
    EventSpec(
        ERROR,
        "Something went wrong that an operator should see.",
        measurements={"count": "occurrences"},
        metadata={
            **_POOL,
            "category": " | ".join(ERROR_CATEGORIES),
            "severity": " | ".join(SEVERITIES),
            "error_type": "class",
            "message": "what happened",
            "worker_id": "worker, if any",
            "traceback": "formatted traceback, if any",
            "handler_id": "the telemetry handler that failed (category telemetry), if any",
            "event": "the event being handled when it failed, if any",
        },
    ),
    EventSpec(
        RECOVERY,
        "The pool recovered from a failure (worker replaced, task retried).",
        measurements={"duration_ns": "time the recovery took"},
        metadata={
            **_POOL,
            "action": " | ".join(RECOVERY_ACTIONS),
            "result": " | ".join(RECOVERY_RESULTS),
            "worker_id": "worker, if any",
        },
    ),
    EventSpec(
        RESOURCE_PROCESS,
        "One process's resources (the pool process has worker_id -1).",
        delivery="periodic",
        measurements={
            "cpu_percent": "user+system, % of one core",
            "cpu_user_percent": "user",
            "cpu_system_percent": "system",
            "rss_bytes": "resident set",
            "uss_bytes": "unique set (slow cadence)",
            "fds": "open file descriptors",
            "threads": "OS threads",
            "ctx_switches_voluntary": "since start",
            "ctx_switches_involuntary": "since start",
            "io_read_bytes": "since start",
            "io_write_bytes": "since start",
            "uptime_ns": "since the process started",
            "gpu_memory_bytes": "GPU memory used (only with NVML and a GPU)",
            "gpu_percent": "GPU SM utilization (only with NVML and a GPU)",
        },
        metadata={
            **_WORKER,
            "status": "running | sleeping | zombie | ...",
            "exit_code": "a zombie's exit status, as the OS recorded it (zombies only)",
            "signal": "the signal that killed a zombie (zombies only)",
        },
        emitted_by="resources",
    ),
    EventSpec(
        RESOURCE_MACHINE,
        "The machine's resources.",
        delivery="periodic",
        measurements={
            "cpu_percent": "all cores",
            "load1": "1-minute load average",
            "load5": "5-minute",
            "load15": "15-minute",
            "memory_percent": "used",
            "memory_available_bytes": "available",
            "memory_total_bytes": "installed",
            "swap_percent": "used",
        },
        metadata=_POOL,
        emitted_by="resources",
    ),
    EventSpec(
        RESOURCE_INTERNALS,
        "The pool's own monitoring internals.",
        delivery="periodic",
        measurements={
            "monitors": "attached monitors",
            "socket_buffer_bytes": "queued to them",
            "history_events": "events held for backfill",
            "history_bytes": "their size",
            "telemetry_buffer_events": "pending",
            "telemetry_buffer_bytes": "their size",
            "events_dropped": "dropped since start",
            "sessions": "bindings held",
        },
        metadata=_POOL,
        emitted_by="resources",
    ),
    EventSpec(
        CONTROL_COMMAND,
        "A monitor sent a control command; every change is itself an event.",
        metadata={
            **_POOL,
            "command": "resize | set_task_timeout | set_health_interval | "
            "recycle_worker | ack_alert | set | kill_worker",
            "args": "its arguments",
            "result": "ok | refused | error",
            "reason": "why refused",
            "peer_pid": "monitor pid",
            "client": "the client name the monitor gave (poolmon attach, poolmon tune)",
            "changes": "set: {setting: [from, to]} of what changed (empty otherwise)",
        },
        emitted_by="endpoint",
    ),
    EventSpec(
        ALERT_ACK,
        "An alert was acknowledged in one monitor; broadcast to all.",
        metadata={**_POOL, "alert_id": "alert", "by": "who acknowledged"},
        emitted_by="endpoint",
    ),
    EventSpec(
        ALERT_STATE,
        "The pool's whole alert state (poolmon.core.alerts.model.AlertsView), sent when it "
        "changes and every few seconds; a monitor keeps the highest revision it has seen.",
        measurements={
            "firing": "alerts firing (acked, silenced or inhibited ones included)",
            "pending": "alerts pending",
            "revision": "the view's revision",
        },
        metadata={**_POOL, "view": "AlertsView.to_wire(): alerts, silences, recent history"},
    ),
    EventSpec(
        AUTOTUNE_DECISION,
        "The pool's auto-tuner decided something: turned on/off, proposed, applied, kept or "
        "rolled back a size change, skipped one (and why), or paused after a manual change.",
        measurements={"size": "the pool's size when it decided", "enabled": "1 on, 0 off"},
        metadata={
            **_POOL,
            "decision": "poolmon.core.advisor.autotune.Decision.to_wire(): kind, reason, "
            "from_size, to_size, finding, before/after figures",
            "paused_until_ns": "manual-change pause end (wall clock), 0 when not paused",
        },
    ),
)
"""Every event poolmon emits, in documentation order."""

BY_NAME: Final[dict[str, EventSpec]] = {spec.name: spec for spec in CATALOG}
"""Catalog entries by name."""
