"""Remove a pool's socket file when its process ends: normal exit, SIGTERM, SIGINT, SIGHUP.

A socket left behind makes `poolmon ls` list a dead pool (twenty of them, with the live one
buried). `EndpointServer.close` removes its file, but a process that is sent SIGTERM, or that
exits without shutting its pool down, never gets there. So every listening socket is
registered here and removed by an `atexit` hook, and by a handler for the signals whose
default action kills the process without running `atexit` (SIGTERM, SIGHUP, and SIGINT if
someone set it to SIG_DFL).

The user's own handlers are never stolen: a signal with a Python handler already installed is
chained (that handler runs first; the sockets are removed only if it ends the process by
raising, e.g. SystemExit), an ignored signal stays ignored, and a handler the user installs
later simply replaces ours (the `atexit` hook still runs if their handler exits normally).
Handlers can only be installed from the main thread; elsewhere only the `atexit` hook is used.
"""

from __future__ import annotations

import atexit
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from poolmon.runtime.endpoint.paths import BoundSocket

_CATCH = ("SIGTERM", "SIGHUP", "SIGINT")
"""Signals whose handler is installed when it is SIG_DFL (or a Python callable, chained)."""

_live: dict[int, tuple[int, BoundSocket]] = {}
"""id(bound) -> (pid of the process that bound it, bound): a forked worker inherits this table
and its handlers, and must never remove its pool's socket."""
_lock = threading.Lock()
_previous: dict[int, Any] = {}
_atexit_done = False


def register(bound: BoundSocket) -> None:
    """Remove `bound`'s file when the process ends, unless `unregister`ed first."""
    global _atexit_done
    with _lock:
        _live[id(bound)] = (os.getpid(), bound)
        if not _atexit_done:
            atexit.register(unlink_all)
            _atexit_done = True
    _install_handlers()


def unregister(bound: BoundSocket) -> None:
    """The server removed its socket itself."""
    with _lock:
        _live.pop(id(bound), None)


def unlink_all() -> None:
    """Remove every socket file this process bound that is still ours."""
    pid = os.getpid()
    with _lock:
        bound = [b for owner, b in _live.values() if owner == pid]
        _live.clear()
    for b in bound:
        try:
            b.unlink()
        except OSError:
            pass


def _install_handlers() -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    for name in _CATCH:
        signum = getattr(signal, name, None)
        if signum is None or signum in _previous:
            continue
        current = signal.getsignal(signum)
        if current is signal.SIG_IGN or current is None:
            continue  # ignored (or set outside Python): the process does not die of it
        if signum == signal.SIGINT and current is signal.default_int_handler:
            continue  # KeyboardInterrupt unwinds normally: the atexit hook removes the socket
        _previous[signum] = current
        signal.signal(signum, _on_signal)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    previous = _previous.get(signum, signal.SIG_DFL)
    if callable(previous):
        chained: Callable[[int, FrameType | None], Any] = previous
        try:
            chained(signum, frame)
        except BaseException:
            unlink_all()  # the user's handler ends the process
            raise
        return  # the user's handler kept the process alive: keep the socket too
    unlink_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)  # die of the signal as if we had never been here
