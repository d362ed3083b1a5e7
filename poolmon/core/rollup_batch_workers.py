"""Per-worker counts of a folded ROLLUPS frame (`poolmon.core.rollup_batch`).

Why a module of its own: a backfill's rollups name every worker every second (16 workers x
900 seconds here), so the worker rows are folded with numpy per worker, not per entry; but
the rows must be created in the order the per-second path creates them (a set of the ids
each second names, second after second), and when the table would have to evict on the way
the writes are replayed second by second, so the result is the same in every case.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from poolmon.core.rollup_cols import RollupCols
from poolmon.core.tier_fold import add_rows

if TYPE_CHECKING:
    from poolmon.core.aggregator import Aggregator

I64 = npt.NDArray[np.int64]
IDX = npt.NDArray[np.intp]


def fold_workers(agg: Aggregator, cols: RollupCols, sel: IDX, secs: I64, now: int) -> None:
    """Per-worker totals and series; rows created in the per-second path's order."""
    if not cols.worker_row:
        return
    local = np.full(len(cols.second), -1, dtype=np.intp)
    local[sel] = np.arange(len(sel))
    lsec = local[np.asarray(cols.worker_row, dtype=np.intp)]
    wid = np.asarray(cols.worker_id, dtype=np.int64)
    keep = (lsec >= 0) & (wid >= 0)
    if not keep.any():
        return
    lsec, wid = lsec[keep], wid[keep]
    ids, which = np.unique(wid, return_inverse=True)
    ukey, group = np.unique(lsec * len(ids) + which, return_inverse=True)
    done = np.zeros(len(ukey), dtype=np.int64)
    failed = np.zeros(len(ukey), dtype=np.int64)
    np.add.at(done, group, np.asarray(cols.worker_done, dtype=np.int64)[keep])
    np.add.at(failed, group, np.asarray(cols.worker_failed, dtype=np.int64)[keep])
    written = (done != 0) | (failed != 0)
    gsec, gw = ukey // len(ids), ukey % len(ids)
    table = agg.workers
    present = [int(w) for w in ids[np.unique(gw[written])]]
    new = {w for w in present if w not in table.rows}
    if len(table.rows) + len(new) > table.max_workers:  # evictions on the way: in order
        _workers_one_by_one(
            agg,
            secs,
            lsec,
            wid,
            dict(zip(ukey.tolist(), zip(done.tolist(), failed.tolist(), strict=True), strict=True)),
            len(ids),
            ids,
            now,
        )
        return
    for w in _creation_order(lsec, wid, new, set(ukey[written].tolist()), ids):
        table.get(w, now)
    for w in present:
        rec = table.get(w, now)
        mine = np.flatnonzero(written & (ids[gw] == w))
        rec.tasks_done += int(done[mine].sum())
        rec.tasks_failed += int(failed[mine].sum())
        add_rows(rec.counts, secs[gsec[mine]], np.stack([done[mine], failed[mine]], axis=1))


def _per_second(lsec: IDX, wid: I64) -> list[tuple[int, list[int]]]:
    """Worker ids named by each second, in the rollups' order."""
    out: list[tuple[int, list[int]]] = []
    for s, w in zip(lsec.tolist(), wid.tolist(), strict=True):
        if not out or out[-1][0] != s:
            out.append((s, []))
        out[-1][1].append(w)
    return out


def _creation_order(lsec: IDX, wid: I64, new: set[int], written: set[int], ids: I64) -> list[int]:
    """New workers in the order the per-second path creates them (a set per second)."""
    order: list[int] = []
    if not new:
        return order
    index = {int(w): i for i, w in enumerate(ids.tolist())}
    for s, named in _per_second(lsec, wid):
        for w in set(named):
            if w in new and s * len(ids) + index[w] in written:
                order.append(w)
                new.discard(w)
        if not new:
            break
    return order


def _workers_one_by_one(
    agg: Aggregator, secs: I64, lsec: IDX, wid: I64, counts: dict[int, tuple[int, int]],
    n_ids: int, ids: I64, now: int,
) -> None:  # fmt: skip
    """The per-second path's worker writes, second by second (the table evicts on the way)."""
    index = {int(w): i for i, w in enumerate(ids.tolist())}
    for s, named in _per_second(lsec, wid):
        for w in set(named):
            done, failed = counts[s * n_ids + index[w]]
            if done or failed:
                rec = agg.workers.get(w, now)
                rec.tasks_done += done
                rec.tasks_failed += failed
                rec.counts.add(int(secs[s]), np.array([done, failed], dtype=np.int64))
