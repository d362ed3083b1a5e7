"""The telemetry event catalog: every event poolmon emits, defined once, with its fields.

Each `EventSpec` names an event, says when it fires, how it is delivered, and lists its
measurements (numbers, the unit in the field name) and metadata (descriptive values).
docs/EVENTS.md is generated from this module and a test fails when the two differ, so the
documentation cannot drift from the code. The entries themselves (`CATALOG`, `BY_NAME`) are
in `poolmon.core.catalog_entries`; this module holds the names, the allowed values and the
entry's shape, which the emitters import.

Delivery:
* ``event``: one `poolmon.core.events.Event` per occurrence.
* ``batch``: per-task events; they travel as columnar `TaskBatch`es, never one object per task.
* ``periodic``: emitted on a timer (default once a second) with counts since the last one.

``emitted_by`` names the part that emits each event, so a missing emission has an owner. Every
metadata key listed for an event is present in every emission (``None`` when it does not
apply), so consumers index instead of guessing. Units are always in the measurement's name and
every duration is integer nanoseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

CATALOG_VERSION: Final = 5
"""Bumped whenever an event is added, removed or changes its fields."""

Delivery = Literal["event", "batch", "periodic"]
Emitter = Literal["pool", "telemetry", "resources", "endpoint"]


@dataclass(frozen=True, slots=True)
class EventSpec:
    """One catalog entry.

    Attributes:
        name: Dotted event name.
        description: When it fires and why a monitor cares.
        delivery: How it travels (see the module docstring).
        measurements: Field name -> meaning; every value is a number, the unit in the name.
        metadata: Field name -> meaning.
        emitted_by: The part of poolmon that emits it.
    """

    name: str
    description: str
    delivery: Delivery = "event"
    measurements: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    emitted_by: Emitter = "pool"


POOL_INIT: Final = "poolmon.pool.init"
POOL_TERMINATE: Final = "poolmon.pool.terminate"
POOL_RESIZE: Final = "poolmon.pool.resize"
POOL_STATUS: Final = "poolmon.pool.status"
POOL_OPERATION_START: Final = "poolmon.pool.operation.start"
POOL_OPERATION_STOP: Final = "poolmon.pool.operation.stop"
POOL_OPERATION_EXCEPTION: Final = "poolmon.pool.operation.exception"
WORKER_SPAWN: Final = "poolmon.worker.spawn"
WORKER_READY: Final = "poolmon.worker.ready"
WORKER_STATE: Final = "poolmon.worker.state"
WORKER_EXIT: Final = "poolmon.worker.exit"
WORKER_HEALTH_CHECK: Final = "poolmon.worker.health_check"
TASK_START: Final = "poolmon.task.start"
TASK_STOP: Final = "poolmon.task.stop"
TASK_EXCEPTION: Final = "poolmon.task.exception"
TASK_TIMEOUT: Final = "poolmon.task.timeout"
QUEUE_ENQUEUED: Final = "poolmon.queue.enqueued"
QUEUE_REJECTED: Final = "poolmon.queue.rejected"
SESSION_AFFINITY: Final = "poolmon.session.affinity"
ERROR: Final = "poolmon.error"
RECOVERY: Final = "poolmon.recovery"
RESOURCE_PROCESS: Final = "poolmon.resource.process"
RESOURCE_MACHINE: Final = "poolmon.resource.machine"
RESOURCE_INTERNALS: Final = "poolmon.resource.internals"
CONTROL_COMMAND: Final = "poolmon.control.command"
ALERT_ACK: Final = "poolmon.alert.ack"
ALERT_STATE: Final = "poolmon.alert.state"
AUTOTUNE_DECISION: Final = "poolmon.autotune.decision"

ERROR_CATEGORIES: Final = (
    "task",
    "worker",
    "pool",
    "telemetry",
    "endpoint",
    "resources",
    "alerts",
)
"""Allowed `category` values of `poolmon.error`."""
SEVERITIES: Final = ("info", "warning", "error", "critical")
"""Allowed `severity` values of `poolmon.error`, mildest first."""
RECOVERY_ACTIONS: Final = ("replace_worker", "retry_task", "reap_zombie", "restart_endpoint")
"""Allowed `action` values of `poolmon.recovery`."""
RECOVERY_RESULTS: Final = ("ok", "failed")
"""Allowed `result` values of `poolmon.recovery`."""
WORKER_STATES: Final = ("starting", "ready", "busy", "degraded", "stopping", "stopped")
"""A worker's states, in lifecycle order (`poolmon.worker.state` from/to)."""
STATE_FLIP_DELAY_NS: Final = 20_000_000
"""The longest a busy/ready flip may wait in the pool before its event leaves.

Flips coming faster than one per this long are gathered, and leave at the pool's next
supervisor tick (this often) or before any other pool event. A monitor has therefore heard
of every flip that happened this long (plus the tick's lateness) before the newest event it
received; a task younger than a few times that may already have been followed by others it
has not heard of, so its age is only an upper bound (`WorkerView.current_task_age_at_most`,
`WorkerTable.task_age_at_most`).
"""
