"""The pool's record of one worker process, its state machine, and how it is started.

States: starting -> ready <-> busy -> (degraded) -> stopping -> stopped. Every transition
keeps its reason and the time spent in the previous state; every exit records its reason,
exit code and signal, because "which worker died, why, and what it was doing" is the question
the standard library pools cannot answer.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from typing import Any, Final

from poolmon.runtime.pool import framing as fr
from poolmon.runtime.pool.edges import TIMED_START, EdgeRing, fresh_ids
from poolmon.runtime.pool.future import PoolFuture
from poolmon.runtime.pool.ring import RING_BYTES, SLOT_COMMIT, read_ring
from poolmon.runtime.pool.stackdump import stack_dir
from poolmon.runtime.pool.worker_main import (
    SLOT_SEQ,
    SLOT_START,
    SLOT_WORDS,
    slot_view,
    worker_main,
)

STARTING: Final = "starting"
READY: Final = "ready"
BUSY: Final = "busy"
DEGRADED: Final = "degraded"
STOPPING: Final = "stopping"
STOPPED: Final = "stopped"

START_METHODS: Final = ("forkserver", "spawn", "fork")

_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True, slots=True)
class ExitRecord:
    """How a worker process ended.

    Attributes:
        worker_id: The worker.
        pid: Its pid.
        reason: crash | timeout | recycle_tasks | recycle_memory | health | resize | shutdown
            | recycle | start_failed | initializer.
        exit_code: Exit status if it exited, else None.
        signal: Terminating signal if it was killed, else None.
        lifetime_s: Seconds from spawn to exit.
        tasks_done: Tasks it finished.
        slot: Its slot in the pool (its replacement takes it): crash loops are per slot.
    """

    worker_id: int
    pid: int
    reason: str
    exit_code: int | None
    signal: int | None
    lifetime_s: float
    tasks_done: int
    slot: int


class WorkerHandle:
    """Parent-side state of one worker; touched only under the pool's IO lock."""

    def __init__(
        self,
        wid: int,
        slot_index: int,
        proc: Any,
        sock: socket.socket,
        raw_slot: Any,
        raw_ring: Any,
        raw_edges: tuple[Any, Any],
    ) -> None:
        self.wid = wid
        self.slot_index = slot_index
        self.proc = proc
        self.pid: int = proc.pid or -1
        self.sock = sock
        self.fd = sock.fileno()
        self.sentinel: int = proc.sentinel
        self.raw_slot = raw_slot
        self.slot = slot_view(raw_slot)
        self.raw_ring = raw_ring
        self.ring = memoryview(raw_ring).cast("B")
        self.edges = EdgeRing(*raw_edges)
        self.rx = 0  # stream bytes received from this worker
        self.unpacker = fr.new_unpacker()
        self.inflight: deque[PoolFuture] = deque()
        self.strict_q: deque[PoolFuture] = deque()
        self.out: list[bytes] = []
        self.out_tail: bytes | memoryview = b""  # what a partial send left to write
        self.want_write = False
        self.known: set[int] = set()
        # Per-task telemetry (see worker_main._TaskStamps and taskrows): whether the worker
        # records task rows; the int64 columns copied from its edge ring, not yet joined into
        # a batch (taskrows.buffer_frame); the ops of what we sent it.
        self.timed = False
        self.start_buf = bytearray()
        self.error_buf = bytearray()
        self.seq_buf = bytearray()
        self.range_ends: list[tuple[int, int]] = []  # (rows, end ns of the last) per range
        self.edge_last = 0  # edge-ring index of the last entry a report covered
        # (seq, exception type) of recent failed answers, for rows a dead worker never
        # reported (taskrows.recover_unreported); bounded: at most a window is unreported
        self.answer_errors: deque[tuple[int, str]] = deque(maxlen=4096)
        # [count, op or op column, first seq] per send while timed, not yet matched with rows
        self.sent_ops: deque[list[Any]] = deque()
        self.err_names: list[str] = [""]
        now = time.monotonic_ns()
        self.spawned_ns = now
        self.state = STARTING
        self.state_since_ns = now
        self.ready_ns = 0
        self.tasks_done = 0
        self.missed = 0
        self.last_check_ns = now
        self.stop_reason: str | None = None  # set once the pool decided this worker ends
        self.timed_out_seq = -1
        self.timeout_s = 0.0
        self.stop_sent = False
        self.killed = False
        self.eof = False
        self.eof_ns = 0
        self.exited = False
        self.dirty = False
        self.dispatched = 0
        self.window = 1  # tasks that may be in flight; grows with fast results (engine)
        self.task_ns = -1.0  # EWMA of time per result while busy
        self.busy_mark_ns = now
        self.rcvtimeo_us = 0  # the socket's SO_RCVTIMEO as last set (callerio.wait_on_worker)
        self.rss_bytes = 0

    @property
    def accepting(self) -> bool:
        """True when new tasks may be sent here."""
        return self.stop_reason is None and (self.state is READY or self.state is BUSY)

    @property
    def alive(self) -> bool:
        """True until the process has exited and been reaped."""
        return not self.exited

    def read_rss(self) -> int:
        """Current RSS from /proc/PID/statm (sampled from the pool, so a stuck worker counts)."""
        try:
            with open(f"/proc/{self.pid}/statm", "rb") as fh:
                self.rss_bytes = int(fh.read().split()[1]) * _PAGE
        except (OSError, ValueError, IndexError):
            pass
        return self.rss_bytes

    def is_running(self) -> bool:
        """True when the worker's main thread is running or runnable (from /proc/PID/stat).

        State R (running or waiting for a CPU) or D (in the kernel) means the process is
        working; a stopped (T), sleeping-forever (S) or zombie worker is not.
        """
        try:
            with open(f"/proc/{self.pid}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        return state in (b"R", b"D")

    def last_started(self) -> tuple[int, int]:
        """(seq, start ns) of the task this worker started last, from its slot or edge ring.

        It is running if it is still in flight. (-1, 0) before the first task. While the
        worker records per-task telemetry its slot is left alone and the newest edge-ring
        entry tells (edges.py); a torn read there names a finished task, which the callers
        take for idle.
        """
        slot = self.slot
        start = slot[SLOT_START]
        if start != TIMED_START:
            return slot[SLOT_SEQ], start
        return self.edges.newest()

    def unreceived(self) -> bytes:
        """After death: committed bytes the socket never delivered, from the result ring."""
        committed = self.slot[SLOT_COMMIT]
        if committed <= self.rx:
            return b""
        return read_ring(self.ring, self.rx, committed)

    def exit_status(self) -> tuple[int | None, int | None]:
        """(exit_code, signal) of the exited process, multiprocessing's negative code split."""
        code = self.proc.exitcode
        if code is None:
            return None, None
        if code < 0:
            return None, -code
        return code, None


def get_context(start_method: str) -> BaseContext:
    """The multiprocessing context for a start method, with the worker module preloaded."""
    ctx = multiprocessing.get_context(start_method)
    if start_method == "forkserver":
        ctx.set_forkserver_preload(["poolmon.runtime.pool.worker_main"])
    return ctx


def spawn_worker(
    ctx: BaseContext,
    wid: int,
    slot_index: int,
    flush_ns: int,
    name: str,
    edge_entries: int,
    init: bytes | tuple[Any, tuple[Any, ...]] | None = None,
) -> WorkerHandle:
    """Start one worker process connected by a fresh socketpair and shared slot and rings."""
    parent_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    raw = ctx.RawArray("q", SLOT_WORDS)
    ring = ctx.RawArray("b", RING_BYTES)
    edges = (ctx.RawArray("q", edge_entries), ctx.RawArray("q", edge_entries))
    fresh_ids(edges[1])
    proc = ctx.Process(  # type: ignore[attr-defined]
        target=worker_main,
        args=(wid, child_sock, raw, ring, flush_ns, os.getpid(), edges, init, str(stack_dir())),
        name=f"{name}-worker-{wid}",
        daemon=False,
    )
    try:
        proc.start()
    finally:
        child_sock.close()
    parent_sock.setblocking(False)
    return WorkerHandle(wid, slot_index, proc, parent_sock, raw, ring, edges)
