"""The loop every worker process runs: read task frames, run them, send results back.

Hot path per task: one frame decode, two shared-memory stores (the task's sequence number and
start time, so the pool knows exactly which task a dead worker was running), the call, one
msgpack pack, one monotonic clock read (the task's end edge, which is also the next task's
start edge), and the result's bytes copied into the shared result ring (ring.py), which is
what makes finished results survive a worker's death. Results are coalesced: flushed at the
end of each read batch, and whenever `flush_ns` has passed since the last flush.

Per-task telemetry (between the pool's TEL_ON and TEL_OFF frames) adds one int64 append per
task: its end stamp (see `_TaskStamps`). Everything else in a task's row (id, op, submit time,
outcome) the pool already knows from its futures, in the same order, and joins per batch.

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
from poolmon.runtime.pool.ring import SLOT_COMMIT, RingWriter

SLOT_SEQ = 0
SLOT_START = 1
SLOT_BEAT = 2
SLOT_WORDS = 4
BEAT_S = 0.05
EXIT_PARENT_GONE = 75


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
) -> None:
    """Entry point of a worker process (the target of its multiprocessing.Process)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the pool's to handle
    _set_pdeathsig(pool_pid)
    sock.setblocking(True)
    slot = slot_view(raw_slot)
    slot[SLOT_SEQ] = -1
    slot[SLOT_BEAT] = time.monotonic_ns()
    out = RingWriter(sock, raw_ring, slot)
    threading.Thread(target=_watchdog, args=(out, slot), daemon=True, name="poolmon-wd").start()
    drain, _ = _install_telemetry(worker_id)
    try:
        _serve(worker_id, sock, slot, out, flush_ns, drain)
    except (BrokenPipeError, ConnectionResetError):
        os._exit(EXIT_PARENT_GONE)
    os._exit(0)


def _serve(
    worker_id: int,
    sock: socket.socket,
    slot: memoryview,
    out: RingWriter,
    flush_ns: int,
    drain: Any,
) -> None:
    pack = fr.new_packer().pack
    unpacker = fr.new_unpacker()
    feed = unpacker.feed
    recv = sock.recv
    mono = time.monotonic_ns
    loads = pickle.loads
    dumps = pickle.dumps
    proto = fr.PICKLE_PROTOCOL
    fns: dict[int, Any] = {}
    tel = _TaskStamps()
    add = tel.stamps.append
    timed = False  # per-task telemetry on (the pool's TEL_ON / TEL_OFF frames)
    ring = out.buf
    size = out.size
    out.push(pack([fr.READY, os.getpid()]))
    out.flush()
    while True:
        data = recv(262144)
        if not data:
            return
        feed(data)
        t_prev = mono()
        t_flush = t_prev
        if timed:
            add(-t_prev)  # a new chain of edges: the next task started now, not at the last end
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
                    _flush_all(out, tel, drain, pack)
                    return
                if seq == fr.TEL_ON:
                    if not timed:
                        timed = True
                        add(-t_prev)
                elif seq == fr.TEL_OFF:
                    timed = False
                continue
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
            if timed:
                add(t)
            if t - t_flush >= flush_ns:
                out.produced = produced
                _flush_all(out, tel, drain, pack)
                produced = out.produced
                wpos = produced % size
                t_flush = t
            t_prev = t
        out.produced = produced
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
        args, kwargs = loads(payload)
        return fns[fid](*args, **kwargs)
    if mode == fr.M_CHUNK:
        fn = fns[fid]
        return [fn(*row) for row in payload]
    if mode == fr.M_CHUNK_PICKLED:
        fn = fns[fid]
        return [fn(*row) for row in loads(payload)]
    if mode == fr.M_FN_PICKLED:
        fn, args, kwargs = loads(payload)
        return fn(*args, **kwargs)
    if mode == fr.M_FN_CHUNK_PICKLED:
        fn, rows = loads(payload)
        return [fn(*row) for row in rows]
    raise ValueError(f"unknown task payload mode {mode}")


class _TaskStamps:
    """Per-task telemetry as the worker records it: task edges, one int64 per task.

    `stamps` holds monotonic ns: a positive value is a task's end (and the next task's
    start); a negative one, -s, says the next task started at s (a fresh read batch, or
    telemetry just turned on). Rows follow the order tasks were sent in, so the pool pairs
    them with its futures. Errors are rare and carried apart as (seq, error name index).
    """

    def __init__(self) -> None:
        self.stamps: array[int] = array("q")
        self.errors: array[int] = array("q")
        self.err_names: list[str] = [""]
        self._err_index: dict[str, int] = {"": 0}

    def error(self, seq: int, name: str) -> None:
        """Record that task `seq` raised an exception of type `name`."""
        idx = self._err_index.get(name)
        if idx is None:
            idx = self._err_index[name] = len(self.err_names)
            self.err_names.append(name)
        self.errors.append(seq)
        self.errors.append(idx)

    def frame(self, pack: Any) -> bytes:
        """Encode and clear what was recorded since the last flush."""
        blob = pack([fr.TASKS, self.stamps.tobytes(), self.errors.tobytes(), list(self.err_names)])
        del self.stamps[:]
        del self.errors[:]
        return blob  # type: ignore[no-any-return]


def _flush_all(out: RingWriter, tel: _TaskStamps, drain: Any, pack: Any) -> None:
    """Send results, plus any task telemetry and user events collected since the last flush."""
    if tel.stamps:
        out.push(tel.frame(pack))
    if drain is not None:
        events = drain()
        if events:
            out.push(pack([fr.EVENTS, pickle.dumps(events, fr.PICKLE_PROTOCOL)]))
    out.flush()
