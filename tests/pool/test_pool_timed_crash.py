"""Crash attribution and timeouts while the pool records task rows (a *timed* pool).

Why a file of its own: `make_pool` gives a `Telemetry()` with no handler, so every crash and
timeout test elsewhere runs untimed, where each worker keeps its running task in its shared
slot. With a batch handler attached the pool sends TEL_ON and the worker keeps the running
task in its edge ring instead (edges.py); these tests re-run the crash guarantees that way,
across TEL_ON/TEL_OFF and a wrapped ring, and check each outcome gets exactly one row.
"""

from __future__ import annotations

import concurrent.futures as cf
import gc
import os
import signal
import socket
import time
from collections.abc import Callable
from multiprocessing import RawArray
from typing import Any

import pool_test_tasks as t
import pytest
from pool_test_helpers import describe_pool, wait_for

from poolmon.bench.tasks import ident
from poolmon.core.catalog import ERROR
from poolmon.core.catalog import TASK_TIMEOUT as TASK_TIMEOUT_EVENT
from poolmon.core.events import TASK_CRASHED, TASK_OK, TASK_TIMEOUT
from poolmon.runtime.pool import Pool, TaskTimeout, WorkerCrashed
from poolmon.runtime.pool.edges import EdgeRing
from poolmon.runtime.telemetry import Telemetry

Row = tuple[int, int, str, int, int, int, int, str]


class Rows:
    """A telemetry registry that makes a pool timed, keeping every row and poolmon.error."""

    def __init__(self) -> None:
        self.tel = Telemetry()
        self.rows: list[Row] = []
        self.errors: list[dict[str, Any]] = []
        self.timeouts: list[dict[str, Any]] = []
        self.tel.attach("errors", ERROR, lambda name, m, meta: self.errors.append(dict(meta)))
        self.tel.attach(
            "timeouts", TASK_TIMEOUT_EVENT, lambda name, m, meta: self.timeouts.append(dict(meta))
        )
        self.attach()

    def attach(self) -> None:
        self.tel.attach_batch("rows", lambda batch, meta: self.rows.extend(batch.rows()))

    def detach(self) -> None:
        self.tel.detach("rows")

    def of(self, task_id: int) -> list[Row]:
        return [r for r in self.rows if r[0] == task_id]

    def one(self, task_id: int) -> Row:
        rows = self.of(task_id)
        assert len(rows) == 1, (task_id, rows)
        return rows[0]

    def telemetry_errors(self) -> list[dict[str, Any]]:
        return [e for e in self.errors if e.get("category") == "telemetry"]


def _timed_pool(make_pool: Callable[..., Pool], *args: Any, **kwargs: Any) -> tuple[Pool, Rows]:
    rec = Rows()
    pool = make_pool(*args, telemetry=rec.tel, **kwargs)
    assert pool._eng.tasks_on
    return pool, rec


def _running(pool: Pool, op: str) -> Any:
    return wait_for(
        lambda: next((w for w in pool.stats().workers if w.current_op == op), None),
        what=f"a {op} task to start",
    )


def _rows_arrive(rec: Rows, ids: list[int]) -> None:
    """Rows come per worker batch, at the latest one supervisor tick after their report."""
    wait_for(lambda: all(rec.of(i) for i in ids), what=f"rows of {ids}")


def test_timed_sigkill_mid_task_fails_only_the_running_task(make_pool: Callable[..., Pool]) -> None:
    pool, rec = _timed_pool(make_pool, 1, max_in_flight=16)
    list(pool.map(ident, range(6000)))  # opens the pipeline, and laps the 4096-entry ring
    before = [pool.submit(ident, i) for i in range(3)]
    victim = pool.submit(t.sleep_pid, 30)
    after = [pool.submit(ident, 100 + i) for i in range(8)]
    done, _ = cf.wait(before, timeout=10)
    assert len(done) == 3, describe_pool(pool)
    w = _running(pool, "sleep_pid")
    seen_running = time.time_ns()
    assert w.current_task_id == victim._seq
    assert 0 <= w.current_task_age_s < 10
    assert w.in_flight == 9  # the running task + 8 queued behind it
    os.kill(w.pid, signal.SIGKILL)
    killed = time.time_ns()
    with pytest.raises(WorkerCrashed) as info:
        victim.result(20)
    assert (info.value.worker_id, info.value.signal, info.value.task_id) == (
        w.worker_id,
        9,
        victim._seq,
    )
    assert not info.value.result_lost
    assert [f.result(20) for f in after] == [100 + i for i in range(8)]
    _rows_arrive(rec, [victim._seq] + [f._seq for f in after])
    crash = rec.one(victim._seq)
    assert (crash[1], crash[2], crash[6], crash[7]) == (
        w.worker_id,
        "sleep_pid",
        TASK_CRASHED,
        "WorkerCrashed",
    )
    # it ran from its start (the ring's entry), not from the moment the pool settled it
    assert crash[3] <= seen_running, crash
    assert crash[3] + crash[4] >= killed, crash
    for f in after:  # not started by the dead worker: one row, from the replacement
        row = rec.one(f._seq)
        assert row[1] != w.worker_id
        assert row[6] == TASK_OK
    assert len({r[0] for r in rec.rows}) == len(rec.rows)  # never two rows for a task
    assert not rec.telemetry_errors()
    assert pool.stats().totals.crashed == 1


def test_timed_timeout_names_the_running_task_after_the_ring_wrapped(
    make_pool: Callable[..., Pool],
) -> None:
    pool, rec = _timed_pool(make_pool, 1, task_timeout=0.3)
    list(pool.map(ident, range(6000)))  # the newest entry now sits past the ring's end
    pid0 = pool.stats().workers[0].pid
    hung = pool.submit(t.spin, 60)
    behind = [pool.submit(ident, i) for i in range(5)]
    start = time.monotonic()
    with pytest.raises(TaskTimeout) as info:
        hung.result(20)
    assert 0.25 < time.monotonic() - start < 5
    assert (info.value.task_id, info.value.pid, info.value.op) == (hung._seq, pid0, "spin")
    assert [f.result(20) for f in behind] == list(range(5))
    _rows_arrive(rec, [hung._seq] + [f._seq for f in behind])
    row = rec.one(hung._seq)
    assert (row[6], row[7]) == (TASK_TIMEOUT, "TaskTimeout")
    assert row[4] >= 250_000_000
    assert all(rec.one(f._seq)[6] == TASK_OK for f in behind)
    assert pool.stats().totals.timed_out == 1
    assert not rec.telemetry_errors()


def _wait_tasks_on(pool: Pool, on: bool) -> None:
    wait_for(lambda: pool._eng.tasks_on is on, what=f"tasks_on={on} (one supervisor tick)")


def test_crashes_right_after_tel_on_after_tel_off_and_after_tel_on_again(
    make_pool: Callable[..., Pool],
) -> None:
    pool, rec = _timed_pool(make_pool, 1)
    bystanders: list[cf.Future[Any]] = []

    def crash_first_then_run_others(code: int) -> None:
        crasher = pool.submit(t.exit_worker, code)
        bystanders.extend(pool.submit(ident, code * 100 + i) for i in range(4))
        with pytest.raises(WorkerCrashed) as info:
            crasher.result(20)
        assert (info.value.exit_code, info.value.task_id) == (code, crasher._seq)
        assert not info.value.result_lost

    def switch(on: bool) -> None:
        if on:
            rec.attach()
        else:
            rec.detach()
        _wait_tasks_on(pool, on)
        assert pool.submit(ident, 0).result(20) == 0  # carries TEL_ON / TEL_OFF

    crash_first_then_run_others(7)  # a fresh worker: TEL_ON, then the crashing task
    switch(False)  # the replacement ran the bystanders timed: it has ring entries
    crash_first_then_run_others(9)  # right after TEL_OFF: the slot names the running task
    switch(True)
    switch(False)
    switch(True)  # this worker's ring holds entries from before its TEL_OFF
    crash_first_then_run_others(11)
    assert [f.result(20) for f in bystanders] == [c * 100 + i for c in (7, 9, 11) for i in range(4)]
    assert pool.stats().totals.crashed == 3
    assert not rec.telemetry_errors()


def test_timed_idempotent_retry_after_a_kill_reports_one_row(
    make_pool: Callable[..., Pool],
) -> None:
    pool, rec = _timed_pool(make_pool, 1, retry_backoff=0.01)
    fut = pool.options(idempotent=True, retries=2).submit(t.sleep_pid, 0.3)
    w = _running(pool, "sleep_pid")
    os.kill(w.pid, signal.SIGKILL)
    assert fut.result(30) != w.pid
    _rows_arrive(rec, [fut._seq])
    time.sleep(0.05)  # one more tick: a second row would have arrived by now
    row = rec.one(fut._seq)  # the retry's, not the killed attempt's
    assert row[6] == TASK_OK
    assert row[1] != w.worker_id
    assert row[4] >= 250_000_000
    assert pool.stats().totals.retried == 1
    assert not rec.telemetry_errors()


# --------------------------------------------------------------------- bugs (see reasons)


def test_a_fresh_edge_ring_names_no_task() -> None:
    ring = EdgeRing(RawArray("q", 8), RawArray("q", 8))
    assert ring.newest()[0] == -1


def test_a_task_whose_frame_is_still_arriving_is_not_timed_out(
    make_pool: Callable[..., Pool],
) -> None:
    pool, rec = _timed_pool(make_pool, 1, task_timeout=30)
    big = b"\0" * (8 << 20)  # its frame takes more than one worker read (and one tick)
    first = pool.submit(len, big)
    assert first._seq == 0
    cf.wait([first], timeout=30)
    assert not rec.timeouts, rec.timeouts  # it had not even started
    assert first.result(0) == len(big)


def shut_own_socket(delay: float) -> None:
    """Task: after `delay`, shut this worker's socket down (the pool sees EOF and EPIPE).

    Deterministically what a SIGKILL or segfault does about half the time, depending on
    whether the pool handles the socket's events before the process sentinel's.
    """
    from poolmon.runtime.pool.ring import RingWriter

    time.sleep(delay)
    for obj in gc.get_objects():
        if isinstance(obj, RingWriter):
            obj.sock.shutdown(socket.SHUT_RDWR)
    time.sleep(10)  # the worker's watchdog exits the process as soon as it sees the shutdown


def test_worker_death_during_a_pending_large_send_keeps_the_pool_alive(
    make_pool: Callable[..., Pool],
) -> None:
    pool, _rec = _timed_pool(make_pool, 1)
    dying = pool.submit(shut_own_socket, 0.3)
    big = pool.submit(len, b"\0" * (4 << 20))  # fills the socket while the worker is busy
    with pytest.raises(WorkerCrashed):
        dying.result(20)
    assert big.result(20) == 4 << 20  # never started there: re-run on the replacement
    assert pool.submit(ident, 1).result(20) == 1
