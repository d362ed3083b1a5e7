"""Keep the C heap from hoarding freed memory: a fixed mmap threshold, and a trim every 15 s.

Why: with the monitor endpoint on, the pool process churns through many short-lived buffers
(task-row columns, rollup folds, frames) in three threads while long-lived ones (held raw
batches, packed rollups) sit between them. glibc's malloc keeps the freed space, so VmRSS
climbed ~4.5 MiB a minute under 20,000 tasks/s although the Python heap was flat (tracemalloc,
`sys.getallocatedblocks()`): `malloc_trim(0)` returned ~10 MiB after two minutes. A trim
costs a few ms in the endpoint thread, never in the pool's IO thread; every 15 s keeps the
sawtooth between trims to a few MiB (docs/BENCHMARKS.md, memory). Where the
C library has no `malloc_trim` (musl, macOS) this does nothing.

The trim alone left a slope of ~40 MiB an hour: glibc raises its mmap threshold to the size of
every large block it frees (up to 32 MiB), so after the first backfill or big frame every
buffer below that size (frames, fold columns, backfill rows) came from the heap instead of its
own mapping, and the heap's free space grew ~4 MiB a minute around the long-lived raw
batches (`mallinfo2`: in use flat at 34 MiB, free 7 -> 21 MiB in three minutes). Pinning the
threshold at glibc's default 128 KiB (`pin_mmap_threshold`) keeps large buffers in mappings
that go back to the OS when freed: free space stayed at 2.6 MiB (docs/BENCHMARKS.md, memory).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import Callable
from typing import Any

TRIM_EVERY_NS = 15 * 1_000_000_000
MMAP_THRESHOLD = 128 * 1024
"""Blocks this large or larger get their own mapping, returned to the OS when freed."""
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def pin_mmap_threshold(threshold: int = MMAP_THRESHOLD) -> bool:
    """Fix glibc's mmap threshold (turning its dynamic raise off) for this whole process.

    Returns True when set. Left alone (False) where the C library has no `mallopt` or the
    user already chose a threshold (`MALLOC_MMAP_THRESHOLD_`, or `mmap_threshold` in
    `GLIBC_TUNABLES`): their setting wins. See the module doc for why.
    """
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    if "mmap_threshold" in os.environ.get("GLIBC_TUNABLES", ""):
        return False
    libc = _libc()
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, threshold))


def _malloc_trim() -> Callable[[int], int] | None:
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    func: Callable[[int], int] = trim
    return func


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
