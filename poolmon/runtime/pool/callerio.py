"""Caller-runs IO: the submitting or waiting thread moves the bytes itself when the pool is idle.

Why: a round trip through an idle pool handed over by the IO thread costs four wake-ups (caller
-> IO thread -> worker -> IO thread -> caller); done by the caller it costs two, the floor of
any cross-process round trip. So whoever holds `io_lock` does the IO: `kick` sends a task into
an idle pool from the submitting thread, `drive` polls the workers' sockets from a thread
waiting in `result()`, `pump` collects and refills every 32 submits of a tight loop.

The IO thread must also stay asleep while that happens. It watches every worker socket, so a
result arriving for a task the caller sent used to wake it as well: it then fought the caller
for the GIL and the IO lock, and often won, handing the result over the slow way (measured,
docs/BENCHMARKS.md "rtt": 1.7 IO-thread wake-ups per round trip, p50 43 µs; without them 29
µs). So `kick` takes the worker's socket out of the IO thread's epoll before sending (one
`epoll_ctl`) when the task it sent is the worker's only one and nobody waits on its future
yet; the socket is given back (`rearm`, one more `epoll_ctl`) by `drive` when it returns, by
`pump`, by the IO thread whenever it wakes (its tick is 20 ms), and at once when anybody else
starts waiting on a future (its Condition is created: `cf.wait`, `as_completed`,
`add_done_callback`, `done()`; see `PoolFuture._condition`). A result nobody asks for is then
collected by the IO thread's next tick, at most 20 ms later, instead of at once.

How the waiting caller sleeps matters too. When the one worker with work in flight has its
task, the caller may block in `recv` on that worker's socket (`wait_on_worker`) rather than
in `poll`, or, for tasks under `SPIN_TASK_NS`, first spin on the worker's result ring
(`spin_on_worker`). A thread blocked in `recv` is also woken when the worker reads the task
it was sent (the kernel's write-space wake-up is not keyed by what the sleeper waits for): on
a VM whose idle CPUs halt at once, that early wake-up brings the caller's CPU out of its halt
while the worker runs the task, and the round trip across CPUs measured 47 µs instead of 72;
a spinning caller does not halt at all (docs/BENCHMARKS.md "Round trip: how the caller
sleeps"). Elsewhere either can cost instead, so the pool measures the ways and uses the
fastest (waitchoice). The spin reads a word of shared memory, the ring's commit count, and
touches the socket only when the worker has committed bytes; between looks it yields the CPU
(a worker sharing it runs at once, not after the spin); it ends at twice the worker's recent
time per task or `SPIN_MAX_NS`, whichever comes first, and the caller then sleeps the faster
blocking way. The socket is switched to blocking only for a `recv` wait, and the read
is bounded by what is left of `DRIVE_NS` (`SO_RCVTIMEO`, which the kernel counts in timer
ticks: up to two ticks longer, 8 ms on a 250 Hz kernel; the limit is set again only when what
is left falls under half of it). Only while the worker's recent tasks took under
`BLOCKING_WAIT_TASK_NS`: an answer then comes well within the bound, and a caller waiting for a
long task polls, holding the IO lock no longer than `DRIVE_NS`. And only for a caller with no
timeout or one of at least `BLOCKING_WAIT_MIN_TIMEOUT_S`: `result(timeout=0.001)` must not
take a timer tick.
"""

from __future__ import annotations

import contextlib
import os
import select
import selectors
import socket
import struct
import time
from collections.abc import Sequence
from typing import Any, Final

from poolmon.runtime.pool.dispatch import Dispatcher
from poolmon.runtime.pool.future import PENDING, RUNNING, PoolFuture
from poolmon.runtime.pool.ring import SLOT_COMMIT
from poolmon.runtime.pool.waitchoice import BLOCKING, CALLER, WaitChoice
from poolmon.runtime.pool.worker import WorkerHandle

DRIVE_NS: Final = 2_000_000
"""How long a waiting caller polls the workers itself before it falls back to the Condition."""
BLOCKING_WAIT_TASK_NS: Final = 500_000
"""A worker whose recent tasks took less (its EWMA) is waited on in a blocking `recv`."""
BLOCKING_WAIT_MIN_TIMEOUT_S: Final = 0.05
"""A caller's timeout below this is waited for in `poll`, which keeps to the microsecond."""
SPIN_TASK_NS: Final = 100_000
"""A worker whose recent tasks took less (its EWMA) may be waited for spinning first."""
SPIN_MAX_NS: Final = 100_000
"""The longest a caller spins before it sleeps (the spin also ends at twice the EWMA)."""
yield_cpu = os.sched_yield
"""What a spinning caller calls between looks at the ring (module attribute: tests count it)."""
LOCK_WAIT_S: Final = 0.001
"""How long a waiting caller waits for the IO lock (the IO thread ending a round) before it
falls back to the Condition: the hand-over through the IO thread costs two more wake-ups."""


class CallerIO(Dispatcher):
    """`kick`, `pump` and `drive`, and the IO thread's epoll kept quiet meanwhile (mixed in)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        epoll = getattr(self.sel, "_selector", None)  # the IO thread's (an EpollSelector's)
        self.epoll: select.epoll | None = epoll if isinstance(epoll, select.epoll) else None
        """None where the selector is not epoll: sockets are then never hidden."""
        self.disarmed: set[int] = set()
        """Worker sockets hidden from the IO thread's epoll now."""
        self.wait_choices = {True: WaitChoice(CALLER), False: WaitChoice(BLOCKING)}
        """How a caller waiting for the one busy worker sleeps (`poll_until`), by whether the
        worker's tasks are short enough to spin for: each learns from its own class of tasks
        (a median round trip includes the task, so ways measured on longer tasks would look
        slower than the spin measured on short ones)."""

    def handle(self, events: Sequence[tuple[selectors.SelectorKey, int]]) -> None:
        """React to ready file descriptors (the engine's)."""
        raise NotImplementedError

    def read(self, w: WorkerHandle) -> None:
        """Read what a worker sent (the engine's)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ entry points
    def kick(self) -> None:
        """A submit into an idle pool: send it now if the IO lock is free, else wake the thread."""
        if self.io_lock.acquire(False):
            try:
                if self.fatal is None:
                    self.dispatch()
                    if self.pending:  # queued work: the IO thread must see what makes room
                        if self.disarmed:
                            self.rearm()
                    elif self.epoll is not None:
                        self.disarm_sole()
                    self.flush()
            finally:
                self.io_lock.release()
        else:
            self.wake()

    def pump(self) -> None:
        """Caller-runs IO: collect ready results and refill workers without waiting."""
        if self.io_lock.acquire(False):
            try:
                if self.fatal is None:
                    if self.disarmed:
                        self.rearm()
                    self.handle(self.sel.select(0))
                    self.dispatch()
                    self.flush()
            finally:
                self.io_lock.release()

    def drive(self, fut: PoolFuture, timeout: float | None) -> None:
        """Caller-runs wait: poll the workers' sockets from the waiting thread for a moment.

        Only when the IO lock is free or soon free (the IO thread is parked or ending a round)
        and for at most `DRIVE_NS` (so supervision is never held up); then the caller falls
        back to the Condition. It first reads without waiting: the answer is often there
        already (the submit's wake-up ran the worker at once on a shared CPU), and then no
        poll object is built and no `poll` made.
        """
        if timeout is not None and timeout <= 0:
            return  # result(timeout=0): no waiting at all, the Condition path says TimeoutError
        if not self.io_lock.acquire(True, LOCK_WAIT_S):
            return
        try:
            if self.fatal is not None:
                return
            counters = self.counters
            answered = counters.results
            for w in tuple(self.workers.values()):
                if w.inflight and not w.eof and not w.exited:
                    self.read(w)  # non-blocking: nothing there costs one failed recv
            if counters.results != answered:
                self.refill()
            if fut._state is RUNNING or fut._state is PENDING:
                self.poll_until(fut, timeout)
        finally:
            # A hidden socket stays hidden while its worker has nothing in flight (the next
            # `kick` would hide it again; what else it may send, telemetry, waits for the IO
            # thread's next wake-up, at most a tick); with tasks in flight it goes back now.
            if self.disarmed and any(w.inflight for w in self.workers.values()):
                self.rearm()
            self.io_lock.release()

    def poll_until(self, fut: PoolFuture, timeout: float | None) -> None:
        """`drive`'s wait: read the workers' sockets until `fut` is done or time is up.

        A future on the one busy worker, whose tasks have been short, is waited for the way
        its class's `WaitChoice` picks, and the round trip it took is reported back to it. A
        spin whose bound has already passed (the caller came late) is not made: the wait is
        the faster blocking way's, and counts as that.
        """
        now = time.monotonic_ns()
        limit = DRIVE_NS if timeout is None else min(DRIVE_NS, int(timeout * 1e9))
        end = now + limit
        if fut._state is RUNNING and (timeout is None or timeout >= BLOCKING_WAIT_MIN_TIMEOUT_S):
            sole = self.sole_busy()
            if sole is not None and 0 <= sole.task_ns < BLOCKING_WAIT_TASK_NS:
                sent = sole.busy_mark_ns  # when its task was sent (its busy period began)
                choice = self.wait_choices[sole.task_ns < SPIN_TASK_NS]
                way = choice.pick()
                if way == "spin":
                    until = min(end, now + SPIN_MAX_NS, sent + 2 * int(sole.task_ns))
                    if until > now:
                        self.spin_on_worker(fut, sole, until)
                    else:
                        way = choice.fastest(BLOCKING)  # too late to spin
                if way != "spin":
                    self.sleep_on(way, fut, sole, end)
                elif not _settled(fut) and not sole.eof and not sole.exited:
                    self.sleep_on(choice.fastest(BLOCKING), fut, sole, end)
                if _settled(fut):
                    choice.note(way, time.monotonic_ns() - sent)
                return
        self.poll_workers(fut, end)

    def sleep_on(self, way: str, fut: PoolFuture, w: WorkerHandle, end: int) -> None:
        """Wait for `fut` on worker `w` blocked in `recv` or (any other way) in `poll`."""
        if way == "recv":
            self.wait_on_worker(fut, w, end)
        else:
            self.poll_workers(fut, end)

    def spin_on_worker(self, fut: PoolFuture, w: WorkerHandle, until: int) -> None:
        """Spin until `fut` is done or `until` (monotonic ns), without sleeping (module doc).

        Watches the worker's commit count in shared memory and reads the socket only once it
        is past what was received (the bytes may still be on their way: then it reads again).
        Between looks it yields the CPU (`sched_yield`): a worker, or anything else, waiting
        for this CPU runs at once instead of after the spin; with nothing else runnable the
        call returns at once. Two answers it cannot see coming: a result too large for the
        ring (sent before it is counted) and a worker's death. Either waits for the bound,
        then for the blocking way that follows.
        """
        slot = w.slot
        mono = time.monotonic_ns
        read = self.read
        give_way = yield_cpu
        while fut._state is RUNNING or fut._state is PENDING:
            received = w.rx
            if slot[SLOT_COMMIT] > received:
                read(w)
                if w.eof or w.exited:
                    return
                if w.rx != received:
                    self.refill()
            if mono() >= until:  # also when committed bytes do not come (a stopped worker)
                return
            if w.rx == received:
                give_way()  # nothing came: let whoever waits for this CPU run

    def poll_workers(self, fut: PoolFuture, end: int) -> None:
        """Wait in `poll` on every worker socket, reading what comes, until `fut` is done."""
        poller = select.poll()
        socks = {}
        for w in self.workers.values():
            if not w.eof:
                poller.register(w.fd, select.POLLIN)
                socks[w.fd] = w
        while socks and (fut._state is RUNNING or fut._state is PENDING):
            left = end - time.monotonic_ns()
            if left <= 0:
                return
            ready = poller.poll(left / 1e6)
            for fd, _ in ready:
                w = socks[fd]
                if not w.exited and not w.eof:
                    self.read(w)
                if w.exited or w.eof:  # gone: the IO thread settles it via its sentinel
                    poller.unregister(fd)
                    del socks[fd]
            if ready:
                self.refill()

    def sole_busy(self) -> WorkerHandle | None:
        """The only worker with tasks in flight, if exactly one has any and it is alive.

        A running future is then on that worker: its socket is the only one to wait on.
        """
        busy = None
        for w in self.workers.values():
            if w.inflight:
                if busy is not None:
                    return None
                busy = w
        if busy is None or busy.eof or busy.exited:
            return None
        return busy

    def wait_on_worker(self, fut: PoolFuture, w: WorkerHandle, end: int) -> None:
        """`poll_until` for one worker: block in `recv` on its socket (module doc: why).

        Each read waits about until `end`: its limit is rounded up to timer ticks by the
        kernel, and a limit set earlier is kept while what is left is over half of it (so a
        read may take up to one tick more; module doc); the socket is non-blocking again
        before anything else touches it (`refill` may write to it, and a blocking write could
        wait on a worker that waits on us).
        """
        sock = w.sock
        while fut._state is RUNNING or fut._state is PENDING:
            left_us = (end - time.monotonic_ns()) // 1000
            if left_us <= 0:
                return
            try:
                if not w.rcvtimeo_us // 2 < left_us <= w.rcvtimeo_us:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _timeval(left_us))
                    w.rcvtimeo_us = left_us
                sock.setblocking(True)
            except OSError:
                return  # closed meanwhile: the IO thread settles the worker
            try:
                self.read(w)  # blocks until data, EOF or the read's time limit
            finally:
                with contextlib.suppress(OSError):
                    sock.setblocking(False)
            if w.eof or w.exited:
                return
            self.refill()

    def refill(self) -> None:
        """Results freed room on workers: send what waits for it (caller holds `io_lock`).

        With nothing queued, only the round's submit checkpoint is due (what `dispatch`
        would do first, without building its list of ready workers).
        """
        if self.pending or any(w.strict_q for w in self.workers.values()):
            self.dispatch()
        elif self.tasks_on and self.last_seq > self.stamps.last:
            self.stamps.note(self.last_seq)
        self.flush()

    # ------------------------------------------------------------------ the IO thread's epoll
    def disarm_sole(self) -> None:
        """Hide the just-dispatched worker from the IO thread if its task is a caller's alone.

        Only a worker with exactly one task in flight whose future has no Condition yet (no
        waiter, no callback): the submitting thread will `drive` it, or somebody waiting
        creates the Condition, which gives the socket back (`release_disarmed`).
        """
        epoll = self.epoll
        assert epoll is not None
        for w in self.dirty:
            if len(w.inflight) == 1 and w.inflight[0]._cond is None and w.fd not in self.disarmed:
                try:
                    epoll.modify(w.fd, 0)
                except OSError:
                    continue
                self.disarmed.add(w.fd)

    def rearm(self) -> None:
        """Give every hidden socket back to the IO thread's epoll (caller holds `io_lock`)."""
        epoll = self.epoll
        assert epoll is not None
        registered = self.sel.get_map()
        for fd in self.disarmed:
            key = registered.get(fd)
            if key is not None:
                events = (select.EPOLLIN if key.events & selectors.EVENT_READ else 0) | (
                    select.EPOLLOUT if key.events & selectors.EVENT_WRITE else 0
                )  # the selector's constants are not epoll's
                try:
                    epoll.modify(fd, events)
                except OSError:
                    pass  # closed meanwhile: the worker is gone, its sentinel settles it
        self.disarmed.clear()

    def release_disarmed(self) -> None:
        """Somebody now waits through a Condition: let the IO thread see results again.

        Any thread may call this. With the IO lock free the socket is given back here;
        otherwise its holder gives it back when done (`drive`), or the IO thread does on the
        wake-up this sends.
        """
        if self.io_lock.acquire(False):
            try:
                if self.disarmed:
                    self.rearm()
            finally:
                self.io_lock.release()
        else:
            self.wake()


def _timeval(us: int) -> bytes:
    """A `struct timeval` of `us` microseconds (for `SO_RCVTIMEO`)."""
    return struct.pack("ll", us // 1_000_000, us % 1_000_000)


def _settled(fut: PoolFuture) -> bool:
    """Whether `fut` has its outcome (finished or cancelled): no longer waited for."""
    return fut._state is not RUNNING and fut._state is not PENDING
