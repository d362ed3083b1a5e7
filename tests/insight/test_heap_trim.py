"""The pool's C heap gives freed memory back: trimmed every period, large blocks mapped (#17)."""

from __future__ import annotations

import ctypes.util
import os
import platform
import subprocess
import sys

import pytest

from poolmon.runtime.heaptrim import HeapTrim


@pytest.mark.skipif(ctypes.util.find_library("c") is None, reason="no C library to ask")
def test_the_heap_is_trimmed_once_per_period() -> None:
    trim = HeapTrim(every_ns=100)
    if not trim.available:
        pytest.skip("this C library has no malloc_trim")
    trim(None, 1_000)  # arms it
    trim(None, 1_050)
    assert trim.trims == 0
    trim(None, 1_100)
    trim(None, 1_150)
    assert trim.trims == 1
    trim(None, 1_200)
    assert trim.trims == 2


_PROBE = """
import ctypes, sys
from poolmon.runtime.heaptrim import pin_mmap_threshold

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in (
        "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split())]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
if sys.argv[1] == "pin":
    assert pin_mmap_threshold()
libc.free(libc.malloc(8 << 20))  # unpinned, glibc now keeps blocks below 8 MiB in the heap
before = libc.mallinfo2().hblks
blocks = [libc.malloc(512 << 10) for _ in range(4)]
print(libc.mallinfo2().hblks - before)
"""


def _mapped_blocks(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_MMAP_THRESHOLD_"}
    env.pop("GLIBC_TUNABLES", None)
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, mode], env=env, capture_output=True, text=True, check=True
    )
    return int(out.stdout)


def _glibc_233() -> bool:
    name, version = platform.libc_ver()
    return name == "glibc" and tuple(int(p) for p in version.split(".")[:2]) >= (2, 33)


@pytest.mark.skipif(not _glibc_233(), reason="mallopt and mallinfo2 (glibc 2.33+)")
def test_a_pinned_mmap_threshold_keeps_large_blocks_in_their_own_mappings() -> None:
    """Once a big block is freed glibc serves 512 KiB blocks from the heap, unless pinned.

    That dynamic raise is what let the pool's heap grow ~40 MiB an hour (issue #17).
    """
    assert _mapped_blocks("free") == 0  # the behaviour the pin exists to stop
    assert _mapped_blocks("pin") == 4
