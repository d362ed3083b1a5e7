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
"""

from __future__ import annotations

import signal
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
