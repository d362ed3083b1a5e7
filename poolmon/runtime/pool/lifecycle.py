"""Workers coming and going: spawn, ready, graceful retire, kill, and what a death means.

The crash guarantee lives here (`on_exit`). When a worker dies the pool first reads every
result it had already written, then looks at the worker's shared slot for the sequence number
of the task it had started last. Its in-flight tasks run in the order they were sent, so:
tasks before that one without an answer finished but their results were lost with the
process; that one was running; tasks after it never started and go back to the front of the
queue. Only the running task (and lost results) fail, with `WorkerCrashed` naming the worker,
pid and exit status, unless the task is idempotent with retries left. Nothing else fails.
"""

from __future__ import annotations

import os
import selectors
import signal
import time

from poolmon.core.errors import PoolmonError
from poolmon.core.events import TASK_CRASHED, TASK_TIMEOUT
from poolmon.runtime.pool import framing as fr
from poolmon.runtime.pool.edges import ring_entries
from poolmon.runtime.pool.errors import (
    InitializerFailed,
    TaskTimeout,
    WorkerCrashed,
    WorkerKilled,
    describe_error,
    describe_exit,
)
from poolmon.runtime.pool.future import PENDING, RUNNING, PoolFuture, finish
from poolmon.runtime.pool.state import EngineBase
from poolmon.runtime.pool.stats import LastExit
from poolmon.runtime.pool.taskrows import recover_unreported
from poolmon.runtime.pool.worker import (
    READY,
    STARTING,
    STOPPED,
    STOPPING,
    ExitRecord,
    WorkerHandle,
    spawn_worker,
)

_STOP_FRAME = fr.new_packer().pack([fr.STOP])
_MAX_BACKOFF_NS = 5_000_000_000
_START_FAILURES_FATAL = 5


class Lifecycle(EngineBase):
    """Spawning, retiring, killing and reaping workers (mixed into the engine)."""

    def spawn(self, slot_index: int, reason: str) -> WorkerHandle | None:
        """Start a worker in `slot_index`; on failure report it and back off."""
        wid = self.next_wid
        self.next_wid += 1
        try:
            w = spawn_worker(
                self.ctx,
                wid,
                slot_index,
                int(self.cfg.flush_interval * 1e9),
                self.cfg.name,
                ring_entries(self.cfg.max_in_flight),
                self.init_payload,
            )
        except Exception as exc:
            self.spawn_failures += 1
            backoff = min(_MAX_BACKOFF_NS, 50_000_000 * 2 ** min(self.spawn_failures, 10))
            self.spawn_retry_ns = time.monotonic_ns() + backoff
            self.em.error("worker", "error", type(exc).__qualname__, f"worker spawn failed: {exc}")
            return None
        w.window = min(w.window, self.cfg.max_in_flight)
        self.workers[wid] = w
        self.sel.register(w.fd, selectors.EVENT_READ, ("sock", w))
        self.sel.register(w.sentinel, selectors.EVENT_READ, ("exit", w))
        if reason == "replace":
            self.restarts[slot_index] = self.restarts.get(slot_index, 0) + 1
        self.em.worker_spawn(w, reason, self.restarts.get(slot_index, 0))
        return w

    def ensure_size(self, reason: str) -> None:
        """Spawn workers until the serving count reaches the target (or work needs one)."""
        if self.broken is not None:
            return  # the initializer fails: a new worker would only fail again
        if self.spawn_retry_ns and time.monotonic_ns() < self.spawn_retry_ns:
            return
        serving = self.serving()
        want = self.target
        if self.closing:
            want = min(want, 1) if (self.outstanding() and not serving) else 0
        used = {w.slot_index for w in serving}
        missing = want - len(serving)
        index = 0
        while missing > 0:
            while index in used:
                index += 1
            if self.spawn(index, reason) is None:
                return
            used.add(index)
            missing -= 1

    def on_init_failed(self, w: WorkerHandle, error: BaseException) -> None:
        """The pool's initializer raised in `w`: the pool is broken (docs/POOL.md).

        Why not restart and retry: an initializer fails the same way in every new worker, so
        a pool that kept replacing them would spin forever while tasks wait. Instead, what is
        queued fails now with `InitializerFailed` naming the initializer and wrapping its
        exception, new submits raise it, no worker is started again, tasks already running
        on healthy workers finish, and the pool winds down as after `shutdown()`.
        """
        w.stop_reason = "initializer"
        if self.broken is not None:
            return
        name = fr.op_name(self.cfg.initializer)
        module = getattr(self.cfg.initializer, "__module__", None)
        err = InitializerFailed(f"{module}.{name}" if module else name, describe_error(error))
        err.__cause__ = error
        self.broken = err
        self.em.error("worker", "critical", "InitializerFailed", str(err), w.wid)
        futs = list(self.pending)
        self.pending.clear()
        futs.extend(f for _, _, f in self.retry_heap)
        self.retry_heap.clear()
        for other in self.workers.values():
            futs.extend(other.strict_q)
            other.strict_q.clear()
        for fut in futs:
            if fut._state is PENDING or fut._state is RUNNING:
                self.counters.failed += 1
                finish(fut, None, err)
        self.terminate_reason = "initializer"
        self.closing = True
        self.refresh_submit_path()

    def on_ready(self, w: WorkerHandle) -> None:
        """The worker's first frame arrived: it is ready for work."""
        now = time.monotonic_ns()
        w.ready_ns = now
        self.spawn_failures = 0
        self.set_state(w, READY, "init_complete")
        self.em.worker_ready(w, now - w.spawned_ns)
        if not self.init_reported and all(
            x.state is not STARTING for x in self.workers.values() if x.stop_reason is None
        ):
            self.init_reported = True
            cfg = self.cfg
            self.em.pool_init(
                self.target, cfg.min_size, cfg.max_size, now - self.started_ns, cfg.start_method
            )

    def retire(self, w: WorkerHandle, reason: str) -> None:
        """Stop sending work to `w` and let it exit after what it already has (graceful)."""
        if w.stop_reason is not None:
            return
        w.stop_reason = reason
        if not w.stop_sent:
            w.stop_sent = True
            w.out.append(_STOP_FRAME)
            if not w.dirty:
                w.dirty = True
                self.dirty.append(w)
        self.set_state(w, STOPPING, reason)

    def kill(self, w: WorkerHandle, reason: str) -> None:
        """SIGKILL a worker (timeout, failed health, stuck); `on_exit` settles its tasks."""
        if (
            w.stop_reason is None
            or w.stop_reason in ("resize", "recycle_tasks", "recycle_memory", "recycle")
            or reason == "killed"  # an operator's kill_worker wins over a pending retire
        ):
            w.stop_reason = reason
        self.set_state(w, STOPPING, reason)
        w.killed = True
        try:
            os.kill(w.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def fail_or_retry(
        self,
        fut: PoolFuture,
        exc: BaseException,
        kind: str,
        w: WorkerHandle | None = None,
        start_mono: int = 0,
    ) -> None:
        """Fail a task lost to a crash/timeout, or schedule it again if idempotent."""
        opts = fut._opts
        attempt = getattr(fut, "_attempt", 0)  # the plain fast path leaves it unset
        if opts is not None and opts.idempotent and attempt < opts.retries:
            fut._attempt = attempt = attempt + 1
            self.counters.retried += 1
            delay = min(_MAX_BACKOFF_NS, int(self.cfg.retry_backoff * 1e9) << (attempt - 1))
            self.push_retry(fut, delay)
            self.em.recovery("retry_task", "ok", delay)
            return
        if kind == "timeout":
            self.counters.timed_out += 1
        else:
            self.counters.crashed += 1
        if self.tasks_on:
            status = TASK_TIMEOUT if kind == "timeout" else TASK_CRASHED
            self.task_row(fut, w, status, type(exc).__qualname__, start_mono)
        finish(fut, None, exc)

    def on_exit(self, w: WorkerHandle) -> None:
        """The worker process is gone: deliver what it sent, settle its tasks, replace it."""
        if w.exited:
            return
        t0 = time.monotonic_ns()
        w.exited = True
        for fd in (w.sentinel, w.fd):
            try:
                self.sel.unregister(fd)
            except (KeyError, ValueError):
                pass
        self._drain_socket(w)
        if w.timed:
            recover_unreported(w, t0)
        if w.seq_buf:
            self.flush_rows(w)  # type: ignore[attr-defined]
        w.sent_ops.clear()  # the rest of its tasks get their rows from _settle
        w.proc.join(0.5)
        exit_code, sig = w.exit_status()
        reason = w.stop_reason or "crash"
        self._settle(w, exit_code, sig, reason)
        if w.strict_q:
            self.pending.extendleft(reversed(w.strict_q))
            w.strict_q.clear()
        self.sessions.drop_worker(w.wid)
        self.set_state(w, STOPPED, reason)
        lifetime_s = (t0 - w.spawned_ns) / 1e9
        rec = ExitRecord(
            w.wid, w.pid, reason, exit_code, sig, lifetime_s, w.tasks_done, w.slot_index
        )
        self.last_exit[w.slot_index] = LastExit(w.wid, w.pid, reason, exit_code, sig)
        self.em.worker_exit(rec)
        del self.workers[w.wid]
        try:
            w.sock.close()
            w.proc.close()
        except (OSError, ValueError):
            pass
        if not w.ready_ns and reason not in ("shutdown", "killed"):
            self._start_failed(exit_code, sig)
        if reason in ("crash", "health", "timeout", "start_failed"):
            self.em.error(
                "worker",
                "error" if reason != "timeout" else "warning",
                "WorkerExit",
                f"worker {w.wid} (pid {w.pid}) exited: {reason}",
                w.wid,
            )
            before = len(self.workers)
            self.ensure_size("replace")
            ok = len(self.workers) > before or self.closing
            self.em.recovery(
                "replace_worker", "ok" if ok else "failed", time.monotonic_ns() - t0, w.wid
            )
        else:
            self.ensure_size("recycle" if reason.startswith("recycle") else "replace")

    def _start_failed(self, exit_code: int | None, sig: int | None) -> None:
        """A worker died before it was ready: back off, and stop queued work hanging forever."""
        self.spawn_failures += 1
        backoff = min(_MAX_BACKOFF_NS, 50_000_000 * 2 ** min(self.spawn_failures, 10))
        self.spawn_retry_ns = time.monotonic_ns() + backoff
        if self.spawn_failures >= _START_FAILURES_FATAL:
            exc = PoolmonError(
                f"{self.spawn_failures} workers in a row died before becoming ready (last: "
                f"{describe_exit(exit_code, sig)}); queued tasks fail instead of waiting "
                "forever. The workers' stderr says why; a common cause is a script that "
                'creates a pool without `if __name__ == "__main__":`'
            )
            while self.pending:
                fut = self.pending.popleft()
                if fut._state is PENDING or fut._state is RUNNING:
                    self.counters.crashed += 1
                    finish(fut, None, exc)

    def _drain_socket(self, w: WorkerHandle) -> None:
        """Read everything the dead worker managed to send before it died."""
        while not w.eof:
            try:
                data = w.sock.recv(1 << 20)
            except BlockingIOError:
                break
            except OSError:
                data = b""
            if not data:
                w.eof = True
                break
            self.consume(w, data)  # type: ignore[attr-defined]
        rest = w.unreceived()
        if rest:
            self.consume(w, rest)  # type: ignore[attr-defined]

    def _settle(self, w: WorkerHandle, exit_code: int | None, sig: int | None, reason: str) -> None:
        """Apply the crash guarantee to the tasks `w` had in flight (see module doc)."""
        inflight = list(w.inflight)
        w.inflight.clear()
        if not inflight:
            return
        running_seq, started = w.last_started()
        idx = next((i for i, f in enumerate(inflight) if f._seq == running_seq), -1)
        for i, fut in enumerate(inflight[: idx + 1]):
            op = self.op_of(fut)
            if i == idx and w.timed_out_seq == fut._seq:
                exc: BaseException = TaskTimeout(fut._seq, op, w.timeout_s, w.wid, w.pid)
                self.fail_or_retry(fut, exc, "timeout", w, started)
            else:
                lost = i != idx
                kind = WorkerKilled if reason == "killed" else WorkerCrashed
                exc = kind(w.wid, w.pid, exit_code, sig, fut._seq, op, lost)
                self.fail_or_retry(fut, exc, "crash", w, started if i == idx else 0)
        unstarted = inflight[idx + 1 :]
        if unstarted:
            self.pending.extendleft(reversed(unstarted))

    def resize(self, n: int, reason: str) -> None:
        """Set the target size; grow by spawning, shrink by retiring idle workers first."""
        old = self.target
        self.target = n
        serving = self.serving()
        if n > len(serving):
            self.ensure_size("resize")
        elif n < len(serving):
            excess = len(serving) - n
            order = sorted(
                serving,
                key=lambda w: (w.state is not READY and w.state != "starting", len(w.inflight)),
            )
            for w in order[:excess]:
                self.retire(w, "resize")
        if old != n:
            self.em.pool_resize(old, n, reason)

    # ------------------------------------------------------------------ shutdown
    def shutdown_step(self) -> bool:
        """Drive a closing pool: drain work, then stop workers; True once all have exited."""
        if self.outstanding():
            self.ensure_size("replace")
            return False
        if not self.stop_sent:
            self.stop_sent = True
            for w in list(self.workers.values()):
                if w.state == "starting":
                    self.kill(w, "shutdown")
                else:
                    self.retire(w, "shutdown")
                    w.stop_reason = "shutdown"
        return not self.workers

    def abort(self, exc: BaseException) -> None:
        """The engine failed: fail every outstanding task and kill every worker."""
        err = PoolmonError(f"the pool's IO thread failed: {exc!r}")
        futs: list[PoolFuture] = list(self.pending)
        self.pending.clear()
        futs.extend(f for _, _, f in self.retry_heap)
        self.retry_heap.clear()
        for w in list(self.workers.values()):
            futs.extend(w.inflight)
            futs.extend(w.strict_q)
            w.inflight.clear()
            w.strict_q.clear()
            self.kill(w, "shutdown")
        for fut in futs:
            if fut._state is PENDING or fut._state is RUNNING:
                finish(fut, None, err)

    def close_fds(self) -> None:
        """Release the selector, the wake-up pipe and any sockets still open."""
        for w in list(self.workers.values()):
            try:
                w.sock.close()
            except OSError:
                pass
        try:
            self.sel.close()
        except (OSError, ValueError):
            pass
        for fd in (self.wake_r, self.wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
