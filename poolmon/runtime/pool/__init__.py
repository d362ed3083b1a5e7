"""poolmon's worker pool: a fast, supervised `concurrent.futures.Executor` of processes.

`Pool` is the public entry point (also `poolmon.Pool`); the rest of the package is its
machinery: `engine` (IO thread and dispatch), `worker_main` (the worker loop), `framing`
(the private wire), `lifecycle` and `supervisor` (health, timeouts, replacement, recycling),
`sessions`, `stats`, `future` and `errors`.
"""

from __future__ import annotations

from poolmon.runtime.pool.errors import (
    InitializerFailed,
    PoolClosed,
    QueueFull,
    RemoteError,
    SubmitError,
    TaskTimeout,
    UnpickleError,
    WorkerCrashed,
)
from poolmon.runtime.pool.future import PoolFuture
from poolmon.runtime.pool.options import BoundPool, TaskOptions
from poolmon.runtime.pool.pool import Pool
from poolmon.runtime.pool.stats import LastExit, PoolStats, SessionStats, Totals, WorkerStats

__all__ = [
    "BoundPool",
    "InitializerFailed",
    "LastExit",
    "Pool",
    "PoolClosed",
    "PoolFuture",
    "PoolStats",
    "QueueFull",
    "RemoteError",
    "SessionStats",
    "SubmitError",
    "TaskOptions",
    "TaskTimeout",
    "Totals",
    "UnpickleError",
    "WorkerCrashed",
    "WorkerStats",
]
