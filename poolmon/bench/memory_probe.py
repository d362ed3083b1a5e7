"""What a process's memory is made of, below the Python objects: the probe the memory bench logs.

Why: the RSS slope says *whether* a process grows; after the Python heap was shown flat
(tracemalloc, `sys.getallocatedblocks()`), what was left grew in the C heap or in pymalloc's
arenas, and telling them apart took glibc's own accounting. `heap_probe()` returns, in MiB:

* `glibc_*` from `mallinfo2()` (all arenas together): `in_use` (allocated chunks), `free`
  (free chunks the heap keeps), `arena` (heap space from brk/thread heaps), `mmap` (blocks in
  their own mappings), and from `malloc_info`: `arenas`, the number of malloc arenas, and
  `free_main` / `free_threads`, the free bytes in the main arena and in the threads' arenas;
* `rss_*` from `/proc/self/smaps` by mapping: `heap` (the main arena's brk heap), `thread_heaps`
  (the per-thread arenas' 64 MiB-aligned heaps), `anon` (every other anonymous mapping:
  pymalloc arenas, mmapped blocks, numpy buffers) and `file` (code, shared libraries);
* `pymalloc_*` from `sys._debugmallocstats()`: arenas held (1 MiB each) and bytes in use.

Each probe costs a few milliseconds (reading smaps, walking pymalloc's pools), so the bench
takes one every 15 s. Where the C library is not glibc the `glibc_*` keys are missing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import sys
import tempfile
from typing import Any

MIB = 1024 * 1024
_THREAD_HEAP = 64 * MIB  # glibc's HEAP_MAX_SIZE on 64-bit: thread heaps are aligned to it


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _libc() -> Any:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


_LIBC = _libc()


def glibc_figures() -> dict[str, float]:
    """`mallinfo2()` totals and the arena count (empty where the C library is not glibc)."""
    fn = getattr(_LIBC, "mallinfo2", None)
    if fn is None:
        return {}
    fn.restype = _MallInfo2
    info = fn()
    out = {
        "glibc_in_use": info.uordblks / MIB,
        "glibc_free": info.fordblks / MIB,
        "glibc_arena": info.arena / MIB,
        "glibc_mmap": info.hblkhd / MIB,
    }
    arenas = malloc_arenas()
    if arenas is not None:
        out.update(arenas)
    return out


def arena_figures(xml: str) -> dict[str, float]:
    """From `malloc_info`'s XML: the arena count and the free MiB by kind of arena.

    Free bytes (fast bins and the rest) of the main arena and of the threads' arenas
    together: they tell fragmentation in the threads' heaps from the main heap's.
    """
    heaps = re.findall(r'<heap nr="(\d+)">(.*?)</heap>', xml, re.S)
    free = {"glibc_free_main": 0.0, "glibc_free_threads": 0.0}
    for nr, body in heaps:
        held = sum(
            int(size)
            for size in re.findall(r'<total type="(?:fast|rest)" count="\d+" size="(\d+)"/>', body)
        )
        free["glibc_free_main" if nr == "0" else "glibc_free_threads"] += held / MIB
    return {"arenas": len(heaps), **free}


def malloc_arenas() -> dict[str, float] | None:
    """`arena_figures` of this process's `malloc_info` (None where there is none)."""
    info = getattr(_LIBC, "malloc_info", None)
    fopen, fclose = getattr(_LIBC, "fopen", None), getattr(_LIBC, "fclose", None)
    if info is None or fopen is None or fclose is None:
        return None
    fopen.restype = ctypes.c_void_p
    fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    fclose.argtypes = [ctypes.c_void_p]
    with tempfile.NamedTemporaryFile("r", suffix=".xml") as tmp:
        fp = fopen(tmp.name.encode(), b"w")
        if not fp:
            return None
        info(0, fp)
        fclose(fp)
        return arena_figures(tmp.read())


def smaps_figures(pid: int | str = "self") -> dict[str, float]:
    """Resident MiB by kind of mapping (see the module doc)."""
    out = {"rss_heap": 0.0, "rss_thread_heaps": 0.0, "rss_anon": 0.0, "rss_file": 0.0}
    kind = "rss_anon"
    with open(f"/proc/{pid}/smaps", encoding="ascii", errors="replace") as fh:
        for line in fh:
            head = line.split(None, 5)
            if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                start = int(head[0].split("-")[0], 16)
                name = head[5].strip() if len(head) > 5 else ""
                if name == "[heap]":
                    kind = "rss_heap"
                elif name.startswith("/"):
                    kind = "rss_file"
                elif not name and start % _THREAD_HEAP == 0 and head[1].startswith("rw"):
                    kind = "rss_thread_heaps"
                else:
                    kind = "rss_anon"
            elif head[0] == "Rss:":
                out[kind] += int(head[1]) / 1024
    out["rss"] = sum(out.values())
    return out


def pymalloc_figures() -> dict[str, float]:
    """Arenas pymalloc holds and its bytes in use, from `sys._debugmallocstats()` (its stderr)."""
    stats = getattr(sys, "_debugmallocstats", None)
    if stats is None:
        return {}
    with tempfile.TemporaryFile("w+b") as tmp:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(tmp.fileno(), 2)
            stats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        text = tmp.read().decode("ascii", "replace")
    out: dict[str, float] = {}
    for key, pattern in (
        ("pymalloc_arenas", r"# arenas allocated current\s*=\s*([\d,]+)"),
        ("pymalloc_in_use", r"# bytes in allocated blocks\s*=\s*([\d,]+)"),
    ):
        found = re.search(pattern, text)
        if found:
            value = int(found.group(1).replace(",", ""))
            out[key] = value if key == "pymalloc_arenas" else value / MIB
    return out


def heap_probe() -> dict[str, float]:
    """Everything above, rounded to 0.01 MiB (see the module doc)."""
    found: dict[str, float] = {}
    for part in (glibc_figures, smaps_figures, pymalloc_figures):
        try:
            found.update(part())
        except OSError:
            continue
    return {key: round(value, 2) for key, value in found.items()}
