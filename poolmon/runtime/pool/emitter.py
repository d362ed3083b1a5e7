"""Every telemetry event the pool emits, in one place, so each emission point is obvious.

Why a class of tiny methods: each checks `telemetry.listening(NAME)` before building its
dicts, so with no handler attached an event costs one cached dict lookup; and the telemetry
engineer's catalog tests can read this file to see exactly when each event fires.
Per-task data never goes through here one task at a time: it arrives from the workers as
columnar `TaskBatch`es (see `engine.Engine._on_tasks_frame`), and busy/ready flips that come
faster than one per 20 ms leave as one `poolmon.worker.state` event per worker (flips.py):
every other event goes out through `_send`, which lets the held flips out first.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from poolmon.core import catalog as cat
from poolmon.core.events import TaskBatch
from poolmon.core.failures import clip_message, clip_traceback
from poolmon.core.workers import CHURN_STATES
from poolmon.runtime.pool.errors import safe_str
from poolmon.runtime.pool.flips import FlipGate, HeldFlip
from poolmon.runtime.telemetry.helpers import emit_error_event, execute_pool_operation

if TYPE_CHECKING:
    from poolmon.runtime.pool.worker import ExitRecord, WorkerHandle
    from poolmon.runtime.telemetry import Telemetry

T = TypeVar("T")


class PoolEmitter:
    """Emits the pool's catalog events with the documented fields."""

    def __init__(self, tel: Telemetry, pool_name: str, started_at_ns: int = 0) -> None:
        self.tel = tel
        self.name = pool_name
        self.meta = {"pool": pool_name}
        self.started_at_ns = started_at_ns
        """The pool's wall-clock start: its instance identity (the endpoint's WELCOME has it)."""
        self.flips = FlipGate()
        """Busy/ready flips held back while they come fast (flips.py)."""

    def _emit(self, name: str, meas: Mapping[str, int | float], meta: Mapping[str, Any]) -> None:
        self._send(name, meas, {"pool": self.name, **meta})

    def _send(self, name: str, meas: Mapping[str, int | float], meta: Mapping[str, Any]) -> None:
        """Emit one event, after any held flips (no event may overtake a worker's state)."""
        self.flush_flips()
        self.tel.emit(name, meas, meta)

    def flush_flips(self, now_ns: int | None = None) -> None:
        """Emit every held flip now (the supervisor's tick; before any other event)."""
        if not self.flips:
            return  # the usual case, without the gate's lock
        for held in self.flips.take(time.monotonic_ns() if now_ns is None else now_ns):
            self._state_event(held)

    def _state_event(self, f: HeldFlip) -> None:
        meta = {**f.meta, "from": f.old, "to": f.new, "reason": f.reason, "op": f.op}
        meta["ts_ns"] = f.wall_ns  # when it changed: a held flip leaves later
        self.tel.emit(cat.WORKER_STATE, {"previous_state_ns": f.prev_ns, "flips": f.flips}, meta)

    def _worker_meta(self, w: WorkerHandle) -> dict[str, Any]:
        return {"pool": self.name, "worker_id": w.wid, "pid": w.pid}

    # --- pool lifecycle
    def pool_init(self, size: int, min_size: int, max_size: int, startup_ns: int, sm: str) -> None:
        """The pool is up and accepting work."""
        if self.tel.listening(cat.POOL_INIT):
            self._emit(
                cat.POOL_INIT,
                {
                    "size": size,
                    "min_size": min_size,
                    "max_size": max_size,
                    "startup_ns": startup_ns,
                },
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "start_method": sm,
                    "started_at_ns": self.started_at_ns,
                },
            )

    def pool_terminate(self, uptime_ns: int, tasks_done: int, reason: str) -> None:
        """The pool has shut down."""
        if self.tel.listening(cat.POOL_TERMINATE):
            self._emit(
                cat.POOL_TERMINATE,
                {"uptime_ns": uptime_ns, "tasks_done": tasks_done},
                {"reason": reason},
            )

    def pool_resize(self, from_size: int, to_size: int, reason: str) -> None:
        """The target size changed."""
        if self.tel.listening(cat.POOL_RESIZE):
            self._emit(
                cat.POOL_RESIZE, {"from_size": from_size, "to_size": to_size}, {"reason": reason}
            )

    def pool_status(
        self, meas: Mapping[str, int | float], workers: Sequence[Mapping[str, Any]]
    ) -> None:
        """Periodic occupancy snapshot (the supervisor calls this about once a second).

        `workers` carries each live worker's state and current task, so a monitor can show
        what every worker is doing without an event per task.
        """
        if self.tel.listening(cat.POOL_STATUS):
            self._emit(cat.POOL_STATUS, meas, {"workers": list(workers)})

    # --- workers
    def worker_spawn(self, w: WorkerHandle, reason: str, restarts: int = 0) -> None:
        """A worker process was started (`restarts`: its slot's replacements so far)."""
        if self.tel.listening(cat.WORKER_SPAWN):
            meta = {**self._worker_meta(w), "reason": reason}
            meta.update(slot=w.slot_index, restarts=restarts)
            self._send(cat.WORKER_SPAWN, {}, meta)

    def worker_ready(self, w: WorkerHandle, startup_ns: int) -> None:
        """A worker answered its first frame."""
        if self.tel.listening(cat.WORKER_READY):
            self._send(cat.WORKER_READY, {"startup_ns": startup_ns}, self._worker_meta(w))

    def states_on(self) -> bool:
        """Whether anyone listens to worker state changes (skip building their details)."""
        return self.tel.listening(cat.WORKER_STATE)

    def worker_state(
        self, w: WorkerHandle, old: str, new: str, reason: str, prev_ns: int, op: str | None
    ) -> None:
        """A worker changed state; `op` is the operation a checkout starts, else None.

        A busy/ready flip may be held and leave later with others of the same worker
        (flips.py); any other change first lets the held flips out, then goes at once.
        """
        if not self.tel.listening(cat.WORKER_STATE):
            return
        wall_ns = time.time_ns()
        churn = old in CHURN_STATES and new in CHURN_STATES
        if churn and self.flips.fold(w.wid, old, new, reason, prev_ns, op, wall_ns):
            return
        flip = HeldFlip(old, new, reason, prev_ns, op, wall_ns, 1, self._worker_meta(w))
        if churn:
            if not self.flips.offer(w.wid, time.monotonic_ns(), flip):
                return
        else:
            self.flush_flips()
        self._state_event(flip)

    def worker_exit(self, rec: ExitRecord) -> None:
        """A worker process exited (any reason)."""
        self.flush_flips()  # its last state first
        self.flips.forget(rec.worker_id)
        if self.tel.listening(cat.WORKER_EXIT):
            self._send(
                cat.WORKER_EXIT,
                {"lifetime_ns": int(rec.lifetime_s * 1e9), "tasks_done": rec.tasks_done},
                {
                    "pool": self.name,
                    "worker_id": rec.worker_id,
                    "pid": rec.pid,
                    "reason": rec.reason,
                    "exit_code": rec.exit_code,
                    "signal": rec.signal,
                    "slot": rec.slot,
                },
            )

    def health_check(self, w: WorkerHandle, age_ns: int, missed: int, result: str) -> None:
        """One heartbeat check (duration_ns is the age of the worker's latest heartbeat)."""
        if self.tel.listening(cat.WORKER_HEALTH_CHECK):
            self._send(
                cat.WORKER_HEALTH_CHECK,
                {"duration_ns": age_ns, "missed": missed},
                {**self._worker_meta(w), "result": result},
            )

    # --- tasks
    def task_exception(
        self, w: WorkerHandle, task_id: int, op: str, exc: BaseException, tb: str, dur_ns: int
    ) -> None:
        """A task raised in its worker."""
        if self.tel.listening(cat.TASK_EXCEPTION):
            self._send(
                cat.TASK_EXCEPTION,
                {"duration_ns": dur_ns},
                {
                    **self._worker_meta(w),
                    "task_id": task_id,
                    "op": op,
                    "error_type": type(exc).__qualname__,
                    "message": clip_message(safe_str(exc)),
                    "category": "task",
                    "traceback": clip_traceback(tb),
                },
            )

    def task_timeout(
        self, w: WorkerHandle, task_id: int, op: str, dur_ns: int, lim_ns: int
    ) -> None:
        """A task ran past its timeout and its worker is being killed."""
        if self.tel.listening(cat.TASK_TIMEOUT):
            self._send(
                cat.TASK_TIMEOUT,
                {"duration_ns": dur_ns, "timeout_ns": lim_ns},
                {**self._worker_meta(w), "task_id": task_id, "op": op},
            )

    def tasks(self, batch: TaskBatch) -> None:
        """Hand a batch of finished tasks to batch handlers."""
        if len(batch):
            self.flush_flips()
            self.tel.emit_tasks(batch, self.meta)

    def worker_events(self, w: WorkerHandle, events: Any) -> None:
        """Re-emit user events recorded inside a worker's tasks."""
        self.flush_flips()
        self.tel.emit_from_worker(w.wid, w.pid, events, self.meta)

    # --- queue, sessions, errors, recovery
    def queue_enqueued(self, count: int, depth: int) -> None:
        """Periodic: tasks enqueued since the last report."""
        if self.tel.listening(cat.QUEUE_ENQUEUED):
            self._emit(cat.QUEUE_ENQUEUED, {"count": count, "depth": depth}, {})

    def queue_rejected(self, depth: int, max_queue: int, policy: str) -> None:
        """A submit was refused because the queue was full."""
        if self.tel.listening(cat.QUEUE_REJECTED):
            self._emit(
                cat.QUEUE_REJECTED, {"depth": depth, "max_queue": max_queue}, {"policy": policy}
            )

    def session_affinity(self, hits: int, misses: int, expired: int, unbound: int) -> None:
        """Periodic: session routing outcomes since the last report."""
        if self.tel.listening(cat.SESSION_AFFINITY):
            counts = {"hits": hits, "misses": misses, "expired": expired, "unbound": unbound}
            self._emit(cat.SESSION_AFFINITY, counts, {})

    def error(
        self,
        category: str,
        severity: str,
        error_type: str,
        message: str,
        wid: int | None = None,
        error: BaseException | None = None,
    ) -> None:
        """Something an operator should see (every catalog key filled, traceback if any)."""
        if self.tel.listening(cat.ERROR):
            self.flush_flips()
            emit_error_event(
                category,
                severity,
                pool=self.name,
                error=error,
                error_type=error_type,
                message=message,
                worker_id=wid,
                telemetry=self.tel,
            )

    def operation(self, name: str, fn: Callable[[], T]) -> T:
        """Run a control operation (resize, shutdown, recycle) as a timed telemetry span."""
        self.flush_flips()
        return execute_pool_operation(name, fn, pool=self.name, telemetry=self.tel)

    def recovery(self, action: str, result: str, duration_ns: int, wid: int | None = None) -> None:
        """The pool recovered from a failure (worker replaced, task retried)."""
        if self.tel.listening(cat.RECOVERY):
            self._emit(
                cat.RECOVERY,
                {"duration_ns": duration_ns},
                {"action": action, "result": result, "worker_id": wid},
            )


def now_ns() -> int:
    """Monotonic ns (the clock every pool duration uses)."""
    return time.monotonic_ns()
