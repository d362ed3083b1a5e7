"""Task rows joined in the pool: worker end stamps + the pool's own id/op/submit columns."""

from __future__ import annotations

import struct
import time
from array import array
from types import SimpleNamespace
from typing import Any

import pool_test_tasks as t
import pytest

from poolmon.bench.tasks import fail, ident
from poolmon.core.events import TASK_ERROR, TASK_OK, TaskBatch
from poolmon.runtime.pool import Pool
from poolmon.runtime.pool.taskrows import StampMismatch, join_rows
from poolmon.runtime.telemetry import Telemetry


def _q(*values: int) -> bytes:
    return struct.pack(f"{len(values)}q", *values)


def _worker(seqs: list[int], ops: list[int], subs: list[int]) -> Any:
    return SimpleNamespace(
        wid=7,
        last_edge_ns=0,
        sent_seq=bytearray(_q(*seqs)),
        sent_op=bytearray(_q(*ops)),
        sent_sub=bytearray(_q(*subs)),
    )


@pytest.mark.parametrize("rows", [3, 40])  # the comprehension path and the numpy path
def test_edges_become_exact_starts_durations_and_waits(rows: int) -> None:
    seqs = list(range(100, 100 + rows))
    subs = [1_000 + i for i in range(rows)]
    w = _worker(seqs, [0] * rows, subs)
    ends = [10_000 + 10 * i * i for i in range(1, rows + 1)]
    # a chain starting at 9_000, broken after the second task by a fresh read at 20_000
    stamps = [-9_000, ends[0], ends[1], -(ends[1] + 20_000), *ends[2:]]
    starts = [9000, ends[0], ends[1] + 20000, *ends[2:-1]]
    batch = join_rows(w, _q(*stamps), b"", [""], ("op0",))
    assert batch is not None
    offset = batch.start_ns[0] - starts[0]  # monotonic -> wall clock, one offset per batch
    assert abs(offset - (time.time_ns() - time.monotonic_ns())) < 1_000_000_000
    assert list(batch.task_id) == seqs
    assert list(batch.worker_id) == [7] * rows
    assert list(batch.start_ns) == [s + offset for s in starts]
    assert list(batch.duration_ns) == [e - s for s, e in zip(starts, ends, strict=True)]
    assert list(batch.wait_ns) == [s - b for s, b in zip(starts, subs, strict=True)]
    assert list(batch.status) == [TASK_OK] * rows
    assert w.last_edge_ns == ends[-1]
    assert not w.sent_seq


def test_the_chain_carries_over_to_the_next_frame() -> None:
    w = _worker([1, 2], [0, 0], [5, 5])
    first = join_rows(w, _q(-10, 20), b"", [""], ("a",))
    second = join_rows(w, _q(35), b"", [""], ("a",))
    assert first is not None
    assert second is not None
    assert list(first.duration_ns) == [10]
    assert list(second.duration_ns) == [15]  # started when the previous task ended
    assert list(second.wait_ns) == [15]


def test_errors_land_on_their_rows_and_unsubmitted_rows_are_dropped() -> None:
    w = _worker([4, 5, 6], [0, 1, 0], [100, 0, 100])  # task 5 was submitted with telemetry off
    errors = _q(6, 2)
    batch = join_rows(
        w, _q(-200, 210, 220, 230), errors, ["", "KeyError", "ValueError"], ("a", "b")
    )
    assert batch is not None
    TaskBatch(batch.ops, batch.error_types, *(col for _, col in batch.columns()))  # validates
    assert list(batch.rows()) == [
        (4, 7, "a", batch.start_ns[0], 10, 100, TASK_OK, ""),
        (6, 7, "a", batch.start_ns[1], 10, 120, TASK_ERROR, "ValueError"),
    ]


def test_more_edges_than_sent_tasks_is_reported() -> None:
    w = _worker([1], [0], [1])
    with pytest.raises(StampMismatch):
        join_rows(w, _q(-1, 2, 3), b"", [""], ("a",))


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
