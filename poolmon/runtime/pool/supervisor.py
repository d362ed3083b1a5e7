"""The supervisor: the IO thread's periodic duties, run every few tens of milliseconds.

Per-task timeouts (which task each busy worker started when: its shared slot, or its edge
ring while per-task telemetry is on, see WorkerHandle.last_started),
heartbeat health checks, memory sampling and recycling, stuck exits, retry backoff, session
expiry, and the ~1 Hz telemetry reports (pool status, queue and session counts). Running it in
the IO thread means no second thread touches the workers, so there is nothing to lock.
"""

from __future__ import annotations

import time

from poolmon.core.catalog import STATE_FLIP_DELAY_NS
from poolmon.runtime.pool.current import current_task
from poolmon.runtime.pool.state import EngineBase
from poolmon.runtime.pool.worker import BUSY, DEGRADED, READY, STARTING, WorkerHandle
from poolmon.runtime.pool.worker_main import SLOT_BEAT

TICK_NS = STATE_FLIP_DELAY_NS  # held flips leave at each tick: the catalog promises this bound
STAMP_KEEP_NS = 1_000_000_000  # submit checkpoints younger than this are kept (submitstamps)
REPORT_NS = 1_000_000_000
EXIT_GRACE_NS = 2_000_000_000
STOP_GRACE_NS = 10_000_000_000


class Supervisor(EngineBase):
    """Periodic supervision (mixed into the engine)."""

    next_tick_ns = 0
    next_health_ns = 0
    next_memory_ns = 0
    next_report_ns = 0
    next_prune_ns = 0

    def next_timeout(self) -> float:
        """Seconds the IO thread may sleep: until the next supervisor tick."""
        return max(0.0, (self.next_tick_ns - time.monotonic_ns()) / 1e9)

    def tick(self, now: int) -> None:
        """Run whatever periodic duty is due."""
        self.next_tick_ns = now + TICK_NS
        self.em.flush_flips(now)  # busy/ready flips held since the last tick (flips.py)
        tasks_on = self.em.tel.wants_tasks
        if tasks_on is not self.tasks_on:
            self.set_tasks_on(tasks_on)
            self.refresh_submit_path()
        for w in self.workers.values():
            if w.seq_buf:
                self.flush_rows(w)  # type: ignore[attr-defined]
        if now >= self.next_prune_ns:
            self.next_prune_ns = now + STAMP_KEEP_NS
            self.stamps.prune(self.oldest_outstanding(), now - STAMP_KEEP_NS)
        if self.retry_heap:
            self.due_retries(now)  # type: ignore[attr-defined]
        for w in list(self.workers.values()):
            if not w.exited:
                self._check_timeout(w, now)
                self._check_stuck_exit(w, now)
        if now >= self.next_health_ns:
            self.next_health_ns = now + self.health_interval_ns
            for w in list(self.workers.values()):
                self._check_health(w, now)
        if now >= self.next_memory_ns:
            self.next_memory_ns = now + int(self.cfg.memory_check_interval * 1e9)
            self._check_memory()
        if now >= self.next_report_ns:
            self.next_report_ns = now + REPORT_NS
            self.sessions.expire(now)
            self._report()
        if len(self.serving()) < self.target and not self.closing:
            self.ensure_size("replace")  # type: ignore[attr-defined]

    def _running(self, w: WorkerHandle) -> tuple[int, int, int] | None:
        """(index in flight, seq, start ns) of the task `w` is running, or None when idle."""
        seq, start = w.last_started()
        if seq < 0:
            return None
        for i, fut in enumerate(w.inflight):
            if fut._seq == seq:
                return i, seq, start
        return None

    def _check_timeout(self, w: WorkerHandle, now: int) -> None:
        if not w.inflight or w.timed_out_seq >= 0:
            return
        if not self.task_timeout_ns and not self.task_timeouts_seen:
            return  # no task can time out: skip finding the running one
        found = self._running(w)
        if found is None:
            return
        idx, seq, started = found
        fut = w.inflight[idx]
        opts = fut._opts
        if opts is not None and opts.timeout:
            limit = int(opts.timeout * 1e9)
        elif self.op_timeouts_ns:  # an operator's per-operation timeout beats the default
            limit = self.op_timeouts_ns.get(self.op_of(fut), self.task_timeout_ns)
        else:
            limit = self.task_timeout_ns
        if not limit or now - started <= limit:
            return
        w.timed_out_seq = seq
        w.timeout_s = limit / 1e9
        self.em.task_timeout(w, seq, self.op_of(fut), now - started, limit)
        self.kill(w, "timeout")  # type: ignore[attr-defined]

    def _check_stuck_exit(self, w: WorkerHandle, now: int) -> None:
        """Kill a worker that closed its socket but did not exit, or ignores a stop."""
        if w.eof and now - w.eof_ns > EXIT_GRACE_NS:
            self.kill(w, w.stop_reason or "crash")  # type: ignore[attr-defined]
        elif (
            w.stop_sent
            and not w.inflight
            and w.state == "stopping"
            and now - w.state_since_ns > STOP_GRACE_NS
        ):
            self.kill(w, w.stop_reason or "shutdown")  # type: ignore[attr-defined]

    def _check_health(self, w: WorkerHandle, now: int) -> None:
        """Heartbeat check: the worker's watchdog thread stamps its slot every 50 ms."""
        if w.exited:
            return
        if w.state is STARTING:
            if now - w.spawned_ns > int(self.cfg.start_timeout * 1e9):
                self.kill(w, "start_failed")  # type: ignore[attr-defined]
            return
        if w.killed:
            return
        age = max(0, now - w.slot[SLOT_BEAT])
        limit = int(self.cfg.health_check_timeout * 1e9)
        if age <= limit:
            result = "ok" if age <= limit // 2 else "late"
            if w.missed and w.state is DEGRADED:
                self.set_state(w, BUSY if w.inflight else READY, "health_check_passed")
            w.missed = 0
            self.em.health_check(w, age, 0, result)
            return
        if w.inflight and w.is_running():
            # Stale heartbeat but the process is running its task: a long C call that holds
            # the GIL (the watchdog thread cannot run), not a hang. Per-task timeouts are what
            # bound long tasks; health is about frozen or deadlocked workers.
            self.em.health_check(w, age, w.missed, "late")
            return
        w.missed += 1
        self.em.health_check(w, age, w.missed, "missed")
        if w.missed >= self.cfg.health_check_max_misses:
            self.kill(w, "health")  # type: ignore[attr-defined]
        elif w.stop_reason is None:
            self.set_state(w, DEGRADED, "health_check_failed")

    def _check_memory(self) -> None:
        """Sample every worker's RSS from /proc; recycle any above the limit."""
        limit = self.cfg.max_memory_per_worker
        for w in list(self.workers.values()):
            if w.exited or w.state is STARTING:
                continue
            rss = w.read_rss()
            if limit is not None and rss > limit and w.stop_reason is None:
                self.retire(w, "recycle_memory")  # type: ignore[attr-defined]
                self.ensure_size("recycle")  # type: ignore[attr-defined]

    def _report(self) -> None:
        """About once a second: pool status, queue and session counts since the last report."""
        workers = [w for w in self.workers.values() if not w.exited]
        size = len(workers)
        busy = sum(1 for w in workers if w.inflight)
        idle = sum(1 for w in workers if w.state is READY)
        depth = len(self.pending)
        c = self.counters
        submitted = self.last_seq + 1
        failed = c.failed + c.timed_out + c.crashed
        now = time.monotonic_ns()
        rows = []
        for w in workers:
            op, task_id, age_ns = current_task(w, self.op_of, now)
            rows.append(
                {
                    "worker_id": w.wid,
                    "pid": w.pid,
                    "state": w.state,
                    "op": op,
                    "task_id": task_id,
                    "task_age_ns": age_ns,
                    "in_flight": len(w.inflight),
                    "tasks_done": w.tasks_done,
                    "slot": w.slot_index,
                    "restarts": self.restarts.get(w.slot_index, 0),
                }
            )
        self.em.pool_status(
            {
                "size": size,
                "busy": busy,
                "idle": idle,
                "queue_depth": depth,
                "utilization": busy / size if size else 0.0,
                "sessions": len(self.sessions),
                "tasks_submitted": submitted,
                "tasks_done": c.results + c.timed_out + c.crashed,
                "tasks_failed": failed,
            },
            rows,
        )
        self.em.queue_enqueued(submitted - c.enqueued_reported, depth)
        c.enqueued_reported = submitted
        self.em.session_affinity(*self.sessions.since_last_report())
