"""The `worker_stack` endpoint command: a worker's live stack for `poolmon stack` and the app.

`worker_stack {worker_id, method?: "auto"|"pyspy"|"inprocess", timeout_s?}` replies with
`Pool.worker_stack`'s mapping (producer, limits, frames innermost first, op, task_id, age_s,
args, notes). It is NOT allowed on read-only connections: reading a stack changes nothing,
but it shows the task's arguments and source lines, which may be private, and every request
becomes a `poolmon.control.command` event, so who looked at a worker's stack is on record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from poolmon.core.errors import ConfigError
from poolmon.runtime.endpoint.control import CommandHandler, Refused

METHODS = ("auto", "pyspy", "inprocess")


@runtime_checkable
class Stackable(Protocol):
    """What the command needs from a pool (`poolmon.Pool` provides it)."""

    def worker_stack(
        self, worker_id: int, *, method: str = "auto", timeout_s: float = 2.0
    ) -> dict[str, Any]:
        """The running task's stack and which producer read it."""
        ...


def register_stacks(handler: CommandHandler, pool: Stackable) -> None:
    """Add `worker_stack` (control connections only) to an endpoint's commands."""

    def worker_stack(args: Mapping[str, Any]) -> Mapping[str, Any]:
        worker_id = args.get("worker_id")
        if isinstance(worker_id, bool) or not isinstance(worker_id, int) or worker_id < 0:
            raise Refused(f"argument 'worker_id' must be a worker id (int >= 0), got {worker_id!r}")
        method = args.get("method", "auto")
        if method not in METHODS:
            raise Refused(f"argument 'method' must be one of {', '.join(METHODS)}, got {method!r}")
        timeout = args.get("timeout_s", 2.0)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            raise Refused(f"argument 'timeout_s' must be seconds, got {timeout!r}")
        try:
            return pool.worker_stack(
                worker_id, method=method, timeout_s=min(10.0, max(0.05, float(timeout)))
            )
        except ConfigError as exc:
            raise Refused(f"worker_stack: {exc}") from None

    handler.register("worker_stack", worker_stack, read=False)
