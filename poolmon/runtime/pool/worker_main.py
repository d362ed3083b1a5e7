"""The loop every worker process runs: read task frames, run them, send results back.

Hot path per task: one frame decode, two shared-memory stores (the task's sequence number and
start time, so the pool knows exactly which task a dead worker was running), the call, one
msgpack pack, one monotonic clock read (the task's end edge, which is also the next task's
start edge), and the result's bytes copied into the shared result ring (ring.py), which is
what makes finished results survive a worker's death. Results are coalesced: flushed at the
end of each read batch, and whenever `flush_ns` has passed since the last flush.

Per-task telemetry (between the pool's TEL_ON and TEL_OFF frames) costs one index increment
per task: the start and id stores go to the next entry of the edge ring instead of the slot
(edges.py), and each flush reports which entries are final (`_TaskStamps`). The rest of a
task's row (op, submit time, outcome) the pool knows without per-task work of its own
(taskrows, submitstamps): the pool's one thread is what limits a pool of tiny tasks.

A watchdog thread beats the heartbeat slot every `BEAT_S`, flushes results that have waited a
whole beat (so a long task does not hold finished results hostage), and exits the process the
moment the pool's end of the socket closes, which is how workers never outlive a SIGKILLed
pool, even under forkserver where PR_SET_PDEATHSIG would watch the wrong parent.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import socket
import threading
import time
from array import array
from typing import Any

from poolmon.runtime.pool import framing as fr
from poolmon.runtime.pool.errors import UnpickleError, describe_error
from poolmon.runtime.pool.ring import SLOT_COMMIT, RingWriter
from poolmon.runtime.pool.stackdump import install_stack_dumper

SLOT_SEQ = 0
SLOT_START = 1
SLOT_BEAT = 2
SLOT_WORDS = 4
TIMED_START = -1
"""The slot's start word while per-task telemetry records starts in the edge ring (edges.py)."""
BEAT_S = 0.05
EXIT_PARENT_GONE = 75
MAX_ERROR_NAMES = 256
"""Distinct exception type names a worker reports apart; later new ones share OTHER_ERRORS."""
OTHER_ERRORS = fr.OTHER_OPS
"""The overflow error type name (the monitor's overflow label)."""
EXIT_INIT_FAILED = 76
_READ_SIZE = 262144
"""Bytes one read of the task socket takes at most (the kept input buffer's size)."""


def slot_view(raw: Any) -> memoryview:
    """An int64 view of a worker's shared slot (a `multiprocessing.RawArray('q', SLOT_WORDS)`)."""
    return memoryview(raw).cast("B").cast("q")


def _watchdog(out: RingWriter, slot: memoryview) -> None:
    """Heartbeat, stale-result flusher and parent-death detector (see module doc)."""
    poller = select.poll()
    poller.register(out.sock.fileno(), select.POLLRDHUP)
    seen = -1
    while True:
        if poller.poll(int(BEAT_S * 1000)):
            os._exit(EXIT_PARENT_GONE)
        slot[SLOT_BEAT] = time.monotonic_ns()
        committed = slot[SLOT_COMMIT]
        if committed > out.sent and committed == seen:
            try:
                out.flush()  # results waited a whole beat: a long task is running
            except OSError:
                os._exit(EXIT_PARENT_GONE)
        seen = committed


def _install_telemetry(worker_id: int) -> tuple[Any, Any]:
    """Route `poolmon.telemetry.emit` inside tasks into a local buffer, if telemetry exists."""
    try:
        from poolmon.runtime.telemetry.worker_side import (
            drain_worker_buffer,
            install_worker_buffer,
        )
    except ImportError:
        return None, None
    install_worker_buffer(worker_id, os.getpid())
    return drain_worker_buffer, install_worker_buffer


def _set_pdeathsig(pool_pid: int) -> None:
    """When forked directly by the pool, also ask the kernel to kill us if the pool dies."""
    if os.getppid() != pool_pid:
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def worker_main(
    worker_id: int,
    sock: socket.socket,
    raw_slot: Any,
    raw_ring: Any,
    flush_ns: int,
    pool_pid: int,
    raw_edges: tuple[Any, Any],
    init: bytes | tuple[Any, tuple[Any, ...]] | None = None,
    stack_dir: str = "",
) -> None:
    """Entry point of a worker process (the target of its multiprocessing.Process)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the pool's to handle
    if stack_dir:  # first, so every later thread inherits the signal block (stackdump.py)
        install_stack_dumper(stack_dir)
    _set_pdeathsig(pool_pid)
    sock.setblocking(True)
    slot = slot_view(raw_slot)
    slot[SLOT_SEQ] = -1
    slot[SLOT_BEAT] = time.monotonic_ns()
    out = RingWriter(sock, raw_ring, slot)
    threading.Thread(target=_watchdog, args=(out, slot), daemon=True, name="poolmon-wd").start()
    drain, _ = _install_telemetry(worker_id)
    if init is not None:
        _run_initializer(init, out)
    try:
        _serve(sock, slot, out, flush_ns, drain, raw_edges)
    except (BrokenPipeError, ConnectionResetError):
        os._exit(EXIT_PARENT_GONE)
    os._exit(0)


def _run_initializer(init: bytes | tuple[Any, tuple[Any, ...]], out: RingWriter) -> None:
    """Run the pool's `initializer(*initargs)` before becoming ready.

    If it (or unpickling it) raises anything, the pool is told why in an INIT_FAILED frame
    and this worker exits without ever becoming ready: the pool then stops starting workers
    (see Engine.on_init_failed), since every replacement would fail the same way.
    """
    try:
        fn, args = pickle.loads(init) if isinstance(init, bytes) else init
        fn(*args)
    except BaseException as exc:
        out.push(fr.encode_error(fr.INIT_FAILED, exc, fr.new_packer().pack))
        try:
            out.flush()
        finally:
            os._exit(EXIT_INIT_FAILED)


def _serve(
    sock: socket.socket,
    slot: memoryview,
    out: RingWriter,
    flush_ns: int,
    drain: Any,
    raw_edges: tuple[Any, Any],
) -> None:
    pack = fr.new_packer().pack
    unpacker = fr.new_unpacker()
    feed = unpacker.feed
    # Input is read into one buffer kept for the worker's life (the unpacker copies what it
    # is fed). `recv(256 KiB)` allocates a fresh object per read; glibc serves that with
    # mmap, then mremap to the bytes read and munmap, about 10 µs a task, unless something
    # earlier in the process happened to raise its dynamic mmap threshold (the shrunken
    # chunk a munmap frees never does). Whether it had depended on the worker's start-up,
    # for instance on whether stderr was a pipe: the round trip measured twice as long.
    recv_into = sock.recv_into
    view = memoryview(bytearray(_READ_SIZE))
    poller = select.poll()  # input is waited for in poll, not in recv (see the loop)
    poller.register(sock.fileno(), select.POLLIN)
    wait = poller.poll
    mono = time.monotonic_ns
    loads = pickle.loads
    dumps = pickle.dumps
    proto = fr.PICKLE_PROTOCOL
    fns: dict[int, Any] = {}
    tel = _TaskStamps()
    timed = False  # per-task telemetry on (the pool's TEL_ON / TEL_OFF frames)
    e_start = slot_view(raw_edges[0])  # the edge ring (edges.py)
    e_seq = slot_view(raw_edges[1])
    # the next ring index, looked up rather than computed: `(i + 1) & mask` allocates two int
    # objects per task (~30 ns), a list lookup returns one that exists (~3 ns)
    after = [*range(1, len(e_start)), 0]
    i = 0  # edge-ring index of the last timed task started
    ring = out.buf
    size = out.size
    out.push(pack([fr.READY, os.getpid()]))
    out.flush()
    while True:
        # A thread blocked in recv() on a Unix stream socket also wakes whenever the pool
        # reads what this worker sent (the kernel's write-space wake-up is not keyed), finds
        # nothing and sleeps again: a second wake-up per round trip, which preempts the pool
        # on a shared CPU or costs an IPI on another one. poll() waits for POLLIN only.
        wait()
        n = recv_into(view)
        if not n:
            return
        feed(view[:n])
        t_prev = mono()
        t_flush = t_prev
        produced = out.produced
        wpos = produced % size
        for frame in unpacker:
            seq = frame[0]
            if seq < 0:
                if seq == fr.DEFINE:
                    fns[frame[1]] = _load_function(frame[2], loads)
                    continue
                if seq == fr.STOP:
                    slot[SLOT_SEQ] = -1
                    out.produced = produced
                    tel.close(i, t_prev)
                    _flush_all(out, tel, drain, pack)
                    return
                if seq == fr.TEL_ON:
                    if not timed:
                        timed = True
                        slot[SLOT_START] = TIMED_START
                elif seq == fr.TEL_OFF and timed:
                    timed = False
                    tel.close(i, t_prev)
                continue
            if timed:  # the edge ring stands in for the slot (edges.py)
                i = after[i]
                e_start[i] = t_prev
                e_seq[i] = seq
            else:
                slot[SLOT_START] = t_prev  # start before seq: a reader seeing seq sees its start
                slot[SLOT_SEQ] = seq
            mode = frame[2]
            try:
                if mode == 0:
                    r = fns[frame[1]](*frame[3])
                else:
                    r = _call_slow(fns, frame[1], mode, frame[3], loads)
                try:
                    b = pack([seq, 0, r])
                except (TypeError, ValueError, OverflowError):
                    b = pack([seq, 1, dumps(r, proto)])
            except BaseException as exc:
                b = fr.encode_error(seq, exc, pack, mono() - t_prev)
                if timed:
                    tel.error(seq, type(exc).__qualname__)
            n = len(b)
            end = wpos + n
            if end <= size and produced + n - out.sent <= size:
                ring[wpos:end] = b
                wpos = end
                produced += n
                slot[SLOT_COMMIT] = produced
            else:
                out.produced = produced
                out.push(b)
                produced = out.produced
                wpos = produced % size
            t = mono()
            if t - t_flush >= flush_ns:
                out.produced = produced
                tel.close(i, t)
                _flush_all(out, tel, drain, pack)
                produced = out.produced
                wpos = produced % size
                t_flush = t
            t_prev = t
        out.produced = produced
        tel.close(i, t_prev)
        _flush_all(out, tel, drain, pack)


def _load_function(blob: bytes, loads: Any) -> Any:
    """Unpickle a task function; one that cannot load here fails its tasks, not the worker.

    (E.g. a function defined in an interactive `__main__`, or in a module only the pool
    process can import: crashing would just make every replacement crash the same way.)
    """
    try:
        return loads(blob)
    except BaseException as exc:
        error = exc

        def unloadable(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError(
                f"the worker could not load this task's function: {error!r} (functions must "
                "be importable by the workers: define them in a module, not in an interactive "
                "__main__)"
            ) from error

        return unloadable


def _call_slow(fns: dict[int, Any], fid: int, mode: int, payload: Any, loads: Any) -> Any:
    """Every payload mode but the common positional-msgpack one."""
    if mode == fr.M_ARGS_KW:
        return fns[fid](*payload[0], **payload[1])
    if mode == fr.M_PICKLED:
        args, kwargs = _unpickle(payload, loads, "the task's arguments")
        return fns[fid](*args, **kwargs)
    if mode == fr.M_CHUNK:
        fn = fns[fid]
        return [fn(*row) for row in payload]
    if mode == fr.M_CHUNK_PICKLED:
        fn = fns[fid]
        return [fn(*row) for row in _unpickle(payload, loads, "the chunk's arguments")]
    if mode == fr.M_FN_PICKLED:
        fn, args, kwargs = _unpickle(payload, loads, "the task (callable and arguments)")
        return fn(*args, **kwargs)
    if mode == fr.M_FN_CHUNK_PICKLED:
        fn, rows = _unpickle(payload, loads, "the chunk (callable and arguments)")
        return [fn(*row) for row in rows]
    raise ValueError(f"unknown task payload mode {mode}")


def _unpickle(payload: bytes, loads: Any, what: str) -> Any:
    """Unpickle a task's payload; whatever that raises (even SystemExit) fails only the task.

    The caller's `except BaseException` turns the `UnpickleError` into the task's answer, so
    the worker carries on and `result()` raises a clear error rather than a raw SystemExit.
    """
    try:
        return loads(payload)
    except BaseException as err:
        where = f"in the worker (pid {os.getpid()})"
        raise UnpickleError(what, where, describe_error(err)) from err


class _TaskStamps:
    """Per-task telemetry as the worker reports it: which edge-ring entries are final.

    `ranges` holds (a, b, end_ns) triples of ring indices: the entries after a, up to and
    including b (wrapping around the ring), are final, and entry b's task ended at end_ns
    (each other one ended when the next one started: a range never spans a fresh read, a
    TEL_OFF or a flush). Errors are rare and carried apart as (seq, error name index).
    """

    def __init__(self) -> None:
        self.reported = 0
        self.ranges: array[int] = array("q")
        self.errors: array[int] = array("q")
        self.err_names: list[str] = [""]
        self._err_index: dict[str, int] = {"": 0}

    def close(self, last: int, end_ns: int) -> None:
        """Entries up to ring index `last` are final, and the last of them ended at `end_ns`."""
        if last != self.reported:
            self.ranges.extend((self.reported, last, end_ns))
            self.reported = last

    def error(self, seq: int, name: str) -> None:
        """Record that task `seq` raised an exception of type `name`."""
        idx = self._err_index.get(name)
        if idx is None:
            if len(self.err_names) >= MAX_ERROR_NAMES - 1:  # bounded: the rest share "(other)"
                name = OTHER_ERRORS
                idx = self._err_index.get(name)
            if idx is None:
                idx = self._err_index[name] = len(self.err_names)
                self.err_names.append(name)
        self.errors.append(seq)
        self.errors.append(idx)

    def frame(self, pack: Any) -> bytes:
        """Encode and clear what was reported since the last flush."""
        blob = pack([fr.TASKS, self.ranges.tobytes(), self.errors.tobytes(), list(self.err_names)])
        del self.ranges[:]
        del self.errors[:]
        return blob  # type: ignore[no-any-return]


def _flush_all(out: RingWriter, tel: _TaskStamps, drain: Any, pack: Any) -> None:
    """Send results, plus any task telemetry and user events collected since the last flush."""
    if tel.ranges or tel.errors:
        out.push(tel.frame(pack))
    if drain is not None:
        events = drain()
        if events:
            out.push(pack([fr.EVENTS, pickle.dumps(events, fr.PICKLE_PROTOCOL)]))
    out.flush()
