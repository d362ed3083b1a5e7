"""Task start edges in shared memory: how a worker records per-task telemetry almost for free.

Why: a worker already stores, for every task, its start time and id in its shared slot (so the
pool knows which task a dead or stuck worker was running). With per-task telemetry on, those
two stores go instead to the next entry of two shared rings, the edge ring; the worker's only
extra work per task is advancing the index (~10-18 ns, where recording rows in lists cost ~75).
With each result flush the worker reports which entries are final: ranges of indices
`(a, b]` with the end time of entry b (within a range, a task ends when the next one starts),
and the pool copies them out (`EdgeRing.copy_into`) straight away.

Why that copy is always in time: entries are written in order, and the pool reads a range as
soon as it reads the frame reporting it, which comes before the results of any later task;
until it has read those results it sends no more tasks, so the worker can be at most about two
windows of tasks (`max_in_flight`) past a range nobody has copied. The ring holds four.

While timed, the worker leaves its slot alone, with `TIMED_START` in the start word; the
newest ring entry (`EdgeRing.newest`) then names the task it started last.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from poolmon.runtime.pool.worker_main import TIMED_START

__all__ = ["TIMED_START", "EdgeRing", "fresh_ids", "ring_entries"]

MIN_ENTRIES = 4096


def ring_entries(max_in_flight: int) -> int:
    """Entries of an edge ring for a pool with this pipeline cap: a power of two, >= 4 windows."""
    n = MIN_ENTRIES
    while n < 4 * max_in_flight:
        n *= 2
    return n


class EdgeRing:
    """The pool's view of one worker's edge ring (two shared int64 arrays: starts, ids)."""

    def __init__(self, raw_starts: Any, raw_seqs: Any) -> None:
        self.starts = np.frombuffer(raw_starts, dtype=np.int64)
        self.seqs = np.frombuffer(raw_seqs, dtype=np.int64)
        self.mask = len(self.starts) - 1
        self._start_bytes = memoryview(raw_starts).cast("B")
        self._seq_bytes = memoryview(raw_seqs).cast("B")

    def span(self, a: int, b: int) -> int:
        """How many entries a report `(a, b]` covers (ring indices, wrapping)."""
        return (b - a) & self.mask

    def copy_into(self, a: int, b: int, starts: bytearray, seqs: bytearray) -> int:
        """Append the entries after index a up to index b (wrapping) to `starts` and `seqs`.

        Returns how many entries that was. Plain byte copies: this runs for every report.
        """
        lo = ((a + 1) & self.mask) * 8
        n = self.span(a, b) * 8
        sb, qb = self._start_bytes, self._seq_bytes
        if lo + n <= len(sb):
            starts += sb[lo : lo + n]
            seqs += qb[lo : lo + n]
        else:
            head = len(sb) - lo
            starts += sb[lo:]
            starts += sb[: n - head]
            seqs += qb[lo:]
            seqs += qb[: n - head]
        return n // 8

    def newest(self) -> tuple[int, int]:
        """(seq, start ns) of the entry written last: starts only grow, so the largest.

        (-1, 0) while nothing was written (the ids start out -1, see `fresh_ids`).
        """
        i = int(self.starts.argmax())
        start = int(self.starts[i])
        if start <= 0:
            return -1, 0
        return int(self.seqs[i]), start


def fresh_ids(raw_seqs: Any) -> None:
    """Fill a new ring's ids with -1 (no task): a torn read of a first-lap entry names none."""
    ctypes.memset(raw_seqs, 0xFF, ctypes.sizeof(raw_seqs))
