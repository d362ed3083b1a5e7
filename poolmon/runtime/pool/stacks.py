"""`Pool.worker_stack`: what one worker's running task is doing right now, and who said so.

Two producers, tried in this order by `method="auto"`:

- py-spy (`py-spy dump --pid PID --json`) reads the worker from outside with ptrace, needing
  nothing from it: it works even in a C call that holds the GIL. It needs ptrace permission
  (root, CAP_SYS_PTRACE, or kernel.yama.ptrace_scope=0); when it is missing or denied, the
  reply says exactly why and the in-worker dumper answers instead.
- the in-worker dumper (stackdump.py): a thread in every worker woken by a real-time signal,
  reading `sys._current_frames()`. No privilege needed; a C call holding the GIL keeps it
  waiting, and then the reply says that after `timeout_s`.

The reply also carries the task's op, id, age (from the worker's shared slot, like the
current-task columns) and its arguments' repr, truncated, unless `Pool(stack_args=False)`,
read before and after the stack so that they describe the task the frames are from (a worker
on millisecond tasks changes task during a read: the header named one task above another's
stack).
Frames are innermost first: [file, line, function, source line].
"""

from __future__ import annotations

import json
import linecache
import os
import pickle
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import msgpack

from poolmon.core.errors import ConfigError
from poolmon.runtime.pool import framing as fr
from poolmon.runtime.pool.current import current_task
from poolmon.runtime.pool.stackdump import STACK_SIGNAL, dump_path, stack_dir

if TYPE_CHECKING:
    from poolmon.runtime.pool.engine import Engine

METHODS: Final = ("auto", "pyspy", "inprocess")
ARGS_LIMIT: Final = 200
INPROCESS_LIMITS: Final = (
    "in-worker dumper (a thread woken by a signal): reads sleeps, lock waits and Python loops; "
    "a C call holding the GIL keeps it from answering"
)
PYSPY_LIMITS: Final = (
    "py-spy dump (ptrace, from outside the worker): reads any state, even a C call holding the "
    "GIL; pauses the worker for the few milliseconds of the read"
)
PTRACE_ADVICE: Final = (
    "run the pool as root, give py-spy CAP_SYS_PTRACE (sudo setcap cap_sys_ptrace+ep "
    "$(which py-spy)), or allow ptrace of your own processes (sysctl kernel.yama.ptrace_scope=0)"
)
_lock = threading.Lock()  # one signal-and-wait at a time: a dump file per worker, not per ask


class StackUnavailable(Exception):
    """A producer could not read the stack; the message says why and what to do."""


def pyspy_path() -> str | None:
    """The py-spy executable: on PATH, or next to this Python (a venv's bin)."""
    found = shutil.which("py-spy")
    if found:
        return found
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def pyspy_stack(pid: int, timeout_s: float) -> list[list[Any]]:
    """The main thread's frames of process `pid` as py-spy reads them."""
    exe = pyspy_path()
    if exe is None:
        raise StackUnavailable("py-spy is not installed (pip install py-spy)")
    try:
        run = subprocess.run(
            [exe, "dump", "--pid", str(pid), "--json"],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise StackUnavailable(f"py-spy did not answer within {timeout_s:g} s") from None
    if run.returncode != 0:
        err = (run.stderr or run.stdout).strip().splitlines()
        first = err[0] if err else f"exit code {run.returncode}"
        if any(w in run.stderr for w in ("ermission", "ptrace", "not permitted", "EPERM")):
            raise StackUnavailable(
                f"py-spy was denied ptrace on pid {pid} ({first}): " + PTRACE_ADVICE
            )
        raise StackUnavailable(f"py-spy failed on pid {pid}: {first}")
    threads = json.loads(run.stdout)
    main = next((t for t in threads if t.get("os_thread_id") == pid), None)
    if main is None:
        main = next((t for t in threads if t.get("thread_name") == "MainThread"), None)
    if main is None:
        raise StackUnavailable(f"py-spy found no main thread in pid {pid}")
    return [
        [f["filename"], f["line"], f["name"], linecache.getline(f["filename"], f["line"]).strip()]
        for f in main["frames"]
    ]


def inprocess_stack(pid: int, timeout_s: float) -> list[list[Any]]:
    """Ask worker `pid`'s dumper thread (stackdump.py) for its main thread's frames."""
    path = dump_path(stack_dir(), pid)
    with _lock:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        asked = time.monotonic_ns()
        try:
            os.kill(pid, STACK_SIGNAL)
        except ProcessLookupError:
            raise StackUnavailable(f"worker pid {pid} has exited") from None
        deadline = asked + int(timeout_s * 1e9)
        while time.monotonic_ns() < deadline:
            try:
                doc = json.loads(path.read_bytes())
            except (FileNotFoundError, ValueError):
                time.sleep(0.002)
                continue
            if doc.get("ns", 0) >= asked:
                return [list(f) for f in doc["frames"]]
        raise StackUnavailable(
            f"the in-worker dumper of pid {pid} did not answer within {timeout_s:g} s: the task "
            "is most likely in a C call holding the GIL; py-spy can read it (needs ptrace: "
            + PTRACE_ADVICE
            + ")"
        )


def task_args(frame: bytes) -> str:
    """The repr of a task's arguments from the frame the pool sent, truncated to ARGS_LIMIT."""
    try:
        _, _, mode, payload = msgpack.unpackb(frame, raw=False, strict_map_key=False)
        if mode == fr.M_ARGS:
            text = repr(tuple(payload))
        elif mode == fr.M_ARGS_KW:
            text = f"{tuple(payload[0])!r} {payload[1]!r}"
        elif mode == fr.M_PICKLED:
            args, kwargs = pickle.loads(payload)
            text = f"{tuple(args)!r} {kwargs!r}" if kwargs else repr(tuple(args))
        else:
            text = f"<{len(frame)} bytes: a chunk or a pickled callable, not shown>"
    except Exception as exc:
        text = f"<arguments not decodable: {type(exc).__name__}>"
    return text if len(text) <= ARGS_LIMIT else text[: ARGS_LIMIT - 1] + "…"


READ_ATTEMPTS: Final = 3
"""Reads tried before a reply says the worker changed task during every read (short tasks)."""


def _task_now(eng: Engine, worker_id: int) -> tuple[int, str | None, int | None, int | None, bytes]:
    """(pid, op, task id, age, the task's frame) of a live worker, read under the IO lock."""
    with eng.io_lock:
        w = eng.workers.get(worker_id)
        if w is None or w.exited:
            raise ConfigError(f"no live worker with id {worker_id!r}")
        op, task_id, age_ns = current_task(w, eng.op_of, time.monotonic_ns())
        frame = next((f._frame for f in w.inflight if f._seq == task_id), b"")
        return w.pid, op, task_id, age_ns, frame


def _read_frames(
    pid: int, method: str, timeout_s: float, notes: list[str]
) -> tuple[list[list[Any]], str]:
    """The main thread's frames and which producer read them; ConfigError when none could."""
    if method in ("auto", "pyspy"):
        try:
            return pyspy_stack(pid, max(timeout_s, 5.0)), "pyspy"
        except StackUnavailable as exc:
            notes.append(str(exc))
    if method in ("auto", "inprocess"):
        try:
            return inprocess_stack(pid, timeout_s), "inprocess"
        except StackUnavailable as exc:
            notes.append(str(exc))
    raise ConfigError("; ".join(notes) or "no producer could read the stack")


def worker_stack(
    eng: Engine, worker_id: int, method: str, timeout_s: float, with_args: bool
) -> dict[str, Any]:
    """See the module doc; ConfigError for an unknown worker or method or a stack nobody read.

    The task is read before and after the stack: the same task id both times means the worker
    ran that task throughout (an id runs once), so the header describes the stack. Otherwise
    the read is tried again; after `READ_ATTEMPTS` the reply names both tasks
    (`task_moved`) and describes neither, rather than label a stack with the wrong task.
    """
    if method not in METHODS:
        raise ConfigError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    for _ in range(READ_ATTEMPTS):
        notes: list[str] = []
        pid, op, task_id, age_ns, frame = _task_now(eng, worker_id)
        frames, producer = _read_frames(pid, method, timeout_s, notes)
        try:
            after: int | None = _task_now(eng, worker_id)[2]
        except ConfigError:  # it exited after the read (a timeout's kill): keep the frames
            notes.append("the worker exited right after this stack was read")
            after = None
            break
        if after == task_id:
            break
    moved = None if after == task_id else [task_id, after]
    if moved is not None:
        op, task_id, age_ns = None, None, None
    args: str | None = None
    if task_id is not None:
        args = task_args(frame) if with_args else "<hidden: Pool(stack_args=False)>"
    return {
        "worker_id": worker_id,
        "pid": pid,
        "producer": producer,
        "limits": PYSPY_LIMITS if producer == "pyspy" else INPROCESS_LIMITS,
        "notes": notes,
        "frames": frames,
        "op": op,
        "task_id": task_id,
        "age_s": None if age_ns is None else age_ns / 1e9,
        "args": args,
        "task_moved": moved,
    }
