"""Submit times without a clock read per submit: checkpoints taken once per dispatch round.

Why: a task row's queue wait is `start - submit`. Reading the clock in `submit` costs ~40 ns,
~3 % of a trivial task's whole cost in the pool (docs/BENCHMARKS.md, telemetry), and the
pool's thread is what limits such a pool. Instead, every dispatch round (the IO thread's
rounds, a submitter's `pump` every 32 submits, the `kick` of a submit into an idle pool)
records one checkpoint `(S, T)`: every task with seq <= S had been submitted by time T. A
task's submit time is the T of the first checkpoint that covers its seq, so:

* the recorded wait is never longer than the true one, and never negative (clamped);
* it is short by at most the time from the submit to the next dispatch round: the time of at
  most 32 submits in a burst, 0 for a submit into an idle pool (it dispatches at once), and
  otherwise until the IO thread's next round (each batch of results, at most one supervisor
  tick, 20 ms, apart).

Checkpoints live until no task they can cover is outstanding (`prune`); a bounded number are
kept, the oldest thinned first (which only makes very old tasks' stamps coarser).
"""

from __future__ import annotations

import time
from array import array

import numpy as np

MAX_CHECKPOINTS = 1 << 16


class SubmitStamps:
    """Checkpoints `(seq, time)` of submits seen by dispatch rounds; looked up by task seq."""

    __slots__ = ("_seqs", "_times", "floor", "last")

    def __init__(self) -> None:
        self._seqs: array[int] = array("q")
        self._times: array[int] = array("q")
        self.last = -1
        """Highest seq covered so far (the newest checkpoint's S)."""
        self.floor = -1
        """Tasks up to this seq were submitted before telemetry was last turned on."""

    def restart(self, last_seq: int) -> None:
        """Telemetry was just turned on: tasks up to `last_seq` have no known submit time."""
        self.floor = self.last = last_seq
        self._seqs = array("q")  # not `del a[:]`: a live numpy view would make that raise
        self._times = array("q")

    def __len__(self) -> int:
        return len(self._seqs)

    def note(self, last_seq: int) -> None:
        """Record that every task up to `last_seq` had been submitted by now (a dispatch round)."""
        if last_seq > self.last:
            self.last = last_seq
            self._seqs = _appended(self._seqs, last_seq)
            self._times = _appended(self._times, time.monotonic_ns())
            if len(self._seqs) > MAX_CHECKPOINTS:
                self._thin()

    def submit_times(self, seqs: np.ndarray, now: int) -> np.ndarray:
        """Submit time (monotonic ns) of each task seq; `now` for seqs no checkpoint covers yet."""
        n = len(self._seqs)
        if not n or not len(seqs):
            return np.full(len(seqs), now, dtype=np.int64)
        cp_seqs = np.frombuffer(self._seqs, dtype=np.int64)
        cp_times = np.frombuffer(self._times, dtype=np.int64)
        # the rows of one batch are recent and close together: search only their stretch
        top = int(seqs.max())
        lo = int(cp_seqs.searchsorted(seqs.min()))
        hi = min(n, int(cp_seqs.searchsorted(top)) + 1)
        idx = cp_seqs[lo:hi].searchsorted(seqs) + lo
        if top <= self.last:  # == cp_seqs[-1]: every row is covered (the common case)
            return cp_times[idx]
        covered = idx < n
        out = np.full(len(seqs), now, dtype=np.int64)
        out[covered] = cp_times[idx[covered]]
        return out

    def submit_time(self, seq: int, now: int) -> int:
        """Submit time of one task (the rare paths: crash, timeout, cancel rows)."""
        return int(self.submit_times(np.array([seq], dtype=np.int64), now)[0])

    def prune(self, oldest_outstanding: int, before_ns: int) -> None:
        """Drop checkpoints no task can need any more.

        The kept ones are copied to new arrays rather than resized in place: resizing an
        array raises BufferError while any numpy view of it lives, and a view outlives
        `submit_times` whenever something holds its frame (a profiler, `gc.get_objects()`),
        which would kill the pool's IO thread. The copy costs what the in-place delete did.

        A checkpoint goes once it covers only seqs below `oldest_outstanding` (the lowest seq
        whose row may still be reported) and is older than `before_ns`: the time margin covers
        rows already on their way (a result the pool has read before the row that goes with it).
        """
        seqs = self._seqs
        if len(seqs) < 2:
            return
        by_seq = int(np.searchsorted(np.frombuffer(seqs, dtype=np.int64), oldest_outstanding))
        by_time = int(np.searchsorted(np.frombuffer(self._times, dtype=np.int64), before_ns))
        cut = min(by_seq, by_time, len(seqs) - 1)
        if cut > 0:  # new arrays, not `del a[:cut]`: see the docstring
            self._seqs = seqs[cut:]
            self._times = self._times[cut:]

    def _thin(self) -> None:
        """Too many checkpoints: drop every other one of the older half."""
        half = len(self._seqs) // 2
        keep_seqs = array("q", self._seqs[:half][1::2])
        keep_times = array("q", self._times[:half][1::2])
        self._seqs = keep_seqs + self._seqs[half:]
        self._times = keep_times + self._times[half:]


def _appended(a: array[int], value: int) -> array[int]:
    """`a` with `value` appended; a copy when a live numpy view forbids resizing (see prune)."""
    try:
        a.append(value)
    except BufferError:
        a = array("q", a)
        a.append(value)
    return a
