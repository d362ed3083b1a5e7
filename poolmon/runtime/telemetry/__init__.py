"""poolmon's telemetry: a handler registry, spans, typed emitters and the worker-side buffer.

Data flows one way: the pool (and the resource sampler) emit here; handlers attached here
(the monitor endpoint, in-process aggregators, tests' `capture_events`) receive. The public
module-level API is `poolmon.telemetry`; this package holds the machinery:

* `prefixes`: how a handler's dotted prefixes match event names;
* `registry`: `Telemetry` (emit/listening/emit_tasks/...) and the process-wide
  `DEFAULT_TELEMETRY`;
* `registrations`: the lock-guarded, copy-on-write handler table `Telemetry` builds on
  (attach/attach_batch/detach/clear);
* `span`: start/stop/exception timing around a block;
* `helpers`: `execute_pool_operation` and the `emit_*_event` helpers;
* `sampling`: thinning per-task rows while totals stay exact;
* `worker_side`: the bounded buffer user events wait in inside a worker process;
* `docgen`: docs/EVENTS.md from the catalog.
"""

from __future__ import annotations

from poolmon.runtime.telemetry.helpers import (
    emit_error_event,
    emit_recovery_event,
    emit_resource_event,
    emit_worker_event,
    execute_pool_operation,
)
from poolmon.runtime.telemetry.prefixes import Handler
from poolmon.runtime.telemetry.registry import (
    DEFAULT_TELEMETRY,
    BatchHandler,
    Telemetry,
    WorkerEvent,
)
from poolmon.runtime.telemetry.span import Span, span

__all__ = [
    "DEFAULT_TELEMETRY",
    "BatchHandler",
    "Handler",
    "Span",
    "Telemetry",
    "WorkerEvent",
    "emit_error_event",
    "emit_recovery_event",
    "emit_resource_event",
    "emit_worker_event",
    "execute_pool_operation",
    "span",
]
