"""Give the C heap's free pages back to the OS every 15 s, from the endpoint's thread.

Why: with the monitor endpoint on, the pool process churns through many short-lived buffers
(task-row columns, rollup folds, frames) in three threads while long-lived ones (held raw
batches, packed rollups) sit between them. glibc's malloc keeps the freed space, so VmRSS
climbed ~4.5 MiB a minute under 20,000 tasks/s although the Python heap was flat (tracemalloc,
`sys.getallocatedblocks()`): `malloc_trim(0)` returned ~10 MiB after two minutes. A trim
costs a few ms in the endpoint thread, never in the pool's IO thread; every 15 s keeps the
sawtooth between trims to a few MiB (docs/BENCHMARKS.md, memory). Where the
C library has no `malloc_trim` (musl, macOS) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from typing import Any

TRIM_EVERY_NS = 15 * 1_000_000_000


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


class HeapTrim:
    """An insight hook (`Insight.add_hook`) that calls `malloc_trim(0)` every `every_ns`."""

    def __init__(self, every_ns: int = TRIM_EVERY_NS) -> None:
        self._trim = _malloc_trim()
        self._every_ns = every_ns
        self._next_ns: int | None = None
        self.trims = 0
        """Times the heap was trimmed."""

    @property
    def available(self) -> bool:
        """True when the C library can trim (glibc)."""
        return self._trim is not None

    def __call__(self, agg: Any, now_ns: int) -> None:
        """Trim if a period has passed since the last trim (the first call only arms it)."""
        if self._trim is None:
            return
        if self._next_ns is None:
            self._next_ns = now_ns + self._every_ns
        elif now_ns >= self._next_ns:
            self._next_ns = now_ns + self._every_ns
            self._trim(0)
            self.trims += 1
