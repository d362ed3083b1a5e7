"""A slow monitor's backlog in mappings of its own, so the memory goes back to the OS when sent.

Why: a monitor that falls behind (the app on a busy machine) makes the pool hold up to
`out_buffer_bytes` (8 MiB) queued for it, as about a thousand small frames (one BATCH per
5-ms flush, a few KB each). Below glibc's 128 KiB mmap threshold those came from the endpoint
thread's heap, between long-lived blocks; once the queue drained the heap kept them: in a
probe run a 45-s stall of the app took the pool from 99 to 107 MiB, and RSS stayed at 106-108
MiB afterwards although glibc's memory in use was back where it was (its free space 3.8 ->
12.5 MiB), with the thread heaps' resident size 2-4 MiB higher after each stall
(docs/BENCHMARKS.md, memory). Every such step counts in the RSS slope, for good.

Here, once a connection has `SPILL_AFTER` bytes queued, further small frames are copied into
anonymous mappings of `BLOCK` bytes (`mmap`), which the kernel takes back as soon as the
block is sent. A healthy monitor never gets there (its queue is drained in each flush), so the
common path pays one comparison; a backlogged one pays a memcpy of its frames (about 1 ms a
MiB), only while it is behind. Large parts (above the mmap threshold) are queued as they are:
malloc already gave them mappings of their own.
"""

from __future__ import annotations

import mmap
from collections import deque
from typing import Final

SPILL_AFTER: Final = 256 * 1024
"""Queued bytes beyond which small frames go into mapped blocks (about a socket buffer)."""
BLOCK: Final = 1024 * 1024
"""Size of one mapped block (only the pages written are ever resident)."""
_PRIVATE: Final = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS  # not shared memory (mmap's default)
BIG_PART: Final = 128 * 1024
"""Parts this large are queued as they are (glibc maps them itself at the pinned threshold)."""


class Spill:
    """The block being filled for one connection; sealed blocks go to its output queue."""

    __slots__ = ("_block", "_fill", "blocks")

    def __init__(self) -> None:
        self._block: mmap.mmap | None = None
        self._fill = 0
        self.blocks = 0
        """Blocks mapped so far (for tests and figures)."""

    @property
    def pending(self) -> int:
        """Bytes written into the open block, not yet in the output queue."""
        return self._fill

    def add(self, out: deque[bytes | memoryview], part: bytes | memoryview) -> None:
        """Append `part` after everything queued in `out` and in the open block."""
        if len(part) >= BIG_PART:
            self.seal(out)
            out.append(part)
            return
        view = memoryview(part)
        while view:
            if self._block is None:
                self._block = mmap.mmap(-1, BLOCK, flags=_PRIVATE)
                self._fill = 0
                self.blocks += 1
            n = min(len(view), BLOCK - self._fill)
            self._block[self._fill : self._fill + n] = view[:n]
            self._fill += n
            view = view[n:]
            if self._fill == BLOCK:
                self.seal(out)

    def seal(self, out: deque[bytes | memoryview]) -> None:
        """Move the open block's written bytes to the end of `out` (a later part starts anew)."""
        if self._block is not None and self._fill:
            out.append(memoryview(self._block)[: self._fill])
        self._block = None
        self._fill = 0

    @property
    def open(self) -> bool:
        """Whether a block is being filled (every later part must go after it)."""
        return self._block is not None
