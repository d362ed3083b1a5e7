"""The history's row ring gives back exactly the rows put in, across wraps, growth and drops."""

from __future__ import annotations

import random
from array import array
from collections import deque

import pytest
from endpoint_fakes import tasks

from poolmon.core.events import TASK_COLUMNS, TaskBatch
from poolmon.runtime.endpoint import History
from poolmon.runtime.endpoint.row_ring import FIRST_ROWS, RingRows, RowRing

T0 = 1_700_000_000 * 10**9
S = 10**9


def rows_of(batch: TaskBatch) -> list[tuple[int, ...]]:
    """The batch's rows as tuples of its eight columns (the ground truth to compare with)."""
    cols = [list(getattr(batch, name)) for name in TASK_COLUMNS]
    return list(zip(*cols, strict=True))


def test_a_batch_comes_back_as_put_and_the_copy_is_its_own() -> None:
    ring = RowRing(100)
    batch = tasks(7, start=40, at_ns=T0)
    where = ring.put(batch)
    assert where is not None
    out = ring.batch(where, batch.ops, batch.error_types)
    assert rows_of(out) == rows_of(batch)
    assert out.ops == batch.ops
    assert out.error_types == batch.error_types
    ring.drop_oldest()
    ring.put(tasks(7, start=900, at_ns=T0))  # reuses the rows: the copy given out is unchanged
    assert rows_of(out) == rows_of(batch)


def test_full_empty_and_oversized_batches_are_refused_not_truncated() -> None:
    ring = RowRing(10)
    assert ring.put(tasks(0)) is None  # empty: kept as it is by the history
    assert ring.put(tasks(11)) is None  # larger than the ring
    assert ring.put(tasks(6)) is not None
    assert ring.put(tasks(5)) is None  # 4 rows left
    assert ring.put(tasks(4)) is not None
    assert ring.rows == 10
    assert len(ring) == 2
    with pytest.raises(ValueError, match="capacity_rows"):
        RowRing(-1)


def test_a_batch_that_does_not_fit_at_the_end_starts_again_at_row_zero() -> None:
    ring = RowRing(10)
    first = ring.put(tasks(4, start=0))
    second = ring.put(tasks(4, start=4))
    assert first is not None
    assert second is not None
    ring.drop_oldest()  # rows 0-3 free, 4-7 held, 8-9 free
    third = ring.put(tasks(3, start=8))  # does not fit in 8-9: goes to 0
    assert third is not None
    assert third.start == 0
    assert ring.put(tasks(2, start=11)) is None  # 3 is the only free row before the held 4-7
    fourth = ring.put(tasks(1, start=11))
    assert fourth is not None
    assert fourth.start == 3


def test_a_growth_aims_at_the_rows_the_bound_lets_batches_of_that_size_hold() -> None:
    """16 MiB of rows, 1 KiB a batch: a row a batch holds ~15,400 rows, 3,000 a batch all.

    The aim needs 8 batches held (`AIM_AFTER_BATCHES`); before that the block doubles.
    """
    cap = 16 * 1024 * 1024 // 64
    small, large = RowRing(cap, overhead_rows=16), RowRing(cap, overhead_rows=16)
    one_row = tasks(1)
    for _ in range(FIRST_ROWS + 1):  # the first block full of one-row batches, then one more
        assert small.put(one_row) is not None
    assert small.block_rows == int(1.1 * cap / 17)  # a tenth over the steady 15,420 rows
    sizes = []
    for _ in range(12):
        assert large.put(tasks(3000)) is not None
        sizes.append(large.block_rows)
    # 4,096 doubling while fewer than 8 are held, then the whole bound at once
    assert sorted(set(sizes)) == [FIRST_ROWS, 2 * FIRST_ROWS, 4 * FIRST_ROWS, 8 * FIRST_ROWS, cap]
    with pytest.raises(ValueError, match="overhead_rows"):
        RowRing(10, overhead_rows=-1)


def test_the_block_grows_only_when_a_batch_finds_no_room_and_keeps_every_row() -> None:
    cap = 4 * FIRST_ROWS
    ring = RowRing(cap, overhead_rows=10**6)  # aims low: grows by doubling
    assert ring.allocated_bytes == 0  # nothing allocated before the first batch
    kept: deque[tuple[RingRows, TaskBatch]] = deque()
    n = 0
    while ring.block_rows < cap:
        batch = tasks(1000, start=n)
        n += 1000
        where = ring.put(batch)
        assert where is not None
        kept.append((where, batch))
    assert ring.block_rows == cap
    assert ring.allocated_bytes == cap * 8 * len(TASK_COLUMNS)
    for where, batch in kept:  # moved to the front of each new block, still the same rows
        assert rows_of(ring.batch(where, batch.ops, batch.error_types)) == rows_of(batch)


def test_random_puts_and_drops_match_a_plain_list_of_the_batches() -> None:
    rng = random.Random(17)
    ring = RowRing(3000)
    model: deque[tuple[RingRows, TaskBatch]] = deque()
    n = 0
    for _ in range(5000):
        if model and (rng.random() < 0.45 or ring.rows > 2500):
            model.popleft()
            ring.drop_oldest()
            continue
        batch = tasks(rng.randint(1, 400), start=n, at_ns=T0 + n)
        n += len(batch.task_id)
        where = ring.put(batch)
        if where is None:  # refused only when the free rows really are too few or split
            assert ring.rows + len(batch.task_id) > ring.block_rows - 400
            continue
        model.append((where, batch))
        assert ring.rows == sum(len(b.task_id) for _, b in model)
    for where, batch in model:
        assert rows_of(ring.batch(where, batch.ops, batch.error_types)) == rows_of(batch)


def test_the_history_resumes_every_row_across_many_laps_of_its_ring() -> None:
    """Resume and backfill read rows out of the ring: the same rows, each once, in order."""
    history = History(raw_task_bytes=64 * 2000, close_grace_s=0)
    sent: list[tuple[int, TaskBatch]] = []
    n = 0
    for sec in range(200):  # ~40 laps of a 2,000-row ring
        for part in range(5):
            batch = tasks(90, start=n, at_ns=T0 + sec * S + part)
            n += 90
            sent.append((history.add_tasks(batch), batch))
        history.tick(T0 + (sec + 1) * S)
    oldest = history.oldest_seq
    assert oldest > 0  # the bound made it drop the oldest batches
    resumed = history.resume(oldest)
    assert resumed is not None
    held = [(seq, b) for seq, b in sent if seq >= oldest]
    assert [seq for seq, _ in resumed] == [seq for seq, _ in held]
    for (_, got), (_, want) in zip(resumed, held, strict=True):
        assert isinstance(got, TaskBatch)
        assert rows_of(got) == rows_of(want)
    assert history.resume(oldest - 1) is None


def test_rows_not_rolled_up_are_kept_even_when_the_ring_is_full() -> None:
    """Nothing closes (grace 60 s): the ring fills, and later batches are held as they are."""
    history = History(raw_task_bytes=64 * 500, close_grace_s=60)
    sent = []
    for i in range(20):
        batch = tasks(100, start=i * 100, at_ns=T0 + i)
        sent.append((history.add_tasks(batch), batch))
    history.tick(T0 + 2 * S)  # second T0 not closed yet: every row is its only copy
    backfill = history.backfill()
    got = [r for _, r in backfill.records if isinstance(r, TaskBatch)]
    assert sum(len(b.task_id) for b in got) == 2000
    assert [rows_of(b) for b in got] == [rows_of(b) for _, b in sent]


def test_growing_while_wrapped_keeps_both_runs_of_rows_in_order() -> None:
    """Held rows split by a wrap (end of the block, then its start) move as two runs."""
    ring = RowRing(4 * FIRST_ROWS, overhead_rows=4000)  # aims low: the first block is 4,096
    model: deque[tuple[RingRows, TaskBatch]] = deque()
    n = 0

    def put(rows: int) -> RingRows | None:
        nonlocal n
        batch = tasks(rows, start=n)
        n += rows
        where = ring.put(batch)
        if where is not None:
            model.append((where, batch))
        return where

    for _ in range(4):
        assert put(1000) is not None  # rows 0-3999 of the first 4,096-row block
    for _ in range(2):
        model.popleft()
        ring.drop_oldest()  # rows 0-1999 free
    wrapped = put(1500)
    assert wrapped is not None
    assert wrapped.start == 0  # 96 rows left at the end: wrapped to the start
    assert ring.block_rows == FIRST_ROWS
    grown = put(3000)  # no room: the block doubles with the two runs moved in order
    assert grown is not None
    assert ring.block_rows == 2 * FIRST_ROWS
    assert [w.start for w, _ in model] == [0, 1000, 2000, 3500]
    for where, batch in model:
        assert rows_of(ring.batch(where, batch.ops, batch.error_types)) == rows_of(batch)


def test_a_wrap_that_splits_the_free_rows_never_costs_a_batch_under_the_bound() -> None:
    """Free rows on both sides of the oldest batch, neither big enough: hold the new batch as
    it is rather than drop a batch the bound would keep (a monitor could no longer resume)."""
    history = History(raw_task_bytes=64 * 1000, close_grace_s=0)
    for i, rows in enumerate((200, 300, 250, 300)):
        history.add_tasks(tasks(rows, start=i * 1000, at_ns=T0 + 10 * i * S))
        history.tick(T0 + (10 * i + 5) * S)  # every batch rolled up
    assert history.held_bytes - history.rollup_bytes <= 64 * 1000
    assert history.oldest_seq == 1  # only what the byte bound drops: the first batch
    resumed = history.resume(1)
    assert resumed is not None
    assert [len(b.task_id) for _, b in resumed] == [300, 250, 300]  # type: ignore[union-attr]


def test_columns_of_other_8_byte_integer_types_are_held_too() -> None:
    """array('l') and numpy int64 columns pass TaskBatch's checks; the ring takes them as well."""
    import numpy as np

    base = tasks(5, start=70)
    for convert in (lambda c: array("l", c), lambda c: np.asarray(c, dtype=np.int64)):
        batch = TaskBatch(
            base.ops, base.error_types, *(convert(getattr(base, n)) for n in TASK_COLUMNS)
        )
        ring = RowRing(100)
        where = ring.put(batch)
        assert where is not None
        assert rows_of(ring.batch(where, batch.ops, batch.error_types)) == rows_of(base)


def test_one_large_batch_does_not_map_the_whole_bound() -> None:
    """A single 3,000-row burst says little about the steady size: the block only doubles."""
    ring = RowRing(16 * 1024 * 1024 // 64, overhead_rows=16)
    ring.put(tasks(3000))
    assert ring.block_rows == FIRST_ROWS


def test_random_history_matches_a_plain_record_of_what_was_added_at_every_step() -> None:
    """Batches of every size (empty, one row, the ring's size and over), late rows, ticks:
    after each step a resume from the oldest held seq returns exactly the batches added since,
    and the ring's regions are the ring-held batches, in order."""
    for seed in range(40):
        rng = random.Random(seed)
        cap = rng.choice([50, 300, 2000])
        history = History(raw_task_bytes=cap * 64, close_grace_s=rng.choice([0, 0.5, 3]))
        added: dict[int, TaskBatch] = {}
        now, n = T0, 0
        for _ in range(150):
            if rng.random() < 0.7:
                rows = rng.choice([0, 1, 2, rng.randint(1, cap // 3 + 1), rng.randint(1, cap + 5)])
                batch = tasks(rows, start=n, at_ns=now - rng.randint(0, 3 * S))
                n += rows
                added[history.add_tasks(batch)] = batch
            else:
                now += rng.randint(0, 2 * S)
                history.tick(now)
            oldest = history.oldest_seq
            resumed = history.resume(oldest)
            assert resumed is not None
            want = [(seq, b) for seq, b in sorted(added.items()) if seq >= oldest]
            assert [seq for seq, _ in resumed] == [seq for seq, _ in want], seed
            for (_, got), (_, batch) in zip(resumed, want, strict=True):
                assert rows_of(got) == rows_of(batch), seed  # type: ignore[arg-type]
            in_ring = [held.where for held in history._tasks if held.where is not None]
            assert in_ring == list(history._ring._regions), seed
