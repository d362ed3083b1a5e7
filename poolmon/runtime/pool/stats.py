"""`Pool.stats()`: a plain, frozen snapshot of the pool, cheap enough to call at 10 Hz.

Why a snapshot and not live attributes: callers (the monitor endpoint, tests, users) read it
from other threads while the pool keeps running; a frozen copy can never be half-updated.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LastExit:
    """How the previous occupant of a worker slot ended.

    Attributes:
        worker_id: Id of that worker.
        pid: Its pid.
        reason: crash | timeout | recycle_tasks | recycle_memory | health | resize |
            shutdown | start_failed.
        exit_code: Exit status, or None when killed by a signal.
        signal: Terminating signal number, or None.
    """

    worker_id: int
    pid: int
    reason: str
    exit_code: int | None
    signal: int | None


@dataclass(frozen=True, slots=True)
class WorkerStats:
    """One live worker.

    Attributes:
        worker_id: Unique for the pool's lifetime (a replacement gets a new id).
        slot: Position in the pool (0..size-1); restarts are counted per slot.
        pid: OS process id.
        state: starting | ready | busy | degraded | stopping.
        state_age_s: Seconds in the current state.
        current_op: Operation name of the running task, or None when idle.
        current_task_id: Its task id, or None.
        current_task_age_s: Seconds the running task has been running, or None.
        in_flight: Tasks sent to this worker and not yet answered (running + queued there).
        tasks_done: Tasks this worker finished.
        restarts: Times this slot's worker has been replaced.
        rss_bytes: Last sampled resident memory (0 until sampled).
        last_exit: How the slot's previous worker ended, or None.
    """

    worker_id: int
    slot: int
    pid: int
    state: str
    state_age_s: float
    current_op: str | None
    current_task_id: int | None
    current_task_age_s: float | None
    in_flight: int
    tasks_done: int
    restarts: int
    rss_bytes: int
    last_exit: LastExit | None


@dataclass(frozen=True, slots=True)
class SessionStats:
    """Session affinity counters since the pool started.

    Attributes:
        count: Bindings held now.
        hits: Tasks sent to their session's bound worker.
        misses: Tasks with no binding yet, or sent elsewhere (hint mode, worker busy).
        expired: Bindings dropped after the idle TTL.
        unbound: Tasks of a new session left unbound: the table held its cap
            (`poolmon.runtime.pool.sessions.MAX_SESSIONS`) of live bindings.
    """

    count: int
    hits: int
    misses: int
    expired: int
    unbound: int = 0


@dataclass(frozen=True, slots=True)
class Totals:
    """Task counts since the pool started (a `map` chunk counts as one task).

    Attributes:
        submitted: Tasks accepted by submit/map.
        succeeded: Finished with a result.
        failed: Raised an exception in the worker.
        timed_out: Killed at their timeout.
        crashed: Lost to a worker that died (including results lost with it).
        cancelled: Cancelled before they ran.
        retried: Re-runs of idempotent tasks after a crash or timeout.
        rejected: Submits refused because the queue was full.
    """

    submitted: int
    succeeded: int
    failed: int
    timed_out: int
    crashed: int
    cancelled: int
    retried: int
    rejected: int

    @property
    def done(self) -> int:
        """Tasks that reached an outcome (succeeded, failed, timed out or crashed)."""
        return self.succeeded + self.failed + self.timed_out + self.crashed


@dataclass(frozen=True, slots=True)
class PoolStats:
    """Everything `Pool.stats()` reports.

    Attributes:
        name: Pool name.
        pid: Pool process pid.
        start_method: multiprocessing start method of the workers.
        size: Target number of workers.
        min_size: Lower bound for `resize`.
        max_size: Upper bound for `resize`.
        uptime_s: Seconds since the pool started.
        closed: True after `shutdown()`.
        queue_depth: Tasks waiting for a worker (not yet sent to one).
        max_queue: The queue bound, or None.
        in_flight: Tasks sent to workers and not yet answered.
        task_timeout_s: Default per-task timeout, or None.
        health_check_interval_s: How often heartbeats are checked.
        workers: One entry per live worker, by slot.
        sessions: Affinity counters.
        totals: Task counts.
    """

    name: str
    pid: int
    start_method: str
    size: int
    min_size: int
    max_size: int
    uptime_s: float
    closed: bool
    queue_depth: int
    max_queue: int | None
    in_flight: int
    task_timeout_s: float | None
    health_check_interval_s: float
    workers: tuple[WorkerStats, ...]
    sessions: SessionStats
    totals: Totals

    @property
    def busy(self) -> int:
        """Workers running a task."""
        return sum(1 for w in self.workers if w.state == "busy")

    @property
    def idle(self) -> int:
        """Workers ready and waiting."""
        return sum(1 for w in self.workers if w.state == "ready")
