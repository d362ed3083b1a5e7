"""Folding a ROLLUPS frame at once gives exactly what ingesting its rollups one by one gives.

`poolmon.core.rollup_batch` writes many seconds into every tier with a few numpy calls; here
two aggregators take the same rollups, one `ingest_rollup` at a time and one frame at a time,
and every piece of their state is compared: each ring's data and slot epochs (status, sketches
and their sum/min/max, per-operation counters and sketches, error types, per-worker series),
totals, the since-attach export totals, the tally, coverage and worker rows, then the
snapshots of every window. On a fresh attach, across a resume (seconds the monitor partly
counted live), a full backfill after a gap, a clock far ahead, overflowing label tables,
fractional sums, and frames out of order.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
import pytest
from aggregator_compare import compare_state

from poolmon.core.aggregator import Aggregator
from poolmon.core.errors import ProtocolError
from poolmon.core.events import TaskBatch
from poolmon.core.rollup import Rollup, RollupBuilder
from poolmon.core.rollup_batch import ingest_rollups
from poolmon.testing.clock import ManualClock

NS = 1_000_000_000
T0 = 1_767_225_600 * NS


def _batch(rng: np.random.Generator, second: int, n: int, n_ops: int, ids: int) -> TaskBatch:
    from array import array

    ops = tuple(f"op{i}" for i in range(n_ops))
    errs = ("", "ValueError", "OSError", "KeyError")
    end = T0 + second * NS + rng.integers(0, NS, n)
    dur = rng.lognormal(np.log(2e6), 1.2, n).astype(np.int64)
    status = rng.choice([0] * 30 + [1, 1, 2, 3, 4], n)
    err = np.where(status == 1, rng.integers(0, len(errs), n), 0)

    def col(v: Any) -> array[int]:
        return array("q", np.asarray(v, dtype=np.int64).tobytes())

    return TaskBatch(
        ops, errs, col(np.arange(ids, ids + n)), col(rng.integers(-1, 9, n)),
        col(rng.integers(0, n_ops, n)), col(end - dur), col(dur),
        col(rng.integers(0, 3 * 10**6, n)), col(status), col(err),
    )  # fmt: skip


def _history(seconds: int, seed: int, n_ops: int = 4) -> tuple[list[TaskBatch], list[Rollup]]:
    """`seconds` of tasks (some seconds empty) and the pool's rollups of them."""
    rng = np.random.default_rng(seed)
    builder = RollupBuilder()
    batches, ids = [], 0
    for s in range(seconds):
        n = 0 if rng.random() < 0.05 else int(rng.integers(1, 300))
        if n:
            batches.append(_batch(rng, s, n, n_ops, ids))
            builder.add(batches[-1])
            ids += n
    return batches, builder.flush()


def _wires(rollups: list[Rollup], packed: bool) -> list[dict[str, Any]]:
    return [r.to_wire(packed) for r in rollups]


def _pair(clock: ManualClock, **kw: Any) -> tuple[Aggregator, Aggregator]:
    return Aggregator(clock, **kw), Aggregator(clock, **kw)


def _feed(one: Aggregator, frames: Aggregator, wires: list[dict[str, Any]], per: int) -> None:
    for w in wires:
        one.ingest_rollup(Rollup.from_wire(w))
    for i in range(0, len(wires), per):
        ingest_rollups(frames, wires[i : i + per])


@pytest.mark.parametrize(
    ("packed", "per", "seed"), [(True, 120, 1), (False, 120, 2), (True, 13, 3), (True, 3, 11)]
)
def test_a_fresh_attach_folds_exactly(packed: bool, per: int, seed: int) -> None:
    clock = ManualClock(T0 + 900 * NS + NS // 2)
    _, rollups = _history(900, seed)
    one, frames = _pair(clock)
    _feed(one, frames, _wires(rollups, packed), per)
    compare_state(one, frames)


def test_overflowing_label_tables_and_worker_rows_fold_exactly() -> None:
    clock = ManualClock(T0 + 200 * NS)
    _, rollups = _history(200, 4, n_ops=9)
    one, frames = _pair(clock, max_ops=4, max_error_types=3, max_workers=5)
    _feed(one, frames, _wires(rollups, True), 50)
    compare_state(one, frames)


def test_fractional_sums_add_in_the_same_order() -> None:
    clock = ManualClock(T0 + 300 * NS)
    _, rollups = _history(300, 5)
    wires = _wires(rollups, True)
    rng = np.random.default_rng(5)
    for w in wires:
        w["d"][2] += float(rng.random()) / 3
        for op in w["op"]:
            op[3][2] += float(rng.random()) / 7
    one, frames = _pair(clock)
    _feed(one, frames, wires, 120)
    compare_state(one, frames)


def test_a_resume_and_a_full_backfill_after_live_data_fold_exactly() -> None:
    """The monitor counted seconds live, lost the link, and gets every rollup again."""
    clock = ManualClock(T0 + 400 * NS + NS // 2)
    batches, rollups = _history(400, 6)
    one, frames = _pair(clock)
    live = [b for b in batches if b.start_ns[0] + b.duration_ns[0] >= T0 + 300 * NS]
    for agg in (one, frames):
        for seq, b in enumerate(live[:40]):  # 40 seconds live from second 300
            agg.ingest_tasks(b, seq=seq)
        agg.mark_gap(T0 + 340 * NS, T0 + 360 * NS)
    _feed(one, frames, _wires(rollups, True), 120)
    compare_state(one, frames)
    # a second backfill of the same seconds adds nothing, both ways
    _feed(one, frames, _wires(rollups, False), 60)
    compare_state(one, frames)


def test_a_clock_far_ahead_of_the_history() -> None:
    clock = ManualClock(T0 + 3000 * NS)
    _, rollups = _history(700, 7)
    one, frames = _pair(clock)
    _feed(one, frames, _wires(rollups, True), 120)
    compare_state(one, frames)


def test_a_frame_out_of_order_is_taken_rollup_by_rollup() -> None:
    clock = ManualClock(T0 + 100 * NS)
    _, rollups = _history(100, 8)
    wires = _wires(rollups, True)
    wires[10], wires[20] = wires[20], wires[10]
    one, frames = _pair(clock)
    _feed(one, frames, wires, 120)
    compare_state(one, frames)


def test_a_malformed_rollup_rejects_the_frame_before_counting() -> None:
    clock = ManualClock(T0 + 100 * NS)
    _, rollups = _history(100, 9)
    wires = _wires(rollups, True)
    wires[50]["q"][0] = b"\x01"  # an odd number of bucket bytes
    agg = Aggregator(clock)
    with pytest.raises(ProtocolError):
        ingest_rollups(agg, wires)
    compare_state(agg, Aggregator(clock))


def test_the_comparison_sees_a_difference() -> None:
    """The state comparison is not vacuous: one rollup fewer is found."""
    clock = ManualClock(T0 + 100 * NS)
    _, rollups = _history(100, 10)
    one, frames = _pair(clock)
    _feed(one, frames, _wires(rollups, True), 120)
    frames.stats.latency.bins.rings[1].data[3, 400] += 1
    with pytest.raises(AssertionError):
        compare_state(one, frames)
    assert isinstance(one.autotune_decisions, deque)
