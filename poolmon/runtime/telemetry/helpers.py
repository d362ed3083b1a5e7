"""Typed emitters for the catalog events the pool and the sampler report most often.

Why: the design this grew from listed events that nothing emitted and let every call site
build its own dict, so fields drifted. Each helper here fills every metadata key the catalog
lists for its event (``None`` when it does not apply), checks the values that have a closed
set (category, severity, action), and returns at once when nobody listens, before building
anything. All take ``telemetry=None`` meaning the process-wide default registry.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

from poolmon.core.catalog import (
    ERROR,
    ERROR_CATEGORIES,
    POOL_OPERATION_START,
    RECOVERY,
    RECOVERY_ACTIONS,
    RECOVERY_RESULTS,
    RESOURCE_INTERNALS,
    RESOURCE_MACHINE,
    RESOURCE_PROCESS,
    SEVERITIES,
)
from poolmon.core.catalog_entries import BY_NAME
from poolmon.runtime.telemetry.registry import DEFAULT_TELEMETRY, Telemetry
from poolmon.runtime.telemetry.span import Span

T = TypeVar("T")

WORKER_EVENTS: Final = frozenset(name for name in BY_NAME if name.startswith("poolmon.worker."))
"""Events `emit_worker_event` accepts."""
RESOURCE_EVENTS: Final = frozenset({RESOURCE_PROCESS, RESOURCE_MACHINE, RESOURCE_INTERNALS})
"""Events `emit_resource_event` accepts."""
_OPERATION_PREFIX: Final = POOL_OPERATION_START.rpartition(".")[0]


def _complete(name: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """`given` plus a None for every catalog metadata key of `name` it lacks."""
    out = dict.fromkeys(BY_NAME[name].metadata)
    out.update(given)
    return out


def _require(what: str, value: object, allowed: tuple[str, ...]) -> None:
    """Refuse a value outside a catalog's closed set, naming the set (ValueError)."""
    if value not in allowed:
        raise ValueError(f"{what} {value!r} is not one of {allowed}")


def _listening(event: str, telemetry: Telemetry | None) -> Telemetry | None:
    """The registry to emit `event` on, or None when nobody listens (build nothing then)."""
    tel = DEFAULT_TELEMETRY if telemetry is None else telemetry
    return tel if tel.listening(event) else None


def execute_pool_operation(
    operation: str,
    fn: Callable[[], T],
    *,
    pool: str | None,
    metadata: Mapping[str, Any] | None = None,
    telemetry: Telemetry | None = None,
) -> T:
    """Run `fn()` as a timed pool operation and return its result (exceptions propagate).

    Emits ``poolmon.pool.operation.start``/``.stop``/``.exception`` with ``operation`` and
    ``pool`` in the metadata and ``duration_ns`` measured on the monotonic clock. Use it for
    control-plane work (resize, shutdown, recycling a worker), never per task.
    """
    meta = {**(metadata or {}), "pool": pool, "operation": operation}
    with Span(_OPERATION_PREFIX, meta, DEFAULT_TELEMETRY if telemetry is None else telemetry):
        return fn()


def emit_worker_event(
    event: str,
    *,
    pool: str | None,
    worker_id: int,
    pid: int | None,
    measurements: Mapping[str, int | float] | None = None,
    metadata: Mapping[str, Any] | None = None,
    telemetry: Telemetry | None = None,
) -> None:
    """Emit one ``poolmon.worker.*`` catalog event with pool, worker_id and pid filled in.

    Raises ValueError when `event` is not a worker event of the catalog.
    """
    if event not in WORKER_EVENTS:
        raise ValueError(
            f"{event!r} is not a worker event; expected one of {sorted(WORKER_EVENTS)}"
        )
    tel = _listening(event, telemetry)
    if tel is None:
        return
    meta = _complete(event, metadata or {})
    meta.update(pool=pool, worker_id=worker_id, pid=pid)
    tel.emit(event, measurements or {}, meta)


def emit_error_event(
    category: str,
    severity: str,
    *,
    pool: str | None,
    error: BaseException | None = None,
    error_type: str | None = None,
    message: str | None = None,
    worker_id: int | None = None,
    count: int = 1,
    metadata: Mapping[str, Any] | None = None,
    telemetry: Telemetry | None = None,
) -> None:
    """Emit ``poolmon.error``: something an operator should see.

    Pass the exception as `error` to get its type, message and traceback; or give
    `error_type` and `message` for failures that are not exceptions (a worker that vanished).
    Raises ValueError for an unknown category or severity (see the catalog's lists).
    """
    _require("error category", category, ERROR_CATEGORIES)
    _require("error severity", severity, SEVERITIES)
    tel = _listening(ERROR, telemetry)
    if tel is None:
        return
    meta = _complete(ERROR, metadata or {})
    if error is not None:
        meta["error_type"] = error_type or type(error).__qualname__
        meta["message"] = message if message is not None else str(error)
        meta["traceback"] = "".join(traceback.format_exception(error))
    else:
        meta["error_type"] = error_type
        meta["message"] = message
    meta.update(pool=pool, category=category, severity=severity, worker_id=worker_id)
    tel.emit(ERROR, {"count": count}, meta)


def emit_recovery_event(
    action: str,
    result: str,
    duration_ns: int,
    *,
    pool: str | None,
    worker_id: int | None = None,
    metadata: Mapping[str, Any] | None = None,
    telemetry: Telemetry | None = None,
) -> None:
    """Emit ``poolmon.recovery``: the pool healed itself (or tried to) in `duration_ns`.

    Raises ValueError for an unknown action or result, or a negative duration.
    """
    _require("recovery action", action, RECOVERY_ACTIONS)
    _require("recovery result", result, RECOVERY_RESULTS)
    if duration_ns < 0:
        raise ValueError(f"duration_ns must be >= 0, got {duration_ns}")
    tel = _listening(RECOVERY, telemetry)
    if tel is None:
        return
    meta = _complete(RECOVERY, metadata or {})
    meta.update(pool=pool, action=action, result=result, worker_id=worker_id)
    tel.emit(RECOVERY, {"duration_ns": duration_ns}, meta)


def emit_resource_event(
    event: str,
    measurements: Mapping[str, int | float],
    *,
    pool: str | None,
    metadata: Mapping[str, Any] | None = None,
    telemetry: Telemetry | None = None,
) -> None:
    """Emit one resource sample (``poolmon.resource.process|machine|internals``).

    Measurements the sampler could not read are simply absent (never zero). Raises ValueError
    when `event` is not a resource event.
    """
    if event not in RESOURCE_EVENTS:
        raise ValueError(
            f"{event!r} is not a resource event; expected one of {sorted(RESOURCE_EVENTS)}"
        )
    tel = _listening(event, telemetry)
    if tel is None:
        return
    meta = _complete(event, metadata or {})
    meta["pool"] = pool
    tel.emit(event, measurements, meta)
