"""The public telemetry API: attach handlers, emit events, time spans.

Why a facade: user code (and code running inside pool tasks) should write
``poolmon.telemetry.emit("myapp.cache.hit", {"count": 1})`` without knowing about registries.
Every function here is bound to the process-wide `DEFAULT_TELEMETRY`, which a `Pool` created
with ``telemetry=None`` also uses. Inside a worker process the same calls land in a bounded
buffer that the pool ships back and re-emits, tagged with the worker id and pid.

Example::

    import poolmon.telemetry as telemetry

    def on_exit(name, measurements, metadata):
        print(metadata["worker_id"], metadata["reason"], measurements["lifetime_ns"])

    telemetry.attach("my-logger", "poolmon.worker.exit", on_exit)

Event names and fields are in docs/EVENTS.md (generated from `poolmon.core.catalog`).
"""

from __future__ import annotations

from poolmon.runtime.telemetry import (
    DEFAULT_TELEMETRY,
    BatchHandler,
    Handler,
    Span,
    Telemetry,
    emit_error_event,
    emit_recovery_event,
    emit_resource_event,
    emit_worker_event,
    execute_pool_operation,
    span,
)

attach = DEFAULT_TELEMETRY.attach
"""`Telemetry.attach` on the default registry: ``attach(handler_id, prefixes, handler)``."""
attach_batch = DEFAULT_TELEMETRY.attach_batch
"""`Telemetry.attach_batch` on the default registry: ``attach_batch(handler_id, handler)``."""
detach = DEFAULT_TELEMETRY.detach
"""`Telemetry.detach` on the default registry: ``detach(handler_id) -> bool``."""
emit = DEFAULT_TELEMETRY.emit
"""`Telemetry.emit` on the default registry: ``emit(name, measurements, metadata)``."""
listening = DEFAULT_TELEMETRY.listening
"""`Telemetry.listening` on the default registry: ``listening(name) -> bool``."""

__all__ = [
    "DEFAULT_TELEMETRY",
    "BatchHandler",
    "Handler",
    "Span",
    "Telemetry",
    "attach",
    "attach_batch",
    "detach",
    "emit",
    "emit_error_event",
    "emit_recovery_event",
    "emit_resource_event",
    "emit_worker_event",
    "execute_pool_operation",
    "listening",
    "span",
]
