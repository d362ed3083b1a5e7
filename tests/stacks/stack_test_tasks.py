"""Tasks stuck in each way an operator meets, for the stack tests (importable by workers)."""

from __future__ import annotations

import re
import threading
import time


def sleeper(seconds: float) -> str:
    """Stuck in time.sleep (the GIL released)."""
    time.sleep(seconds)  # STUCK-SLEEP
    return "slept"


def spinner(seconds: float) -> int:
    """Stuck in a tight Python loop (the GIL handed over every switch interval)."""
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:  # STUCK-LOOP
        n += 1
    return n


_LOCK = threading.Lock()


def deadlocker(seconds: float) -> bool:
    """Stuck waiting for a lock it already holds (a deadlock, broken by the timeout)."""
    with _LOCK:
        return _LOCK.acquire(timeout=seconds)  # STUCK-LOCK


def c_call(n: int) -> bool:
    """Stuck in one C call holding the GIL: catastrophic backtracking in `re` (2**n steps)."""
    return re.match(r"(a+)+$", "a" * n + "b") is not None  # STUCK-C


def brief_a(seconds: float) -> str:
    """A short task (a few ms), one of two that alternate under a stack read."""
    time.sleep(seconds)  # BRIEF-A
    return "a"


def brief_b(seconds: float) -> str:
    """The other short task."""
    time.sleep(seconds)  # BRIEF-B
    return "b"
