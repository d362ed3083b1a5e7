"""Windowed counters with a bounded label set, in the spirit of prometheus_client's Counter.

`LabeledCounter` counts events per label value (an operation, an error type, a category) in
time slots, so any window is a sum of slots, and it also keeps a monotonic total per label since
the monitor started (what a Prometheus `_total` would show). Label values get a column on first
use; the table is bounded (`max_labels`): once full, new values are counted under
`OVERFLOW_LABEL`, so a program that invents a new error type per task cannot grow memory.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from poolmon.core.ring import Tier, Tiers

OVERFLOW_LABEL = "(other)"
"""Where values beyond `max_labels` are counted."""


class KeyTable:
    """Label value -> column, bounded; the last column is the overflow bucket."""

    __slots__ = ("_index", "max_labels", "names")

    def __init__(self, max_labels: int) -> None:
        if max_labels < 2:
            raise ValueError("a KeyTable needs room for at least one label and the overflow")
        self.max_labels = max_labels
        self.names: list[str] = []
        self._index: dict[str, int] = {}

    def column(self, name: str) -> int:
        """Column of `name`, assigning one if there is room, else the overflow column."""
        col = self._index.get(name)
        if col is not None:
            return col
        if len(self.names) < self.max_labels - 1:
            col = len(self.names)
            self.names.append(name)
            self._index[name] = col
            return col
        return self.max_labels - 1

    def name(self, col: int) -> str:
        """Label value of a column."""
        return self.names[col] if col < len(self.names) else OVERFLOW_LABEL

    def lookup(self, names: Sequence[str]) -> npt.NDArray[np.intp]:
        """Columns for a whole name table (a TaskBatch's ops or error types) at once."""
        return np.array([self.column(n) for n in names], dtype=np.intp)


class NameTally:
    """Events counted by name since the monitor started, bounded like a `KeyTable`.

    Why not a `LabeledCounter`: counting every event into its per-second slots cost a quarter
    of an event's ingestion (numpy scalar updates in three tiers), and nothing reads event
    counts per window, only whether a name was ever seen.
    """

    __slots__ = ("counts", "keys")

    def __init__(self, max_labels: int = 64) -> None:
        self.keys = KeyTable(max_labels)
        self.counts = [0] * max_labels

    @property
    def nbytes(self) -> int:
        """Fixed footprint in bytes (one 8-byte slot per label, as a counter would hold)."""
        return 8 * len(self.counts)

    def inc(self, name: str) -> None:
        """Count one event called `name`."""
        self.counts[self.keys.column(name)] += 1

    def count(self, name: str) -> int:
        """Events called `name` so far (0 if never seen; names past the bound are not kept)."""
        col = self.keys._index.get(name)
        return 0 if col is None else self.counts[col]


class LabeledCounter:
    """Counts per label, per time slot, with `width` counters per label (see module doc)."""

    __slots__ = ("keys", "ring", "totals", "width")

    def __init__(self, tiers: Sequence[Tier], max_labels: int = 64, width: int = 1) -> None:
        self.keys = KeyTable(max_labels)
        self.width = width
        self.ring = Tiers(tiers, (max_labels, width), np.int64)
        self.totals = np.zeros((max_labels, width), dtype=np.int64)

    @property
    def nbytes(self) -> int:
        """Fixed footprint in bytes."""
        return self.ring.nbytes + int(self.totals.nbytes)

    def add(self, second: int, counts: npt.NDArray[np.int64]) -> None:
        """Add a full `(max_labels, width)` block of counts into `second`."""
        self.ring.add(second, counts)
        self.totals += counts

    def inc(self, second: int, name: str, amount: int = 1, field: int = 0) -> None:
        """Add `amount` to one label's counter (slow path for single events)."""
        col = self.keys.column(name)
        self.ring.add_at(second, (col, field), amount)
        self.totals[col, field] += amount

    def drop_after(self, second: int) -> None:
        """Forget slots after `second` (clock went backwards)."""
        self.ring.drop_after(second)

    def window(self, now_s: int, window_s: int, field: int = 0) -> dict[str, int]:
        """Non-zero counts per label over the window, largest first."""
        sums = self.ring.window_sum(now_s, window_s)
        return self._named(sums[:, field])

    def window_block(self, now_s: int, window_s: int) -> npt.NDArray[np.int64]:
        """The whole `(max_labels, width)` sum over the window."""
        return self.ring.window_sum(now_s, window_s).astype(np.int64)

    def total(self, field: int = 0) -> dict[str, int]:
        """Non-zero totals per label since the monitor started."""
        return self._named(self.totals[:, field])

    def _named(self, column: npt.NDArray[np.int64]) -> dict[str, int]:
        nz = np.flatnonzero(column)
        pairs = [(self.keys.name(int(c)), int(column[c])) for c in nz]
        pairs.sort(key=lambda p: (-p[1], p[0]))
        return dict(pairs)
