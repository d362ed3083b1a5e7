"""Writing many seconds into a `Tiers` at once, exactly as one write per second would.

Why: a backfill writes 900 seconds into every tier of a dozen windowed counters. One
`Tiers.add` per second and counter is ~25 small numpy calls a second; but a ring keeps only
one slot per row, so of the 900 seconds the 1-s tier keeps the last 60, and the 10-s tier
sums ten seconds a slot. The functions here compute, per ring, which seconds survive (those
in the newest slot written to their row: what a second-by-second replay leaves, since a newer
slot clears the row and an older one is refused, `Ring.claim`), clear the rows that move to a
newer slot, and add the survivors' values grouped by row: a few numpy calls per ring for the
whole batch. Integer values add exactly in any order; the float statistics (`add_stats`)
are added with `ufunc.at`, which applies them one by one in the given order, so even a
non-integer sum comes out bit-identical.

Every function takes the seconds in ascending order (the caller checks).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from poolmon.core.ring import Ring, Tiers

I64 = npt.NDArray[np.int64]
IDX = npt.NDArray[np.intp]


def _claim(ring: Ring, seconds: I64) -> tuple[IDX, npt.NDArray[np.bool_]]:
    """Each second's row, and whether it survives; rows moving to a newer slot are cleared."""
    idx = seconds // ring.slot_s
    pos = (idx % ring.n_slots).astype(np.intp)
    final = ring.epoch.copy()
    np.maximum.at(final, pos, idx)
    keep = idx == final[pos]
    moved = np.flatnonzero(final > ring.epoch)
    if len(moved):
        ring.move(moved, final[moved])
    return pos, keep


def add_rows(tiers: Tiers, seconds: I64, rows: npt.NDArray[Any]) -> None:
    """`tiers.add(seconds[i], rows[i])` for every i, in order (integer rows)."""
    if len(seconds) == 0:
        return
    for ring in tiers.rings:
        pos, keep = _claim(ring, seconds)
        if keep.any():
            np.add.at(ring.data, pos[keep], rows[keep].astype(ring.data.dtype, copy=False))


def add_sparse_rows(
    tiers: Tiers, seconds: I64, entry_row: IDX, entry_col: IDX, entry_value: I64
) -> None:
    """`tiers.add(seconds[i], row_i)` for every i, in order, rows given sparsely.

    Row i has `entry_value` at `entry_col` for the entries with `entry_row == i`; every
    second in `seconds` is written (claimed), even one without entries. Integer values.
    """
    if len(seconds) == 0:
        return
    for ring in tiers.rings:
        pos, keep = _claim(ring, seconds)
        live = keep[entry_row]
        if not live.any():
            continue
        width = ring.data.shape[1]
        flat = pos[entry_row[live]] * width + entry_col[live]
        sums = np.bincount(flat, weights=entry_value[live], minlength=ring.n_slots * width)
        ring.data += sums.reshape(ring.n_slots, width).astype(ring.data.dtype)


def add_stats_rows(
    tiers: Tiers, seconds: I64, total: npt.NDArray[np.float64], lo: npt.NDArray[np.float64],
    hi: npt.NDArray[np.float64],
) -> None:  # fmt: skip
    """`tiers.add_stats(seconds[i], total[i], lo[i], hi[i])` for every i, in order."""
    if len(seconds) == 0:
        return
    for ring in tiers.rings:
        pos, keep = _claim(ring, seconds)
        p = pos[keep]
        np.add.at(ring.data[:, 0], p, total[keep])
        np.minimum.at(ring.data[:, 1], p, lo[keep])
        np.maximum.at(ring.data[:, 2], p, hi[keep])
