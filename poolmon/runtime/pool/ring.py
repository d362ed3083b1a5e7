"""The result ring: a worker's outgoing bytes, in shared memory until the pool has them.

Why: results are coalesced (one write per batch of tasks, the main reason the pool is fast),
so at any instant a worker may hold finished results it has not sent yet. If the worker then
dies (a later task segfaults, the OOM killer strikes, someone sends SIGKILL), those results
would die with it and tasks that had nothing to do with the crash would fail. Instead every
frame the worker produces is first written into a ring of shared memory and its end offset
committed to the worker's slot; the socket carries the same bytes later. After a death the
pool reads the socket to EOF, then takes the committed bytes it never received straight from
the ring. So a finished task's result is never lost, and only the task that was running
fails. Cost: one memoryview slice store and one int store per task in the worker.

Offsets are stream offsets (total bytes produced since the worker started); the ring position
is offset % size. The writer never lets unsent bytes exceed the ring (it flushes first), and
a frame larger than the ring is sent directly after a flush.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

SLOT_COMMIT = 3
RING_BYTES = 1 << 18


class RingWriter:
    """Worker side: append frames, commit their end offset, send what is unsent."""

    def __init__(self, sock: socket.socket, raw_ring: Any, slot: memoryview) -> None:
        self.buf = memoryview(raw_ring).cast("B")
        self.size = len(self.buf)
        self.sock = sock
        self.slot = slot
        self.lock = threading.Lock()
        self.produced = 0  # written by the main thread only
        self.sent = 0  # written under `lock`
        slot[SLOT_COMMIT] = 0

    def push(self, frame: bytes) -> None:
        """Append one frame (the general path; the worker loop inlines the common case)."""
        n = len(frame)
        p = self.produced
        if p + n - self.sent > self.size:
            self.flush()
        if n > self.size:
            with self.lock:
                self.sock.sendall(frame)
                self.sent = p + n
        else:
            size = self.size
            pos = p % size
            first = min(n, size - pos)
            view = memoryview(frame)
            self.buf[pos : pos + first] = view[:first]
            if first < n:
                self.buf[0 : n - first] = view[first:]
        self.produced = p + n
        self.slot[SLOT_COMMIT] = p + n

    def flush(self) -> None:
        """Send every committed byte not yet sent (any thread)."""
        with self.lock:
            end = self.slot[SLOT_COMMIT]
            start = self.sent
            if end <= start:
                return
            self.sock.sendall(read_ring(self.buf, start, end))
            self.sent = end


def read_ring(buf: memoryview, start: int, end: int) -> bytes:
    """The bytes of stream offsets [start, end) from a ring (end - start <= len(buf))."""
    size = len(buf)
    a = start % size
    n = end - start
    if a + n <= size:
        return bytes(buf[a : a + n])
    return bytes(buf[a:]) + bytes(buf[: n - (size - a)])
