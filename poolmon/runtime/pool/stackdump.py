"""The in-worker stack dumper: the fallback that needs no privilege to read a stuck task's stack.

Why a thread blocked in `sigwait` rather than a signal handler: a Python signal handler runs
only in the main thread, between bytecodes, which is the task's own thread; a thread of its
own, woken by a signal it alone waits for, reads `sys._current_frames()` as soon as it gets
the GIL, which it does while the task sleeps, waits on a lock, or loops in Python (the
interpreter hands the GIL over every switch interval). Only a C call that holds the GIL
defeats it: then the dumper waits too, and the pool says so after its timeout (py-spy, which
reads the process from outside, does not have this limit).

The signal is blocked in the worker's main thread before any other thread starts, so every
thread inherits the block and only the dumper's `sigwait` takes it. The stack goes to a file
in the pool's private folder (0700, made by `stack_dir`), written 0600 and renamed into place,
so the pool never reads a half-written dump and nothing else can read the task's source.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

STACK_SIGNAL = signal.SIGRTMIN + 3
"""A real-time signal: user code that handles SIGUSR1/SIGUSR2 itself is left alone."""

_dir: tuple[int, Path] | None = None
_dir_lock = threading.Lock()


def stack_dir() -> Path:
    """The private folder of this pool process for stack dumps, made once and removed at exit."""
    global _dir
    with _dir_lock:
        if _dir is None or _dir[0] != os.getpid():
            path = Path(tempfile.mkdtemp(prefix=f"poolmon-stacks-{os.getpid()}-"))
            atexit.register(shutil.rmtree, path, True)
            _dir = (os.getpid(), path)
            _sweep(path.parent)
        return _dir[1]


def _sweep(parent: Path) -> None:
    """Remove our folders left by pools that died without running atexit (SIGKILL, _exit)."""
    for old in parent.glob("poolmon-stacks-*-*"):
        try:
            pid = int(old.name.split("-")[2])
            if old.stat().st_uid != os.getuid() or Path(f"/proc/{pid}").exists():
                continue
        except (ValueError, IndexError, OSError):
            continue
        shutil.rmtree(old, ignore_errors=True)


def dump_path(directory: str | Path, pid: int) -> Path:
    """Where worker `pid` writes its stack."""
    return Path(directory) / f"stack-{pid}.json"


def install_stack_dumper(directory: str) -> None:
    """Block STACK_SIGNAL here and start the thread that answers it (call before other threads)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {STACK_SIGNAL})
    main = threading.get_ident()
    threading.Thread(
        target=_answer, args=(directory, main), daemon=True, name="poolmon-stack"
    ).start()


def _answer(directory: str, main_ident: int) -> None:
    while True:
        signal.sigwait({STACK_SIGNAL})
        try:
            _write(directory, main_ident)
        except Exception:  # a dump that fails must never take the worker down
            pass


def _write(directory: str, main_ident: int) -> None:
    frame = sys._current_frames().get(main_ident)
    frames = [] if frame is None else traceback.extract_stack(frame)
    del frame
    doc = {
        "pid": os.getpid(),
        "ns": time.monotonic_ns(),
        "frames": [[f.filename, f.lineno or 0, f.name, f.line or ""] for f in reversed(frames)],
    }
    path = dump_path(directory, os.getpid())
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh)
    os.replace(tmp, path)
