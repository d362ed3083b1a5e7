"""Time-slot ring buffers: fixed memory, windows that slide by whole slots.

A `Ring` keeps `n_slots` rows of a numpy array, one per time slot of `slot_s` seconds. Each row
remembers which absolute slot (`second // slot_s`) it holds (its epoch). Writing to a slot
whose row holds an older epoch clears the row first, so stale data is never mixed in; writing
to a slot older than everything the ring holds is refused (too late). A read asks for the slots
in `(now_slot - k, now_slot]` and gets only rows whose epoch is inside: slots that were never
written, or hold data older than the window, or newer than `now` (after the clock jumped
backwards), are simply not selected. That is what makes windows slide correctly across slot
boundaries and across clock jumps in either direction.

A `Tiers` object is the same row layout kept at several resolutions at once (e.g. 60 x 1 s,
90 x 10 s, 60 x 60 s): every write goes to every tier, and a window is read from the finest tier
that spans it. Writing each tier directly costs one vector add per tier and batch, and avoids
any roll-up cascade that could lose or double data when slots are late or the clock jumps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

Tier = tuple[int, int]
"""`(slot_s, n_slots)`: slot width in seconds and how many slots are kept."""

_NEVER = -(2**62)

POOL_TIERS: tuple[Tier, ...] = ((1, 60), (10, 90), (60, 60))
"""Pool-wide series: 1 min at 1 s, 15 min at 10 s, 1 h at 1 min."""

ENTITY_TIERS: tuple[Tier, ...] = ((10, 6), (60, 15), (300, 12))
"""Per-operation and per-worker series: 1 min at 10 s, 15 min at 1 min, 1 h at 5 min."""

WORKER_SERIES_TIERS: tuple[Tier, ...] = ((5, 14), (60, 15), (300, 12))
"""A worker's drill-down series (tasks/s, RSS): 70 s at 5 s, then like `ENTITY_TIERS`.

Six 10-s slots, one still filling, left the first 10-20 s of the one-minute chart blank;
fourteen 5-s slots cover the whole minute. 1-s slots would too, but every snapshot builds
these series for every worker, and 60 points each cost 40 % more snapshot time at 64 workers.
"""


class Ring:
    """`n_slots` rows of shape `row_shape`, one per `slot_s`-second slot (see module doc)."""

    __slots__ = ("_held", "data", "epoch", "fill", "n_slots", "slot_s")

    def __init__(
        self,
        slot_s: int,
        n_slots: int,
        row_shape: tuple[int, ...] = (),
        dtype: Any = np.int64,
        fill: Any = 0,
    ) -> None:
        if slot_s < 1 or n_slots < 1:
            raise ValueError(f"a ring needs slot_s >= 1 and n_slots >= 1, got {slot_s}, {n_slots}")
        self.slot_s = slot_s
        self.n_slots = n_slots
        self.fill = fill
        self.data: npt.NDArray[Any] = np.empty((n_slots, *row_shape), dtype=dtype)
        self.data[:] = fill
        self.epoch: npt.NDArray[np.int64] = np.full(n_slots, _NEVER, dtype=np.int64)
        self._held = [_NEVER] * n_slots  # the same epochs as a list: claim() is on the hot path

    @property
    def span_s(self) -> int:
        """Seconds of history the ring holds."""
        return self.slot_s * self.n_slots

    @property
    def nbytes(self) -> int:
        """Bytes held by the ring's arrays (its whole, fixed footprint)."""
        return int(self.data.nbytes + self.epoch.nbytes + 8 * self.n_slots)

    def claim(self, second: int) -> int:
        """Row for the slot containing `second`, cleared if it held an older slot; -1 if too old."""
        idx = second // self.slot_s
        pos = idx % self.n_slots
        held = self._held[pos]
        if held == idx:
            return pos
        if idx > held:
            self.data[pos] = self.fill
            self.epoch[pos] = idx
            self._held[pos] = idx
            return pos
        return -1

    def move(self, rows: npt.NDArray[np.intp], epochs: npt.NDArray[np.int64]) -> None:
        """Clear `rows` and make them hold the (newer) slots `epochs` (many claims at once)."""
        self.data[rows] = self.fill
        self.epoch[rows] = epochs
        self._held = self.epoch.tolist()

    def drop_after(self, second: int) -> None:
        """Forget every slot that starts after `second` (the clock went back past them)."""
        idx = second // self.slot_s
        future = self.epoch > idx
        if future.any():
            self.data[future] = self.fill
            self.epoch[future] = _NEVER
            self._held = self.epoch.tolist()

    def window_rows(self, now_s: int, window_s: int) -> npt.NDArray[np.bool_]:
        """Mask of rows inside the last `ceil(window_s / slot_s)` slots ending at `now_s`."""
        last = now_s // self.slot_s
        k = -(-window_s // self.slot_s)
        return (self.epoch > last - k) & (self.epoch <= last)

    def slot_values(
        self, first_idx: int, count: int
    ) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
        """Rows for absolute slots `first_idx .. first_idx + count - 1`, with a held-mask.

        Slots the ring does not hold come back as `fill` rows with mask False.
        """
        idxs = np.arange(first_idx, first_idx + count, dtype=np.int64)
        pos = idxs % self.n_slots
        held = self.epoch[pos] == idxs
        rows = self.data[pos].copy()
        rows[~held] = self.fill
        return rows, held


class Tiers:
    """The same row layout at several resolutions; writes go to all, reads pick the finest."""

    __slots__ = ("rings",)

    def __init__(
        self,
        tiers: Sequence[Tier],
        row_shape: tuple[int, ...] = (),
        dtype: Any = np.int64,
        fill: Any = 0,
    ) -> None:
        self.rings = tuple(Ring(s, n, row_shape, dtype, fill) for s, n in tiers)

    @property
    def nbytes(self) -> int:
        """Fixed footprint of all tiers."""
        return sum(r.nbytes for r in self.rings)

    def for_window(self, window_s: int) -> Ring:
        """The finest ring that spans `window_s` (the coarsest if none does)."""
        for ring in self.rings:
            if ring.span_s >= window_s:
                return ring
        return self.rings[-1]

    def for_range(self, oldest_s: int, now_s: int, step_s: int) -> Ring:
        """The finest ring whose slots divide `step_s` and that still holds `oldest_s`."""
        fallback = self.rings[-1]
        for ring in self.rings:
            if step_s % ring.slot_s == 0 and now_s - oldest_s < ring.span_s:
                return ring
        for ring in self.rings:
            if now_s - oldest_s < ring.span_s:
                return ring
        return fallback

    def add(self, second: int, values: Any) -> None:
        """Add `values` (a row, or anything broadcastable to one) into `second`'s slot."""
        for ring in self.rings:
            pos = ring.claim(second)
            if pos >= 0:
                ring.data[pos] += values

    def add_at(self, second: int, index: Any, values: Any) -> None:
        """Add `values` into part of `second`'s row (`row[index] += values`)."""
        for ring in self.rings:
            pos = ring.claim(second)
            if pos >= 0:
                key = (pos, *index) if isinstance(index, tuple) else (pos, index)
                ring.data[key] += values

    def add_stats(self, second: int, total: float, lo: float, hi: float) -> None:
        """Fold `(sum, min, max)` into a `(3,)` row holding the same (fill `[0, inf, -inf]`)."""
        for ring in self.rings:
            pos = ring.claim(second)
            if pos >= 0:
                row = ring.data[pos]
                row[0] += total
                if lo < row[1]:
                    row[1] = lo
                if hi > row[2]:
                    row[2] = hi

    def drop_after(self, second: int) -> None:
        """Forget slots after `second` in every tier (clock went backwards)."""
        for ring in self.rings:
            ring.drop_after(second)

    def window_sum(self, now_s: int, window_s: int) -> npt.NDArray[Any]:
        """Sum of the rows in the window (a row of zeros when nothing is held)."""
        ring = self.for_window(window_s)
        mask = ring.window_rows(now_s, window_s)
        return np.asarray(ring.data[mask].sum(axis=0))
