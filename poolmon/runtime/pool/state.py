"""The state the pool's IO engine shares between its parts (dispatch, lifecycle, supervisor).

Why one base class: the engine is split by concern into small modules, but they all work on
the same workers, queues and counters, and all of it is touched only by whoever holds
`io_lock` (the IO thread, or a submitting thread doing the IO itself). Keeping the fields in
one place makes that single rule easy to check.
"""

from __future__ import annotations

import heapq
import os
import selectors
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from poolmon.core.events import TASK_CANCELLED, TaskBatch
from poolmon.runtime.pool.config import PoolConfig
from poolmon.runtime.pool.emitter import PoolEmitter
from poolmon.runtime.pool.errors import InitializerFailed
from poolmon.runtime.pool.framing import FunctionTable
from poolmon.runtime.pool.future import PoolFuture
from poolmon.runtime.pool.sessions import SessionTable
from poolmon.runtime.pool.stats import LastExit
from poolmon.runtime.pool.submitstamps import SubmitStamps
from poolmon.runtime.pool.worker import (
    BUSY,
    READY,
    WorkerHandle,
    get_context,
)


class Counters:
    """Task totals since start (see `stats.Totals`); written under the IO lock."""

    __slots__ = (
        "cancelled",
        "crashed",
        "enqueued_reported",
        "failed",
        "rejected",
        "results",
        "retried",
        "timed_out",
    )

    def __init__(self) -> None:
        self.results = 0  # answers from workers, ok or raised
        self.failed = 0
        self.timed_out = 0
        self.crashed = 0
        self.cancelled = 0
        self.retried = 0
        self.rejected = 0
        self.enqueued_reported = 0


class EngineBase:
    """Fields and small helpers shared by the engine's mixins."""

    def __init__(self, cfg: PoolConfig, emitter: PoolEmitter, ftable: FunctionTable) -> None:
        self.cfg = cfg
        self.em = emitter
        self.ft = ftable
        self.ctx = get_context(cfg.start_method)
        self.pending: deque[PoolFuture] = deque()
        self.io_lock = threading.Lock()
        self.sleeping = False
        self.sel = selectors.DefaultSelector()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        self.sel.register(self.wake_r, selectors.EVENT_READ, ("wake", None))
        self.workers: dict[int, WorkerHandle] = {}
        self.dirty: list[WorkerHandle] = []
        self.target = cfg.size
        self.next_wid = 0
        self.restarts: dict[int, int] = {}
        self.last_exit: dict[int, LastExit] = {}
        self.sessions = SessionTable(cfg.session_ttl)
        self.retry_heap: list[tuple[int, int, PoolFuture]] = []
        self.counters = Counters()
        self.task_timeout_ns = _ns(cfg.task_timeout)
        self.task_timeouts_seen = False  # some task was submitted with its own timeout
        self.op_timeouts_ns: dict[str, int] = {}  # op name -> timeout (settings: op_timeout_s.*)
        self.health_interval_ns = _ns(cfg.health_check_interval) or 1
        self.tasks_on = False
        self.ready_workers = 0
        """Workers in the READY state (nothing in flight): `dispatch_one` looks only then."""
        self.stamps = SubmitStamps()  # submit times of task rows, one checkpoint per round
        self.queue_bounded = False
        self.slow_submit = False
        self.closing = False
        self.stop_sent = False
        self.finished = threading.Event()
        self.last_seq = -1
        self.started_ns = time.monotonic_ns()
        self.spawn_failures = 0
        self.spawn_retry_ns = 0
        self.space_waiters = 0
        self.space_cond = threading.Condition(threading.Lock())
        self.fatal: BaseException | None = None
        self.init_payload = cfg.init_payload()
        self.broken: InitializerFailed | None = None  # see Lifecycle.on_init_failed
        self.on_finished: Callable[[], None] | None = None
        self.thread: threading.Thread | None = None  # the IO thread
        self.services: list[Any] = []  # what the pool started beside it (closing.py)
        self.terminate_reason = "shutdown"
        self.abandoned = False  # the Pool was garbage collected (closing.abandon)
        self.init_reported = False

    # --- helpers used everywhere
    def op_of(self, fut: PoolFuture) -> str:
        """The operation name of a task."""
        idx = getattr(fut, "_op", -1)  # the plain fast path leaves _op unset
        if idx < 0 and fut._fid >= 0:
            idx = self.ft.fid_op[fut._fid]
        ops = self.ft.ops
        return ops[idx] if 0 <= idx < len(ops) else "?"

    def set_state(self, w: WorkerHandle, new: str, reason: str, op: str | None = None) -> None:
        """Move a worker to `new`, emitting the transition with time spent in the old state.

        `op` names the operation a checkout starts, so a monitor can show it at once.
        """
        old = w.state
        if old is new:
            return
        if old is READY:
            self.ready_workers -= 1
        elif new is READY:
            self.ready_workers += 1
        now = time.monotonic_ns()
        prev = now - w.state_since_ns
        w.state = new
        w.state_since_ns = now
        self.em.worker_state(w, old, new, reason, prev, op)

    def mark_busy(self, w: WorkerHandle) -> None:
        """A worker that had nothing in flight was just sent work (the checkout)."""
        if w.state is READY:
            op = self.op_of(w.inflight[0]) if w.inflight and self.em.states_on() else None
            self.set_state(w, BUSY, "checkout", op)

    def wake(self) -> None:
        """Interrupt the IO thread's wait (from any thread)."""
        try:
            os.write(self.wake_w, b"\0")
        except (BlockingIOError, OSError):
            pass  # pipe full (a wake-up is already pending) or closed (engine finished)

    def push_retry(self, fut: PoolFuture, delay_ns: int) -> None:
        """Schedule an idempotent task to run again after `delay_ns`."""
        heapq.heappush(self.retry_heap, (time.monotonic_ns() + delay_ns, fut._seq, fut))

    def task_row(
        self, fut: PoolFuture, w: WorkerHandle | None, status: int, error: str, start_mono: int
    ) -> None:
        """A TaskBatch row for an outcome the worker could not report (crash, timeout, cancel).

        `start_mono` is when the task started running (0 if it never ran: then the row's
        start is now and its duration 0).
        """
        now = time.monotonic_ns()
        offset = time.time_ns() - now
        start = start_mono or now
        submitted = min(start, self.stamps.submit_time(fut._seq, start))
        row = (
            fut._seq,
            -1 if w is None else w.wid,
            self.op_of(fut),
            start + offset,
            now - start,
            max(0, start - submitted),
            status,
            error,
        )
        self.em.tasks(TaskBatch.from_rows([row]))

    def set_tasks_on(self, on: bool) -> None:
        """Turn per-task telemetry on or off (a handler that wants task rows came or went)."""
        if on and not self.tasks_on:
            self.stamps.restart(self.last_seq)
        self.tasks_on = on

    def oldest_outstanding(self) -> int:
        """A seq no higher than that of any task whose row may still come.

        That is: queued, running, awaiting a retry, or finished but not yet reported by its
        worker (the send notes keep those, see `taskrows.note_ops`).
        """
        heads = [self.last_seq + 1]
        if self.pending:
            heads.append(self.pending[0]._seq)
        for w in self.workers.values():
            if w.inflight:
                heads.append(w.inflight[0]._seq)
            if w.sent_ops:  # sent while timed, row not joined yet (its result may have come)
                heads.append(w.sent_ops[0][2])
            if w.strict_q:
                heads.append(w.strict_q[0]._seq)
        heads.extend(fut._seq for _, _, fut in self.retry_heap)
        # the queue is in seq order but for concurrent submitters and re-queued tasks: margin
        return min(heads) - 4096

    def refresh_submit_path(self) -> None:
        """Recompute the one flag `Pool.submit` checks to leave its fast path."""
        self.slow_submit = self.queue_bounded or self.closing

    def cancel_queued(self) -> None:
        """shutdown(cancel_futures=True): cancel every task not yet sent to a worker."""
        queued = list(self.pending)
        self.pending.clear()
        for w in self.workers.values():
            queued.extend(w.strict_q)
            w.strict_q.clear()
        for fut in queued:
            if fut.cancel():
                self.counters.cancelled += 1
                if self.tasks_on:
                    self.task_row(fut, None, TASK_CANCELLED, "", 0)
            else:
                self.pending.append(fut)  # already running (a retry): it must finish

    def serving(self) -> list[WorkerHandle]:
        """Workers that count toward the pool's size (not on their way out)."""
        return [w for w in self.workers.values() if w.stop_reason is None]

    def outstanding(self) -> int:
        """Tasks accepted and not yet answered: queued, waiting for retry, or in flight."""
        n = len(self.pending) + len(self.retry_heap)
        for w in self.workers.values():
            n += len(w.inflight) + len(w.strict_q)
        return n


def _ns(seconds: float | None) -> int:
    return 0 if seconds is None else int(seconds * 1e9)
