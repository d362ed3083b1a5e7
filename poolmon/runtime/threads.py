"""Threads that leave the process's signals to the main thread: how poolmon starts every thread.

Why: the kernel delivers a signal sent to a process (SIGTERM from a supervisor or `kill`,
SIGINT, SIGHUP) to any one of its threads that does not block it. CPython runs Python signal
handlers only in the main thread, and when the kernel picked another thread the main thread
hears of it only when it next runs Python code: a main thread in `time.sleep(60)` sleeps on.
So a script whose own SIGTERM handler raises `SystemExit` kept running for up to its whole
sleep once poolmon's threads existed (found as a rare failure of
`test_socket_removed_when_the_process_ends[user-handler]`; a loop of the same script hung at
its 76th run). Every thread poolmon starts blocks the asynchronous signals before running
anything, so they reach the main thread (or a thread of the user's own) at once, as they
would with no pool in the process. Synchronous signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL,
SIGTRAP, SIGSYS, SIGABRT) stay unblocked: they belong to the thread that caused them.

Threads we do not start obey the same rule when they can: numpy's OpenBLAS starts its worker
threads the moment numpy is imported, and a thread inherits the signal mask of the thread
that created it. The runtime imports numpy through `import_quietly` (signals blocked for the
import only; one that arrives meanwhile is delivered when they are unblocked), so those
threads block them too. With them unblocked, the script above still hung about once in 60
runs. A program that imported numpy before poolmon keeps its BLAS threads as they are.
"""

from __future__ import annotations

import importlib
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any, Final

_SYNCHRONOUS: Final = frozenset(
    getattr(signal, name)
    for name in ("SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGTRAP", "SIGSYS", "SIGABRT",
                 "SIGKILL", "SIGSTOP")
    if hasattr(signal, name)
)  # fmt: skip
"""Signals a thread must not block (faults it causes) or cannot (KILL, STOP)."""

ASYNC_SIGNALS: Final = frozenset(signal.valid_signals()) - _SYNCHRONOUS
"""What a poolmon thread blocks: every signal that is sent to the process, not caused."""


def block_async_signals() -> None:
    """Block `ASYNC_SIGNALS` in the calling thread (nothing where threads have no masks)."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, ASYNC_SIGNALS)


def service_thread(
    target: Callable[..., Any], name: str, args: Iterable[Any] = (), daemon: bool = True
) -> threading.Thread:
    """A `threading.Thread` (not started) whose run blocks `ASYNC_SIGNALS`, then calls `target`."""
    call_args = tuple(args)

    def run() -> None:
        block_async_signals()
        target(*call_args)

    return threading.Thread(target=run, name=name, daemon=daemon)


def import_quietly(name: str) -> None:
    """Import `name` with `ASYNC_SIGNALS` blocked, so threads it starts on import block them.

    Nothing changes for a module already imported (its threads exist) or where threads have
    no signal masks.
    """
    if name in sys.modules or not hasattr(signal, "pthread_sigmask"):
        importlib.import_module(name)
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, ASYNC_SIGNALS)
    try:
        importlib.import_module(name)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
