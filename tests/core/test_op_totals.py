"""OpTotals: live rows and history rollups give the same since-attach totals; caps; buckets."""

from __future__ import annotations

import numpy as np
import pytest

from poolmon.core.aggregator import Aggregator
from poolmon.core.errors import ProtocolError
from poolmon.core.events import (
    TASK_CANCELLED,
    TASK_CRASHED,
    TASK_ERROR,
    TASK_OK,
    TASK_TIMEOUT,
    TaskBatch,
)
from poolmon.core.op_totals import EXPORT_BOUNDS_S, SKETCH_TO_EXPORT, OpTotals
from poolmon.core.rollup import Rollup, RollupBuilder
from poolmon.core.sketch import bucket_value
from poolmon.testing.clock import ManualClock

T0 = 1_767_225_600_000_000_000


def _batch(statuses: list[int]) -> TaskBatch:
    rows = []
    for i, status in enumerate(statuses):
        duration = 1_000 * (i + 1) ** 2  # 1 us .. spread over several buckets
        err = "ValueError" if status == TASK_ERROR else ""
        op = "resize" if i % 3 else "score"
        rows.append((i, i % 2, op, T0 + 1_000 + i, duration, 10, status, err))
    return TaskBatch.from_rows(rows)


def _live_and_backfilled(statuses: list[int]) -> tuple[Aggregator, Aggregator]:
    batch = _batch(statuses)
    live = Aggregator(ManualClock(T0 + 5_000_000_000))
    live.ingest_tasks(batch)
    builder = RollupBuilder()
    builder.add(batch)
    back = Aggregator(ManualClock(T0 + 5_000_000_000))
    for rollup in builder.flush():
        back.ingest_rollup(rollup)
    return live, back


def test_rollups_and_live_rows_agree_when_failures_are_of_one_kind() -> None:
    statuses = [TASK_OK] * 40 + [TASK_ERROR] * 5 + [TASK_CANCELLED] * 3
    live, back = _live_and_backfilled(statuses)
    a, b = live.stats.op_totals.view(), back.stats.op_totals.view()
    assert {o.name: o.by_status for o in a} == {o.name: o.by_status for o in b}
    assert {o.name: o.buckets for o in a} == {o.name: o.buckets for o in b}
    assert sum(o.count for o in a) == 45  # cancelled never ran: not here
    assert int(live.stats.status_totals[TASK_CANCELLED]) == 3
    sums = {o.name: o.sum_s for o in a}
    assert sums == {o.name: o.sum_s for o in b}


def _by_status(agg: Aggregator) -> dict[str, tuple[int, ...]]:
    return {o.name: o.by_status for o in agg.stats.op_totals.view()}


def test_mixed_failure_kinds_in_a_rollup_keep_their_status_per_op() -> None:
    # A rollup splits each op's failures into timeouts and crashes (the watcher takes only
    # rollups, so poolmon_tasks_total{status} depends on it).
    statuses = [TASK_OK] * 10 + [TASK_ERROR] * 2 + [TASK_TIMEOUT] * 2 + [TASK_CRASHED] * 3
    live, back = _live_and_backfilled(statuses)
    assert _by_status(back) == _by_status(live)
    total = np.sum(list(_by_status(back).values()), axis=0).tolist()
    assert total == [10, 2, 2, 3, 0]


def test_a_rollup_after_part_of_its_second_as_rows_labels_the_rest_exactly() -> None:
    # What `watch --once` meets: the backfill sends the open second's first tasks as rows,
    # then that second's rollup holds them and the rest. The rest's failures (errors here,
    # in a second that also held a timeout) were labelled "failed" instead of "error".
    statuses = [TASK_TIMEOUT, TASK_CRASHED] + [TASK_OK] * 12 + [TASK_ERROR] * 4
    builder = RollupBuilder()
    builder.add(_batch(statuses))
    (rollup,) = builder.flush()
    agg = Aggregator(ManualClock(T0 + 5_000_000_000))
    agg.ingest_tasks(_batch(statuses[:9]))  # the same first 9 rows: the failures are after
    agg.ingest_rollup(rollup)
    live, _ = _live_and_backfilled(statuses)
    assert _by_status(agg) == _by_status(live)
    total = np.sum(list(_by_status(agg).values()), axis=0).tolist()
    assert total == [12, 4, 1, 1, 0]


def test_a_rollup_without_the_split_labels_mixed_failures_failed() -> None:
    statuses = [TASK_OK] * 10 + [TASK_ERROR] * 2 + [TASK_TIMEOUT] * 2
    builder = RollupBuilder()
    builder.add(_batch(statuses))
    (rollup,) = builder.flush()
    wire = rollup.to_wire()
    del wire["of"]  # as an older pool sends it
    back = Aggregator(ManualClock(T0 + 5_000_000_000))
    back.ingest_rollup(Rollup.from_wire(wire))
    total = np.sum(list(_by_status(back).values()), axis=0).tolist()
    assert total == [10, 0, 0, 0, 4]


def test_a_malformed_split_is_a_protocol_error() -> None:
    builder = RollupBuilder()
    builder.add(_batch([TASK_OK, TASK_TIMEOUT]))
    wire = builder.flush()[0].to_wire()
    wire["of"] = [[5, 0]] * len(wire["op"])  # more timeouts than failures
    with pytest.raises(ProtocolError, match="'of'"):
        Rollup.from_wire(wire)


def test_ops_beyond_the_cap_fold_into_other_and_keep_counting() -> None:
    totals = OpTotals(max_ops=2)
    for name in ("a", "b", "c", "d", "a"):
        totals.ingest(
            (name,),
            np.zeros(3, dtype=np.int64),
            np.zeros(3, dtype=np.int64),
            np.zeros(3, dtype=np.intp),
            np.full(3, 50, dtype=np.int64),
        )
    view = {o.name: o.count for o in totals.view()}
    assert view == {"a": 6, "b": 3, "(other)": 6}


def test_every_sketch_bucket_maps_to_the_bound_at_or_above_its_value() -> None:
    bounds_ns = np.array((*EXPORT_BOUNDS_S, np.inf)) * 1e9
    for b, eb in enumerate(SKETCH_TO_EXPORT.tolist()):
        value = bucket_value(b)
        assert value <= bounds_ns[eb]
        assert eb == 0 or value > bounds_ns[eb - 1]
    assert len(EXPORT_BOUNDS_S) == 25
    assert list(EXPORT_BOUNDS_S) == sorted(set(EXPORT_BOUNDS_S))


def test_negative_history_deltas_are_held_back_so_counters_never_go_back() -> None:
    totals = OpTotals()
    counts = np.zeros(1280, dtype=np.int64)
    counts[300] = 5
    totals.add_counts("op", 5, 1, TASK_ERROR, counts, 5e6)
    before = totals.view()[0]
    counts[300] = -1
    totals.add_counts("op", -1, 0, TASK_ERROR, counts, -1e6)  # the pool counted it a second later
    after = totals.view()[0]
    assert after.by_status == before.by_status
    assert after.buckets == before.buckets
    assert after.sum_s == before.sum_s
    counts[300] = 3
    totals.add_counts("op", 3, 0, TASK_ERROR, counts, 3e6)  # ...and here it is
    final = totals.view()[0]
    assert final.count == 7
    assert final.by_status[0] == 6
    assert sum(final.buckets) == 7
    assert abs(final.sum_s - 7e-3) < 1e-12
