"""Task start edges in shared memory: how a worker records per-task telemetry almost for free.

Why: a worker already stores, for every task, its start time and id in its shared slot (so the
pool knows which task a dead or stuck worker was running). With per-task telemetry on, those
two stores go instead to the next entry of two shared rings, the edge ring; the worker's only
extra work per task is advancing the index (~30 ns, where recording rows in lists cost ~75).
With each result flush the worker reports which entries are final: ranges of indices
`(a, b]` with the end time of entry b (within a range, a task ends when the next one starts),
and the pool copies them out (`EdgeRing.copy`) straight away.

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

    def copy(self, a: int, b: int) -> tuple[bytes, bytes]:
        """(starts, ids) of the entries after index a up to index b (wrapping), int64 bytes."""
        lo = (a + 1) & self.mask
        n = (b - a) & self.mask
        if lo + n <= len(self.starts):
            return self.starts[lo : lo + n].tobytes(), self.seqs[lo : lo + n].tobytes()
        head = len(self.starts) - lo
        return (
            self.starts[lo:].tobytes() + self.starts[: n - head].tobytes(),
            self.seqs[lo:].tobytes() + self.seqs[: n - head].tobytes(),
        )

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
