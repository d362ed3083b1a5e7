"""What the aggregator has counted for each recent second, so a backfill adds only the rest.

A monitor that reconnects after its resume point was evicted gets a full backfill: per-second
rollups of every closed second. For the seconds it saw before the drop, a rollup holds both
tasks the monitor already counted live and tasks it missed while disconnected; ignoring the
rollup loses the missed ones, adding it counts the others twice. `SecondTally` remembers, for
the last `TALLY_S` seconds counted, exactly what went into each second (status counts,
duration and queue-wait bucket counts, per operation, error type and worker), so
`poolmon.core.backfill` can add `rollup - tally`. The difference may be negative in a second
and positive in a later one: the pool counts a row that arrived after its second was closed in
a later second (`poolmon.core.rollup`), and the signed difference moves it there, so every
total comes out exact. Seconds older than the tally are assumed complete (rows are never that
late) and their rollups are ignored.

Everything is kept by the aggregator's own columns (operation and error-type label columns,
worker ids), so the tally costs a few vector adds per batch and second. Memory: about 10 KiB
per second plus 5 KiB per operation active in that second.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from poolmon.core.events import STATUS_NAMES
from poolmon.core.sketch import N_BUCKETS

TALLY_S = 16
"""Seconds (counted back from the newest second counted) whose contents are remembered."""

I64 = npt.NDArray[np.int64]


@dataclass(slots=True)
class OpCount:
    """One operation's tasks within a second: count, failed, duration buckets and sum.

    `timeouts` and `crashes` are among `failed` (the rest are errors), so a rollup that holds
    more of the second than was counted labels the rest's failures exactly (their kind is
    the rollup's split minus this one's); 0 where a rollup from an older pool did not say.
    """

    count: int = 0
    failed: int = 0
    timeouts: int = 0
    crashes: int = 0
    buckets: I64 = field(default_factory=lambda: np.zeros(N_BUCKETS, dtype=np.int64))
    sum_ns: float = 0.0


@dataclass(slots=True)
class SecondCount:
    """Everything counted for one second, in the aggregator's columns (see module doc)."""

    status: I64 = field(default_factory=lambda: np.zeros(len(STATUS_NAMES), dtype=np.int64))
    duration: I64 = field(default_factory=lambda: np.zeros(N_BUCKETS, dtype=np.int64))
    duration_sum_ns: float = 0.0
    wait: I64 = field(default_factory=lambda: np.zeros(N_BUCKETS, dtype=np.int64))
    wait_sum_ns: float = 0.0
    ops: dict[int, OpCount] = field(default_factory=dict)
    errors: dict[int, int] = field(default_factory=dict)
    workers: dict[int, list[int]] = field(default_factory=dict)
    """worker id -> [done, failed]."""

    def op(self, col: int) -> OpCount:
        """The (new if needed) count of operation column `col`."""
        found = self.ops.get(col)
        if found is None:
            found = self.ops[col] = OpCount()
        return found

    def add_worker(self, worker_id: int, done: int, failed: int) -> None:
        """Count `done` tasks (`failed` of them failed) for a worker."""
        row = self.workers.get(worker_id)
        if row is None:
            self.workers[worker_id] = [done, failed]
        else:
            row[0] += done
            row[1] += failed

    @property
    def count(self) -> int:
        """Rows counted in this second (every status)."""
        return int(self.status.sum())


class SecondTally:
    """The contents of the last `TALLY_S` seconds counted (see module doc)."""

    def __init__(self, keep_s: int = TALLY_S) -> None:
        self.keep_s = keep_s
        self.seconds: dict[int, SecondCount] = {}
        self.newest: int | None = None
        """The newest second anything was counted for (None: nothing yet)."""

    def remembers(self, second: int) -> bool:
        """Whether `second` is recent enough for its contents to be known."""
        return self.newest is None or second >= self.newest - self.keep_s

    def at(self, second: int) -> SecondCount | None:
        """The count of `second` to add to, or None when it is older than the tally keeps."""
        found = self.seconds.get(second)
        if found is not None:
            return found
        if not self.remembers(second):
            return None
        found = self.seconds[second] = SecondCount()
        if self.newest is None or second > self.newest:
            self.newest = second
            limit = second - self.keep_s
            for old in [s for s in self.seconds if s < limit]:
                del self.seconds[old]
        return found

    def replace(self, second: int, count: SecondCount) -> None:
        """Set what `second` holds (after a rollup made it equal to the pool's)."""
        self.seconds.pop(second, None)
        if self.at(second) is not None:
            self.seconds[second] = count

    def drop_after(self, second: int) -> None:
        """Forget seconds after `second` (the clock went backwards)."""
        for s in [s for s in self.seconds if s > second]:
            del self.seconds[s]
        if self.newest is not None and self.newest > second:
            self.newest = max(self.seconds, default=None)

    def clear(self) -> None:
        """Forget everything (a new pool instance: its seconds are not ours)."""
        self.seconds.clear()
        self.newest = None
