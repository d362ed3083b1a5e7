"""The vectorised rollup builder against a row-by-row reference, on awkward inputs.

The builder folds whole blocks of rows with numpy (`poolmon.core.rollup_fold`); these tests
check it gives exactly what counting one row at a time gives: mixed name tables, cancelled
rows, sparse and huge worker ids, wide time spans, batches bigger than a fold, tiny folds,
invalid batches skipped whole.
"""

from __future__ import annotations

from array import array
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poolmon.core.events import (
    STATUS_NAMES,
    TASK_CANCELLED,
    TASK_CRASHED,
    TASK_OK,
    TASK_TIMEOUT,
    TaskBatch,
)
from poolmon.core.rollup import Hist, OpRollup, Rollup, RollupBuilder
from poolmon.core.rollup_acc import MAX_TABLES
from poolmon.core.sketch import N_BUCKETS, buckets_of

NS = 1_000_000_000
T0 = 1_700_000_000 * NS
COLUMNS = (
    "task_id",
    "worker_id",
    "op",
    "start_ns",
    "duration_ns",
    "wait_ns",
    "status",
    "error_type",
)


def make(ops, errs, **cols) -> TaskBatch:
    n = len(cols["duration_ns"])
    full = {"task_id": np.arange(n), **cols}
    return TaskBatch(
        ops, errs, *(array("q", np.asarray(full[c], dtype=np.int64).tobytes()) for c in COLUMNS)
    )


def random_batch(rng, n, *, ops, errs, t_span_s=3, workers=(0, 1, 2), cancel=0.05):
    dur = rng.lognormal(np.log(50e3), 1.5, n).astype(np.int64)
    end = T0 + rng.integers(0, t_span_s * NS, n)
    status = rng.choice([0] * 20 + [1, 2, 3], n)
    status[rng.random(n) < cancel] = TASK_CANCELLED
    err = np.where(status == 1, rng.integers(0, len(errs), n), 0)
    return make(
        ops,
        errs,
        worker_id=rng.choice(np.asarray(workers), n),
        op=rng.integers(0, max(len(ops), 1), n),
        start_ns=end - dur,
        duration_ns=dur,
        wait_ns=rng.integers(0, 10**7, n),
        status=status,
        error_type=err,
    )


def _hist(values: list[int]) -> Hist:
    if not values:
        return Hist.of_dense(np.zeros(N_BUCKETS, dtype=np.int64), 0.0, 0, 0)
    a = np.asarray(values, dtype=np.int64)
    counts = np.bincount(buckets_of(a), minlength=N_BUCKETS)
    return Hist.of_dense(counts, float(sum(values)), min(values), max(values))


def reference_rollups(batches: list[TaskBatch]) -> list[Rollup]:
    """Count row by row, in plain Python (the definition the builder must match)."""
    per_second: dict[int, list[tuple[int, str, int, int, int, str]]] = defaultdict(list)
    for b in batches:
        cols = [list(getattr(b, c)) for c in COLUMNS]
        for _, w, o, start, dur, wait, status, et in zip(*cols, strict=True):
            op = b.ops[o] if b.ops else "(unnamed)"
            err = b.error_types[et] if et else STATUS_NAMES[status]
            per_second[(start + dur) // NS].append((w, op, dur, wait, status, err))
    out = []
    for sec in sorted(per_second):
        rows = per_second[sec]
        by_status = [0] * len(STATUS_NAMES)
        for r in rows:
            by_status[r[4]] += 1
        ran = [r for r in rows if r[4] != TASK_CANCELLED]
        ops: dict[str, list[tuple[int, int, int, int, int, str]]] = defaultdict(list)
        workers: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        errors: dict[str, int] = defaultdict(int)
        for r in ran:
            ops[r[1]].append(r)
            workers[r[0]][0] += 1
            if r[4] != TASK_OK:
                workers[r[0]][1] += 1
                errors[r[5]] += 1
        out.append(
            Rollup(
                sec * NS,
                len(rows),
                tuple(by_status),
                tuple(
                    OpRollup(
                        name,
                        len(rs),
                        sum(r[4] != TASK_OK for r in rs),
                        _hist([r[2] for r in rs]),
                        (
                            sum(r[4] == TASK_TIMEOUT for r in rs),
                            sum(r[4] == TASK_CRASHED for r in rs),
                        ),
                    )
                    for name, rs in sorted(ops.items())
                ),
                tuple((w, n, f) for w, (n, f) in sorted(workers.items())),
                tuple(sorted(errors.items())),
                _hist([r[2] for r in ran]),
                _hist([r[3] for r in ran]),
            )
        )
    return out


@pytest.mark.parametrize("fold_rows", [1, 7, 1000, 1 << 14])
def test_matches_row_by_row_counting(fold_rows: int) -> None:
    rng = np.random.default_rng(fold_rows)
    tables = [
        (("a", "b", "c"), ("", "OSError", "KeyError")),
        (("b", "a"), ("", "KeyError")),  # same names, other order: ids must be translated
        ((), ("",)),  # no op names: counted as "(unnamed)"
        (("c", "d", "e", "f"), ("", "ValueError")),
    ]
    batches = [
        random_batch(rng, int(rng.integers(1, 900)), ops=ops, errs=errs)
        for ops, errs in (tables[int(i)] for i in rng.integers(0, len(tables), 40))
    ]
    builder = RollupBuilder(fold_rows=fold_rows)
    for b in batches:
        builder.add(b)
    assert builder.flush() == reference_rollups(batches)
    assert builder.late_rows == builder.invalid_batches == 0


def test_sparse_huge_and_negative_worker_ids_and_a_wide_time_span() -> None:
    rng = np.random.default_rng(7)
    batches = [
        random_batch(rng, 500, ops=("x",), errs=("",), workers=(-1, 3, 10**12), t_span_s=3),
        random_batch(rng, 500, ops=("x", "y"), errs=("",), workers=(0, 5), t_span_s=200_000),
    ]
    builder = RollupBuilder()
    for b in batches:
        builder.add(b)
    assert builder.flush() == reference_rollups(batches)


def test_cancelled_only_seconds_count_but_describe_nothing() -> None:
    n = 10
    batch = make(
        ("a",),
        ("",),
        worker_id=[1] * n,
        op=[0] * n,
        start_ns=[T0] * n,
        duration_ns=[0] * n,
        wait_ns=[5] * n,
        status=[TASK_CANCELLED] * n,
        error_type=[0] * n,
    )
    builder = RollupBuilder()
    builder.add(batch)
    (r,) = builder.flush()
    assert r.count == n
    assert r.by_status[TASK_CANCELLED] == n
    assert r.by_op == ()
    assert r.by_worker == ()
    assert r.duration.count == 0
    assert r.wait.count == 0


@pytest.mark.parametrize(
    "bad",
    [{"op": 3}, {"op": -1}, {"error_type": 2}, {"status": 9}, {"status": -1}],
)
def test_a_batch_with_a_bad_index_is_skipped_whole_and_counted(bad) -> None:
    rng = np.random.default_rng(3)
    good = [random_batch(rng, 50, ops=("a", "b"), errs=("", "E")) for _ in range(3)]
    broken_cols = {c: np.frombuffer(getattr(good[0], c), dtype=np.int64).copy() for c in COLUMNS}
    for col, value in bad.items():
        broken_cols[col][7] = value
    broken = TaskBatch(
        ("a", "b"), ("", "E"), *(array("q", broken_cols[c].tobytes()) for c in COLUMNS)
    )
    builder = RollupBuilder(fold_rows=120)
    for b in (good[0], broken, good[1], good[2]):
        builder.add(b)
    assert builder.flush() == reference_rollups(good)
    assert builder.invalid_batches == 1
    assert builder.invalid_rows == len(broken)


def test_rows_are_counted_when_seconds_close_even_below_the_fold_size() -> None:
    rng = np.random.default_rng(5)
    batch = random_batch(rng, 100, ops=("a",), errs=("",), t_span_s=1)
    builder = RollupBuilder(fold_rows=1 << 14)
    builder.add(batch)
    assert builder.pending_rows == 100
    (r,) = builder.close_before(T0 + NS)
    assert builder.pending_rows == 0
    assert r == reference_rollups([batch])[0]


def test_late_rows_still_queued_when_their_second_closes_are_counted_in_it() -> None:
    # Before folding was deferred a row had to arrive before the close; queued rows are
    # folded first, so a row handed over before the close is always counted in its own second.
    builder = RollupBuilder()
    early = make(("a",), ("",), worker_id=[0], op=[0], start_ns=[T0], duration_ns=[10],
                 wait_ns=[0], status=[0], error_type=[0])  # fmt: skip
    builder.add(early)
    builder.add(early)
    (r,) = builder.close_before(T0 + NS)
    assert r.count == 2
    assert builder.late_rows == 0


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 60), min_size=1, max_size=8),
    fold_rows=st.integers(1, 100),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_split_into_batches_and_folds_gives_the_same_rollups(sizes, fold_rows, seed) -> None:
    rng = np.random.default_rng(seed)
    batches = [random_batch(rng, n, ops=("a", "b"), errs=("", "E"), t_span_s=2) for n in sizes]
    builder = RollupBuilder(fold_rows=fold_rows)
    for b in batches:
        builder.add(b)
    assert builder.flush() == reference_rollups(batches)


def test_many_distinct_name_tables_are_forgotten_between_folds_without_miscounting() -> None:
    rng = np.random.default_rng(11)
    batches = [
        random_batch(rng, 5, ops=(f"op{i}", "common"), errs=("", f"E{i % 7}"), cancel=0.0)
        for i in range(MAX_TABLES + 300)
    ]
    builder = RollupBuilder(fold_rows=64)
    for b in batches:
        builder.add(b)
    assert builder.flush() == reference_rollups(batches)


def test_fold_rows_must_be_positive() -> None:
    with pytest.raises(ValueError):
        RollupBuilder(fold_rows=0)
