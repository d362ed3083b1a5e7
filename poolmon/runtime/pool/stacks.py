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
current-task columns) and its arguments' repr, truncated, unless `Pool(stack_args=False)`.
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


def worker_stack(
    eng: Engine, worker_id: int, method: str, timeout_s: float, with_args: bool
) -> dict[str, Any]:
    """See the module doc; ConfigError for an unknown worker or method or a stack nobody read."""
    if method not in METHODS:
        raise ConfigError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    with eng.io_lock:
        w = eng.workers.get(worker_id)
        if w is None or w.exited:
            raise ConfigError(f"no live worker with id {worker_id!r}")
        pid = w.pid
        now = time.monotonic_ns()
        op, task_id, age_ns = current_task(w, eng.op_of, now)
        frame = next((f._frame for f in w.inflight if f._seq == task_id), b"")
    notes: list[str] = []
    frames: list[list[Any]] | None = None
    producer = None
    if method in ("auto", "pyspy"):
        try:
            frames, producer = pyspy_stack(pid, max(timeout_s, 5.0)), "pyspy"
        except StackUnavailable as exc:
            notes.append(str(exc))
    if frames is None and method in ("auto", "inprocess"):
        try:
            frames, producer = inprocess_stack(pid, timeout_s), "inprocess"
        except StackUnavailable as exc:
            notes.append(str(exc))
    if frames is None:
        raise ConfigError("; ".join(notes) or "no producer could read the stack")
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
    }
