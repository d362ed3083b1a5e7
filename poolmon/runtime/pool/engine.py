"""The pool's IO engine: one thread that moves task frames out and results in.

Why one IO thread plus "caller runs": an IO thread is what lets futures complete while nobody
is calling into the pool; but while a caller submits in a tight loop it holds the GIL, and a
woken IO thread would wait up to the 5 ms switch interval for it. So whoever holds `io_lock`
does the IO: the IO thread normally, and a submitting thread every 32 submits (`pump`) or
when the pool was idle (`kick`, which sends the task straight to a worker: the low-latency
path; see callerio.py). Writes are coalesced (one send per worker per round); results are
completed in batches under `FUTURE_LOCK` (see future.py).
"""

from __future__ import annotations

import heapq
import os
import pickle
import selectors
import sys
import time
import traceback
from collections.abc import Sequence
from typing import Any

from poolmon.runtime.pool import framing as fr
from poolmon.runtime.pool.callerio import CallerIO
from poolmon.runtime.pool.errors import (
    PoolClosed,
    RemoteError,
    RemoteTraceback,
    UnpickleError,
    describe_error,
)
from poolmon.runtime.pool.future import (
    FINISHED,
    FUTURE_LOCK,
    PENDING,
    RUNNING,
    PoolFuture,
    finish,
)
from poolmon.runtime.pool.lifecycle import Lifecycle
from poolmon.runtime.pool.supervisor import Supervisor
from poolmon.runtime.pool.taskrows import buffer_frame, skip_rows, take_rows
from poolmon.runtime.pool.worker import BUSY, READY, WorkerHandle

_EVENT_WRITE = selectors.EVENT_WRITE
_EVENT_READ = selectors.EVENT_READ
_READ_SIZE = 1 << 20
PIPELINE_NS = 2_000_000


def decode_error(status: int, payload: Any) -> tuple[BaseException, str]:
    """(exception, traceback text) from an error frame's payload; never raises.

    A pickled exception is re-raised as itself with the worker's traceback as its cause; one
    that does not unpickle here (whatever that raises) becomes a `RemoteError` wrapping why.
    """
    if status != fr.R_ERROR:
        return RemoteError(payload[0], payload[1], payload[2]), payload[2]
    try:
        exc, tb = pickle.loads(payload)
        exc.__cause__ = RemoteTraceback(tb)
        return exc, tb
    except BaseException as err:
        error = RemoteError(
            type(err).__qualname__, f"exception could not be unpickled: {describe_error(err)}", ""
        )
        error.__cause__ = err
        return error, ""


class Engine(CallerIO, Lifecycle, Supervisor):
    """Dispatch, result handling and the IO thread loop."""

    _ops_table: tuple[str, ...] = ()
    read_view: memoryview | None = None
    """`read`'s buffer, made at the first read."""

    # ------------------------------------------------------------------ thread entry points
    def run(self) -> None:
        """The IO thread: wait for sockets or a wake-up, then do one round of work."""
        events: list[tuple[selectors.SelectorKey, int]] = []
        try:
            while True:
                with self.io_lock:
                    self.sleeping = False
                    if self.disarmed:
                        self.rearm()  # a caller hid a socket while driving (callerio.py)
                    self.handle(events)
                    if self.round():
                        break
                    timeout = self.next_timeout()
                    self.sleeping = True
                    if self.pending and self.has_capacity():
                        self.sleeping = False
                        timeout = 0.0
                events = self.sel.select(timeout)
        except BaseException as exc:  # the engine must never leave futures hanging silently
            self.fatal = exc
            self.closing = True
            self.refresh_submit_path()
            traceback.print_exc(file=sys.stderr)
            self.em.error(
                "pool", "critical", type(exc).__qualname__, f"pool IO thread failed: {exc}"
            )
            with self.io_lock:
                self.abort(exc)
        finally:
            self.close_fds()
            self.fail_stragglers()
            self.finished.set()
            if self.on_finished is not None:
                try:
                    self.on_finished()
                except Exception as exc:
                    self.em.error("pool", "warning", type(exc).__qualname__, str(exc))

    # ------------------------------------------------------------------ one round
    def round(self) -> bool:
        """Supervise if due, dispatch, flush; True when a closing pool has finished."""
        now = time.monotonic_ns()
        if self.abandoned and not self.closing:
            self.closing = True  # the pool was collected: wind down as after shutdown()
            self.refresh_submit_path()
        if now >= self.next_tick_ns:
            self.tick(now)
        self.dispatch()
        self.flush()
        return self.closing and self.shutdown_step()

    def handle(self, events: Sequence[tuple[selectors.SelectorKey, int]]) -> None:
        """React to ready file descriptors (events may be stale if a caller pumped)."""
        for key, mask in events:
            kind, w = key.data
            if kind == "sock":
                if w.exited:
                    continue
                if mask & _EVENT_READ:
                    self.read(w)
                if mask & _EVENT_WRITE and not w.exited:
                    self.write(w)
            elif kind == "exit":
                if not w.exited:
                    self.on_exit(w)
            else:
                try:
                    while os.read(self.wake_r, 4096):
                        pass
                except (BlockingIOError, OSError):
                    pass

    # ------------------------------------------------------------------ results
    def read(self, w: WorkerHandle) -> None:
        """Read what a worker sent; EOF means it is exiting (its sentinel settles the rest).

        Into one buffer kept for the pool's life (only the `io_lock` holder reads, and the
        unpacker copies what it is fed): `recv(1 MiB)` would allocate a fresh 1 MiB object
        per read, which glibc serves with mmap, mremap and munmap plus a page fault (~20 µs
        on a VM) unless something in the process happened to raise its mmap threshold.
        """
        view = self.read_view
        if view is None:
            view = self.read_view = memoryview(bytearray(_READ_SIZE))
        try:
            n = w.sock.recv_into(view)
        except BlockingIOError:
            return
        except OSError:
            n = 0
        if not n:
            w.eof = True
            w.eof_ns = time.monotonic_ns()
            try:
                self.sel.unregister(w.fd)
            except (KeyError, ValueError):
                pass
            return
        self.consume(w, view[:n])

    def consume(self, w: WorkerHandle, data: bytes | memoryview) -> None:
        """Decode frames and complete futures; the common case under one lock, no conditions."""
        w.rx += len(data)
        w.unpacker.feed(data)
        pop = w.inflight.popleft
        slow: list[tuple[PoolFuture, list[Any]]] = []
        ctrl: list[list[Any]] = []
        n = 0
        with FUTURE_LOCK:
            for frame in w.unpacker:
                if frame[0] < 0:
                    ctrl.append(frame)
                    continue
                fut = pop()
                n += 1
                if frame[1] == 0 and fut._cond is None:
                    fut._result = frame[2]
                    fut._exception = None
                    fut._state = FINISHED
                else:
                    slow.append((fut, frame))
        if n:
            w.tasks_done += n
            self.counters.results += n
            self.adapt_window(w, n)
            for fut, frame in slow:
                self.finish_slow(w, fut, frame)
            if not w.inflight and w.state is BUSY:
                self.set_state(w, READY, "checkin")
        for frame in ctrl:
            self.on_control(w, frame)

    def adapt_window(self, w: WorkerHandle, n: int) -> None:
        """Pipeline depth from observed task time: deep for tiny tasks, shallow for slow ones.

        Why: sending many tasks ahead hides the round trip when tasks take microseconds, but
        when they take milliseconds it parks work on one worker that an idle (or newly
        started) worker could have run. So each worker keeps about `PIPELINE_NS` of work in
        flight, from an EWMA of the time per result while it was busy; a new worker starts
        at 1 and opens up as fast results come back (like TCP slow start).

        A task sent ahead waits behind whatever the worker runs, however long: a worker busy
        with a 60 s call would hold the next task for 60 s while others sit idle (measured:
        batches of 5 ms tasks beside a 1 s task took 1 s at p99, ProcessPoolExecutor 28 ms).
        So nothing is sent ahead to a worker whose recent tasks took over `PIPELINE_NS` (the
        EWMA below, which a long task raises when it ends): its window is 1, and the idle gap
        this costs (one round trip, ~40 µs on an idle machine) is under 2 % of such a task.
        Faster workers keep at least one ahead, where the gap would cost more; a long task
        that lands on one may still hold up to a window of work behind it (docs/POOL.md,
        "Queue and pipelining"). A new worker's task time is unknown: it starts at 1.
        """
        now = time.monotonic_ns()
        per_task = (now - w.busy_mark_ns) / n
        w.busy_mark_ns = now
        avg = w.task_ns = per_task if w.task_ns < 0 else (w.task_ns * 3 + per_task) / 4
        cap = self.cfg.max_in_flight
        want = int(PIPELINE_NS / avg) if avg > 0 else cap
        floor = 1 if avg > PIPELINE_NS else min(2, cap)
        w.window = max(floor, min(cap, want, w.window * 2))

    def finish_slow(self, w: WorkerHandle, fut: PoolFuture, frame: list[Any]) -> None:
        """Results that need decoding, exceptions, and futures somebody is waiting on.

        Unpickling runs user code (`__reduce__`, `__setstate__`), in this IO thread or in a
        caller's thread driving the IO: whatever it raises, even SystemExit, fails this one
        future with an `UnpickleError` wrapping it, never the thread.
        """
        status, payload = frame[1], frame[2]
        value: Any = None
        exc: BaseException | None = None
        tb = ""
        if status == fr.R_OK:
            value = payload
        elif status == fr.R_OK_PICKLED:
            try:
                value = pickle.loads(payload)
            except BaseException as err:
                exc = UnpickleError(
                    f"the result of task {fut._seq} ({self.op_of(fut)})",
                    "in the pool",
                    describe_error(err),
                )
                exc.__cause__ = err
        else:
            exc, tb = decode_error(status, payload)
        if exc is not None:
            self.counters.failed += 1
            if w.timed:  # its row's error type, should the worker die before reporting it
                # interned: a builtin type's __qualname__ is a new string on every read, and
                # up to 4,096 of these are kept per worker
                w.answer_errors.append((fut._seq, sys.intern(type(exc).__qualname__)))
            dur = frame[3] if len(frame) > 3 else 0
            self.em.task_exception(w, fut._seq, self.op_of(fut), exc, tb, dur)
        finish(fut, value, exc)

    def on_control(self, w: WorkerHandle, frame: list[Any]) -> None:
        """Frames that are not results: ready, task telemetry, user events."""
        tag = frame[0]
        if tag == fr.READY:
            self.on_ready(w)
        elif tag == fr.INIT_FAILED:
            self.on_init_failed(w, decode_error(frame[1], frame[2])[0])
        elif tag == fr.TASKS:
            self.on_tasks_frame(w, frame)
        elif tag == fr.EVENTS:
            try:
                events = pickle.loads(frame[1])
            except BaseException as exc:  # user data: never the IO thread's end
                self.em.error(
                    "telemetry", "warning", type(exc).__qualname__, describe_error(exc), w.wid
                )
                return
            self.em.worker_events(w, events)

    def on_tasks_frame(self, w: WorkerHandle, frame: list[Any]) -> None:
        """Per-task telemetry from a worker: kept until a batch is full (taskrows)."""
        try:
            due = buffer_frame(w, frame)
        except Exception as exc:  # telemetry must never take the pool down
            self.em.error("telemetry", "warning", type(exc).__qualname__, str(exc), w.wid)
            skip_rows(w, frame)
            return
        if due:
            self.flush_rows(w)

    def flush_rows(self, w: WorkerHandle) -> None:
        """Emit the task rows kept for `w`, joined from its edge ring and our books (taskrows).

        A failure here (a bug, or a stream that disagrees with the books) is reported as a
        poolmon.error event and costs those rows, never the pool.
        """
        ops = self.ft.ops
        if len(ops) != len(self._ops_table):
            self._ops_table = tuple(ops)
        try:
            batch = take_rows(w, self._ops_table, self.stamps)
        except Exception as exc:
            self.em.error("telemetry", "warning", type(exc).__qualname__, str(exc), w.wid)
            return
        if batch is not None:
            self.em.tasks(batch)

    def fail_stragglers(self) -> None:
        """Tasks that raced a finished shutdown get PoolClosed instead of hanging."""
        while self.pending:
            fut = self.pending.popleft()
            if fut._state is PENDING or fut._state is RUNNING:
                finish(fut, None, PoolClosed("the pool shut down before this task could run"))

    # ------------------------------------------------------------------ retries and timing
    def due_retries(self, now: int) -> None:
        """Put idempotent tasks whose backoff has passed back at the front of the queue."""
        heap = self.retry_heap
        while heap and heap[0][0] <= now:
            _, _, fut = heapq.heappop(heap)
            self.pending.appendleft(fut)
