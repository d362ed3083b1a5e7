"""What a worker is running right now, read from its shared-memory slot.

Both `Pool.stats()` and the periodic `poolmon.pool.status` event report each worker's current
task; they read it the same way: the worker writes the sequence number and start time of the
task it starts into a shared slot, and the task is found among those sent to that worker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from poolmon.runtime.pool.future import PoolFuture
    from poolmon.runtime.pool.worker import WorkerHandle


def current_task(
    w: WorkerHandle, op_of: Callable[[PoolFuture], str], now_ns: int
) -> tuple[str | None, int | None, int | None]:
    """Return `(op, task_id, age_ns)` of the task `w` is running, or Nones when it is idle."""
    seq, start = w.last_started()
    if w.inflight and seq >= 0:
        for fut in w.inflight:
            if fut._seq == seq:
                return op_of(fut), seq, max(0, now_ns - start)
    return None, None, None
