"""Rows of tasks a worker answered but died before reporting: still one row each.

Why: a timed worker reports its finished edge-ring entries at the end of each read, while
its answers can reach the pool sooner (the watchdog flushes answers alone during a long
task; answers committed to the shared ring are read after a crash). A worker that dies in
between left tasks the pool counted as done without a row, so every monitor counted fewer
tasks than the pool (seen in the soak bench: about two rows per crash).
`taskrows.recover_unreported` rebuilds them from the edge ring; these tests crash workers
in the middle of a read and by SIGKILL during a long task, and compare rows with answers.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Callable
from typing import Any

import pool_test_tasks as t
from pool_test_helpers import wait_for

from poolmon.bench.tasks import ident
from poolmon.core.events import TASK_CRASHED, TASK_ERROR, TASK_OK
from poolmon.runtime.pool import Pool, WorkerCrashed
from poolmon.runtime.telemetry import Telemetry

Row = tuple[int, int, str, int, int, int, int, str]


def _timed(make_pool: Callable[..., Pool], *args: Any, **kwargs: Any) -> tuple[Pool, list[Row]]:
    tel = Telemetry()
    rows: list[Row] = []
    tel.attach_batch("rows", lambda batch, meta: rows.extend(batch.rows()))
    pool = make_pool(*args, telemetry=tel, **kwargs)
    assert pool._eng.tasks_on
    return pool, rows


def _outcome(fut: Any) -> str:
    exc = fut.exception()
    if exc is None:
        return "ok"
    return "crashed" if isinstance(exc, WorkerCrashed) else type(exc).__qualname__


def test_crashes_mid_read_leave_one_row_per_answered_task(
    make_pool: Callable[..., Pool],
) -> None:
    pool, rows = _timed(make_pool, 2)
    futs = []
    for _ in range(25):  # each round: quick tasks, a failure, more, then a crash, in one go
        futs += [pool.submit(ident, i) for i in range(10)]
        futs.append(pool.submit(t.raise_falsy, 0))
        futs += [pool.submit(ident, i) for i in range(5)]
        futs.append(pool.submit(t.exit_worker, 1))
        for f in futs[-17:]:
            f.exception()
    outcomes = {f._seq: _outcome(f) for f in futs}
    totals = pool.stats().totals
    assert totals.crashed >= 20  # the crashes happened (some may take a bystander with them)

    def all_rows() -> bool:
        return len({r[0] for r in rows}) == len(futs)

    wait_for(all_rows, what="a row for every task")
    by_id = Counter(r[0] for r in rows)
    assert max(by_id.values()) == 1, "a task got two rows"
    status = {r[0]: r[6] for r in rows}
    err_type = {r[0]: r[7] for r in rows}
    for seq, outcome in outcomes.items():
        if outcome == "ok":
            assert status[seq] == TASK_OK, seq
        elif outcome == "crashed":
            assert status[seq] == TASK_CRASHED, seq
        else:
            assert status[seq] == TASK_ERROR, seq
            assert err_type[seq] == outcome, (seq, err_type[seq])
    ok_rows = sum(1 for s in status.values() if s == TASK_OK)
    assert ok_rows == totals.succeeded


def test_a_sigkill_during_a_long_task_keeps_the_rows_of_the_tasks_before_it(
    make_pool: Callable[..., Pool],
) -> None:
    pool, rows = _timed(make_pool, 1)
    for _ in range(5):
        quick = [pool.submit(ident, i) for i in range(8)]
        slow = pool.submit(t.sleep_pid, 30)
        assert [f.result(timeout=10) for f in quick] == list(range(8))  # answered...
        worker = wait_for(
            lambda seq=slow._seq: next(
                (w for w in pool.stats().workers if w.current_task_id == seq), None
            ),
            what="the long task to start",
        )
        os.kill(worker.pid, signal.SIGKILL)  # ...and the worker dies before its next report
        assert isinstance(slow.exception(timeout=10), WorkerCrashed)
        ids = {f._seq for f in quick}
        wait_for(lambda ids=ids: ids <= {r[0] for r in rows}, what="rows of the answered tasks")
        starts = {r[0]: r for r in rows if r[0] in ids}
        assert all(r[6] == TASK_OK for r in starts.values())
        assert all(r[4] >= 0 for r in starts.values())  # durations are possible
