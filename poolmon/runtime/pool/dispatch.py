"""Moving tasks to workers: pick workers, honour session affinity, coalesce writes.

Why its own module: this is the other half of the hot path (results are the first, in
engine.py). One dispatch round takes as many queued tasks as the workers' pipelines have
room for, marks them running under one lock, gives each worker an even share (least loaded
first), and queues one joined write per worker; `flush` then sends each with one
non-blocking `send`, parking leftovers until the socket drains.
"""

from __future__ import annotations

import selectors
import time

from poolmon.core.events import TASK_CANCELLED
from poolmon.runtime.pool import framing as fr
from poolmon.runtime.pool.future import FUTURE_LOCK, PENDING, RUNNING, PoolFuture
from poolmon.runtime.pool.state import EngineBase
from poolmon.runtime.pool.taskrows import note_ops
from poolmon.runtime.pool.worker import WorkerHandle

_EVENT_WRITE = selectors.EVENT_WRITE
_EVENT_READ = selectors.EVENT_READ
_TEL_ON = fr.new_packer().pack([fr.TEL_ON])
_TEL_OFF = fr.new_packer().pack([fr.TEL_OFF])


class Dispatcher(EngineBase):
    """Dispatch and writes (mixed into the engine)."""

    # ------------------------------------------------------------------ dispatch
    def has_capacity(self) -> bool:
        """True when some worker can take another task."""
        return any(w.accepting and len(w.inflight) < w.window for w in self.workers.values())

    def dispatch(self) -> None:
        """Move queued tasks to workers: strict-affinity queues first, then the shared queue."""
        if self.tasks_on and self.last_seq > self.stamps.last:
            self.stamps.note(self.last_seq)  # the round's submit checkpoint (submitstamps.py)
        if len(self.pending) == 1 and self.ready_workers and self.dispatch_one():
            return
        ready = [w for w in self.workers.values() if w.accepting and len(w.inflight) < w.window]
        if not ready:
            return
        for w in ready:
            if w.strict_q:
                take = min(w.window - len(w.inflight), len(w.strict_q))
                self.send(w, [w.strict_q.popleft() for _ in range(take)])
        pending = self.pending
        if not pending:
            return
        ready = [w for w in ready if w.accepting and len(w.inflight) < w.window]
        capacity = sum(w.window - len(w.inflight) for w in ready)
        take = min(capacity, len(pending))
        batch: list[PoolFuture] = []
        add = batch.append
        pop = pending.popleft
        special = slow = False
        with FUTURE_LOCK:
            for _ in range(take):
                fut = pop()
                if fut._cond is None:
                    state = fut._state
                    if state is PENDING:
                        fut._state = RUNNING
                    elif state is not RUNNING:
                        continue  # cancelled
                else:
                    slow = True  # someone waits on it: start it under its Condition, below
                add(fut)
                if fut._opts is not None:
                    special = True
        if slow:  # keep submission order: a waited-on task must not lose its place
            kept = []
            for fut in batch:
                if fut._state is RUNNING or fut._start_locked():
                    kept.append(fut)
                elif self.tasks_on:
                    self.task_row(fut, None, TASK_CANCELLED, "", 0)
            batch = kept
        if special:
            batch = self.route_sessions(batch)
        self.spread(batch, ready)
        if self.space_waiters:
            with self.space_cond:
                self.space_cond.notify_all()

    def dispatch_one(self) -> bool:
        """The sequential round trip's dispatch: one plain task, an idle worker; False if not.

        Same choice as the general path (an idle worker, the one that answered last) without
        its lists, sort and batch: a task submitted into an idle pool is sent from the
        submitting thread (`kick`), so this is on the round trip's critical path.
        """
        fut = self.pending[0]
        if fut._opts is not None or fut._cond is not None or fut._state is not PENDING:
            return False
        best = None
        for w in self.workers.values():
            if w.strict_q:
                return False
            if (
                not w.inflight
                and w.accepting
                and w.window > 0
                and (best is None or w.busy_mark_ns > best.busy_mark_ns)
            ):
                best = w
        if best is None:
            return False
        with FUTURE_LOCK:
            if fut._cond is not None or fut._state is not PENDING:
                return False  # somebody started waiting on it, or cancelled it, meanwhile
            fut._state = RUNNING
        self.pending.popleft()
        self.send(best, [fut])
        if self.space_waiters:
            with self.space_cond:
                self.space_cond.notify_all()
        return True

    def spread(self, batch: list[PoolFuture], ready: list[WorkerHandle]) -> None:
        """Give each worker an even share of `batch`, least loaded first."""
        # least loaded first; among equals the one that answered last (it may still be polling)
        ready = sorted(ready, key=lambda w: (len(w.inflight), -w.busy_mark_ns))
        start = 0
        remaining = len(batch)
        for i, w in enumerate(ready):
            if not remaining:
                break
            room = w.window - len(w.inflight)
            if not w.accepting or room <= 0:
                continue
            share = -(-remaining // (len(ready) - i))
            k = min(room, share)
            self.send(w, batch[start : start + k])
            start += k
            remaining -= k
        if remaining:
            self.pending.extendleft(reversed(batch[start:]))

    def send(self, w: WorkerHandle, futs: list[PoolFuture]) -> None:
        """Queue task frames for one worker (defining functions it has not seen yet)."""
        if not futs:
            return
        limit = self.cfg.max_tasks_per_worker
        if limit is not None:
            room = max(0, limit - w.dispatched)  # the limit may have been lowered at run time
            if len(futs) > room:
                self.pending.extendleft(reversed(futs[room:]))
                futs = futs[:room]
        out = w.out
        inflight = w.inflight
        fids = {f._fid for f in futs}
        if not fids <= w.known:
            for fid in fids - w.known:
                if fid >= 0:
                    out.append(_define_frame(fid, self.ft.pickled[fid]))
            w.known |= fids
        if self.tasks_on:
            if not w.timed:
                w.timed = True
                out.append(_TEL_ON)
            note_ops(w, futs, fids, self.ft.fid_op)  # the ops of these tasks' rows
        elif w.timed:
            w.timed = False
            out.append(_TEL_OFF)
        out.append(b"".join([f._frame for f in futs]))
        inflight.extend(futs)
        if not inflight or len(inflight) == len(futs):
            w.busy_mark_ns = time.monotonic_ns()  # busy period starts now
        w.dispatched += len(futs)
        if not w.dirty:
            w.dirty = True
            self.dirty.append(w)
        self.mark_busy(w)
        if limit is not None and w.dispatched >= limit:
            self.retire(w, "recycle_tasks")  # type: ignore[attr-defined]
            self.ensure_size("recycle")  # type: ignore[attr-defined]

    def route_sessions(self, batch: list[PoolFuture]) -> list[PoolFuture]:
        """Send session-tagged tasks per their affinity; return the rest for `spread`."""
        plain: list[PoolFuture] = []
        now = time.monotonic_ns()
        for fut in batch:
            opts = fut._opts
            if opts is None or opts.session is None:
                plain.append(fut)
                continue
            session = opts.session
            mode = opts.affinity or self.cfg.session_affinity
            wid = self.sessions.lookup(session)
            bound = self.workers.get(wid) if wid is not None else None
            if bound is not None and not bound.accepting:
                bound = None
            live = [w for w in self.workers.values() if w.accepting]
            if bound is None:
                room = [w for w in live if len(w.inflight) < w.window]
                if not room:
                    plain.append(fut)  # no capacity: spread() puts it back in the queue
                    continue
                target = min(room, key=lambda w: len(w.inflight))
                self.sessions.rebind(session, target.wid, now)
                self.sessions.use(session, target.wid, now, hit=False)
                self.send(target, [fut])
            elif mode == "strict":
                self.sessions.use(session, bound.wid, now, hit=True)
                if len(bound.inflight) < bound.window and not bound.strict_q:
                    self.send(bound, [fut])
                else:
                    bound.strict_q.append(fut)
            else:
                idle = [w for w in live if not w.inflight]
                if bound.inflight and idle:
                    self.sessions.use(session, bound.wid, now, hit=False)
                    self.send(idle[0], [fut])
                elif len(bound.inflight) < bound.window:
                    self.sessions.use(session, bound.wid, now, hit=True)
                    self.send(bound, [fut])
                else:
                    plain.append(fut)
        return plain

    # ------------------------------------------------------------------ writes
    def flush(self) -> None:
        """One non-blocking send per worker with queued frames; leftovers wait for EVENT_WRITE."""
        dirty = self.dirty
        if not dirty:
            return
        self.dirty = []
        for w in dirty:
            w.dirty = False
            if w.exited:
                w.out.clear()
                continue
            if w.out_tail or not w.out:
                continue  # full socket: write() resumes when it drains
            data = b"".join(w.out) if len(w.out) > 1 else w.out[0]
            w.out.clear()
            self.send_bytes(w, data)

    def send_bytes(self, w: WorkerHandle, data: bytes | memoryview) -> None:
        """Send what the socket takes now; remember the rest (a view: no copy per send)."""
        try:
            sent = w.sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            sent = len(data)  # the worker is gone; on_exit re-queues its unstarted tasks
        if sent < len(data):
            w.out_tail = memoryview(data)[sent:]
            if not w.want_write and not w.eof:
                w.want_write = True
                self.sel.modify(w.fd, _EVENT_READ | _EVENT_WRITE, ("sock", w))
        elif w.want_write:
            w.want_write = False
            if not w.eof:  # at EOF read() has already unregistered the socket
                self.sel.modify(w.fd, _EVENT_READ, ("sock", w))

    def write(self, w: WorkerHandle) -> None:
        """The socket drained: send the leftover and anything queued since."""
        if w.eof:  # the worker is exiting: nothing more reaches it
            w.out_tail = b""
            w.out.clear()
            return
        data = b"".join([w.out_tail, *w.out]) if w.out else w.out_tail
        w.out_tail = b""
        w.out.clear()
        self.send_bytes(w, data)


def _define_frame(fid: int, blob: bytes) -> bytes:
    return fr.new_packer().pack([fr.DEFINE, fid, blob])  # type: ignore[no-any-return]
