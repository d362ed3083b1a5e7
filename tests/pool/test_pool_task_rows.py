"""Task rows: the worker's edge ring, the pool's send notes and submit checkpoints, joined."""

from __future__ import annotations

import struct
import time
from array import array
from collections import deque
from multiprocessing import RawArray
from types import SimpleNamespace
from typing import Any

import numpy as np
import pool_test_tasks as t
import pytest

from poolmon.bench.tasks import fail, ident
from poolmon.core.events import TASK_ERROR, TASK_OK, TaskBatch
from poolmon.runtime.pool import Pool
from poolmon.runtime.pool.edges import EdgeRing, ring_entries
from poolmon.runtime.pool.framing import FunctionTable
from poolmon.runtime.pool.submitstamps import SubmitStamps
from poolmon.runtime.pool.taskrows import StampMismatch, buffer_frame, join_rows, take_rows
from poolmon.runtime.telemetry import Telemetry


def _q(*values: int) -> bytes:
    return struct.pack(f"{len(values)}q", *values)


def _worker(runs: list[tuple[int, Any]], entries: int = 8) -> Any:
    raw = (RawArray("q", entries), RawArray("q", entries))
    return SimpleNamespace(
        wid=7,
        edges=EdgeRing(*raw),
        sent_ops=deque([n, op, 0] for n, op in runs),
        start_buf=bytearray(),
        seq_buf=bytearray(),
        error_buf=bytearray(),
        err_names=[""],
        range_ends=[],
    )


def _stamps(*checkpoints: tuple[int, int]) -> SubmitStamps:
    stamps = SubmitStamps()
    for seq, at in checkpoints:
        stamps.note(seq)
        stamps._times[-1] = at  # a fixed clock for the test
    return stamps


def test_starts_ends_and_waits_from_ranges_and_checkpoints() -> None:
    # two ranges: tasks 10, 11 (ending at 250), then task 12 after a fresh read (ends 400)
    w = _worker([(3, 0)])
    starts = [100, 180, 300]
    stamps = _stamps((11, 90), (12, 280))  # 10 and 11 submitted by 90, 12 by 280
    batch = join_rows(
        w, _q(*starts), _q(10, 11, 12), [(2, 250), (1, 400)], b"", [""], ("a",), stamps
    )
    assert batch is not None
    offset = batch.start_ns[0] - 100  # monotonic -> wall clock, one offset per batch
    assert abs(offset - (time.time_ns() - time.monotonic_ns())) < 1_000_000_000
    assert list(batch.task_id) == [10, 11, 12]
    assert list(batch.worker_id) == [7, 7, 7]
    assert list(batch.start_ns) == [s + offset for s in starts]
    assert list(batch.duration_ns) == [80, 70, 100]  # 180-100, 250-180, 400-300
    assert list(batch.wait_ns) == [10, 90, 20]
    assert list(batch.status) == [TASK_OK] * 3
    assert not w.sent_ops


def test_waits_are_never_negative_and_uncovered_tasks_wait_zero() -> None:
    w = _worker([(2, 0)])
    stamps = _stamps((5, 500))
    # task 5 "started" before its checkpoint (a submit racing a dispatch round); task 6 has
    # no checkpoint yet: both report 0 rather than a made-up number
    batch = join_rows(w, _q(400, 450), _q(5, 6), [(2, 470)], b"", [""], ("a",), stamps)
    assert batch is not None
    assert list(batch.wait_ns) == [0, 0]


def test_ops_follow_the_send_notes_and_errors_land_on_their_rows() -> None:
    w = _worker([(1, 0), (2, array("q", [1, 0]))])
    batch = join_rows(
        w,
        _q(10, 20, 30),
        _q(4, 5, 6),
        [(3, 40)],
        _q(6, 2),
        ["", "KeyError", "ValueError"],
        ("a", "b"),
        _stamps((6, 1)),
    )
    assert batch is not None
    TaskBatch(batch.ops, batch.error_types, *(col for _, col in batch.columns()))  # validates
    assert [(r[0], r[2], r[6], r[7]) for r in batch.rows()] == [
        (4, "a", TASK_OK, ""),
        (5, "b", TASK_OK, ""),
        (6, "a", TASK_ERROR, "ValueError"),
    ]


def test_tasks_submitted_before_telemetry_was_on_are_left_out() -> None:
    stamps = SubmitStamps()
    stamps.restart(4)  # telemetry turned on when task 4 was the last submitted
    stamps.note(6)
    batch = join_rows(_worker([(2, 0)]), _q(1, 2), _q(4, 5), [(2, 3)], b"", [""], ("a",), stamps)
    assert batch is not None
    assert list(batch.task_id) == [5]


def test_rows_that_disagree_with_the_books_are_reported() -> None:
    stamps = _stamps((9, 1))
    with pytest.raises(StampMismatch):  # three ids, two starts
        join_rows(_worker([(3, 0)]), _q(1, 2), _q(1, 2, 3), [(3, 9)], b"", [""], ("a",), stamps)
    with pytest.raises(StampMismatch):  # more rows than the pool sent
        join_rows(_worker([(1, 0)]), _q(1, 2), _q(1, 2), [(2, 9)], b"", [""], ("a",), stamps)


def test_reported_ranges_are_copied_out_of_the_ring_wrapping_around() -> None:
    w = _worker([(5, 0)], entries=8)
    ring_starts = np.frombuffer(w.edges.starts, dtype=np.int64)
    ring_seqs = np.frombuffer(w.edges.seqs, dtype=np.int64)
    for n, index in enumerate([6, 7, 0, 1, 2]):  # five tasks written from index 6 on
        ring_starts[index] = 100 + 10 * n
        ring_seqs[index] = 20 + n
    assert not buffer_frame(w, [-2, _q(5, 7, 115, 7, 2, 150), b"", [""]])
    batch = take_rows(w, ("a",), _stamps((24, 50)))
    assert batch is not None
    assert list(batch.task_id) == [20, 21, 22, 23, 24]
    assert list(batch.duration_ns) == [10, 5, 10, 10, 10]  # 115 ends the first range
    assert w.edges.newest() == (24, 140)


def test_ring_holds_four_pipelines() -> None:
    assert ring_entries(1024) == 4096
    assert ring_entries(1025) == 8192
    assert ring_entries(1) == 4096


def test_checkpoints_date_each_task_by_the_first_round_that_saw_it() -> None:
    stamps = _stamps((3, 100), (7, 200), (8, 300))
    seqs = np.array([0, 3, 4, 7, 8, 9], dtype=np.int64)
    assert list(stamps.submit_times(seqs, now=999)) == [100, 100, 200, 200, 300, 999]
    assert stamps.submit_time(5, now=999) == 200
    stamps.note(8)  # no new submit since: no new checkpoint
    assert len(stamps) == 3


def test_checkpoints_are_pruned_and_thinned_but_keep_the_newest(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    stamps = _stamps((3, 100), (7, 200), (8, 300))
    stamps.prune(oldest_outstanding=5, before_ns=250)  # 3 covers nothing that is left
    assert list(stamps.submit_times(np.array([5, 8], dtype=np.int64), 0)) == [200, 300]
    stamps.prune(oldest_outstanding=100, before_ns=10**18)
    assert len(stamps) == 1  # the newest always stays
    monkeypatch.setattr("poolmon.runtime.pool.submitstamps.MAX_CHECKPOINTS", 8)
    for seq in range(10, 20):
        stamps.note(seq)
    assert len(stamps) <= 8
    assert stamps.submit_time(19, 0) > 0


def test_an_op_chosen_per_call_gets_a_function_id_of_its_own() -> None:
    table = FunctionTable()
    plain = table.register(ident)
    named = table.register(ident, "llm.call")
    assert named != plain
    assert table.register(ident, "llm.call") == named
    assert table.ops[table.fid_op[named]] == "llm.call"
    assert table.ops[table.fid_op[plain]] == "ident"
    assert table.pickled[named] == table.pickled[plain]
    assert table.ids.get((ident, "llm.call")) is None  # Pool.submit's probe cannot hit it


def test_a_live_pool_reports_one_exact_row_per_task(make_pool) -> None:  # type: ignore[no-untyped-def]
    tel = Telemetry()
    batches: list[TaskBatch] = []
    tel.attach_batch("rows", lambda batch, meta: batches.append(batch))
    pool: Pool = make_pool(2, telemetry=tel, name="rows")
    pool.wait_ready(30)
    wall0 = time.time_ns()
    ok = [pool.submit(ident, i) for i in range(3000)]
    bad = [pool.submit(fail, "no") for _ in range(5)]
    slow = pool.submit(t.sleep_pid, 0.05)
    assert [f.result(30) for f in ok] == list(range(3000))
    for f in bad:
        with pytest.raises(ValueError):
            f.result(30)
    slow.result(30)
    pool.shutdown(wait=True)
    wall1 = time.time_ns()
    rows = [r for b in batches for r in b.rows()]
    assert len(rows) == 3006
    assert len({r[0] for r in rows}) == 3006  # one row per task id
    by_op: dict[str, list[Any]] = {}
    for r in rows:
        by_op.setdefault(r[2], []).append(r)
        assert wall0 <= r[3] <= wall1, r
        assert r[4] >= 0, r
        assert r[5] >= 0, r
    assert len(by_op["ident"]) == 3000
    assert all(r[6] == TASK_OK and r[7] == "" for r in by_op["ident"])
    assert [(r[6], r[7]) for r in by_op["fail"]] == [(TASK_ERROR, "ValueError")] * 5
    (sleeper,) = by_op["sleep_pid"]
    assert sleeper[4] >= 50_000_000
    assert all(isinstance(col, array) for b in batches for _, col in b.columns())


def test_live_rows_carry_chosen_ops_and_queue_waits_within_their_bound(make_pool) -> None:  # type: ignore[no-untyped-def]
    tel = Telemetry()
    batches: list[TaskBatch] = []
    tel.attach_batch("rows", lambda batch, meta: batches.append(batch))
    pool: Pool = make_pool(1, telemetry=tel, name="waits")
    blocker = pool.submit(t.sleep_pid, 0.3)
    time.sleep(0.05)  # the blocker is running; these queue behind it
    t0 = time.monotonic()
    queued = [pool.options(op="queued.ident").submit(ident, i) for i in range(3)]
    blocker.result(30)
    assert [f.result(30) for f in queued] == [0, 1, 2]
    true_wait = time.monotonic() - t0
    pool.shutdown(wait=True)
    rows = {r[0]: r for b in batches for r in b.rows()}
    waits = [rows[f._seq][5] for f in queued]
    assert [rows[f._seq][2] for f in queued] == ["queued.ident"] * 3
    for wait in waits:
        # queued about 0.25 s; a checkpoint may date a submit late by at most one round
        assert 0.2e9 <= wait <= true_wait * 1e9, waits
