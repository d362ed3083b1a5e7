"""A crash fails only the running task, names the worker, and the worker is replaced."""

from __future__ import annotations

import concurrent.futures as cf
import os
import signal

import pool_test_tasks as t
import pytest
from pool_test_helpers import describe_pool, wait_for

from poolmon.bench.tasks import ident
from poolmon.runtime.pool import Pool, WorkerCrashed


def _running_worker(pool: Pool):  # type: ignore[no-untyped-def]
    return wait_for(
        lambda: next((w for w in pool.stats().workers if w.current_op == "sleep_pid"), None),
        what="the long task to start",
    )


def test_sigkill_mid_task_fails_only_the_running_task(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool = make_pool(1, max_in_flight=16)
    list(pool.map(ident, range(2000)))  # fast results open the pipeline to 16 in flight
    before = [pool.submit(ident, i) for i in range(3)]
    victim = pool.submit(t.sleep_pid, 30)
    after = [pool.submit(ident, 100 + i) for i in range(8)]
    # results finished before the long task are flushed by the worker's watchdog thread
    done, _ = cf.wait(before, timeout=10)
    assert len(done) == 3, describe_pool(pool) + f"\nbefore={[(f._seq, f._state) for f in before]}"
    assert [f.result() for f in before] == [0, 1, 2]
    w = _running_worker(pool)
    assert w.in_flight == 9  # the running task + 8 queued behind it on the same worker
    os.kill(w.pid, signal.SIGKILL)
    with pytest.raises(WorkerCrashed) as info:
        victim.result(20)
    err = info.value
    assert (err.worker_id, err.pid, err.signal, err.exit_code) == (w.worker_id, w.pid, 9, None)
    assert not err.result_lost
    assert "SIGKILL" in str(err)
    assert str(w.pid) in str(err)
    assert [f.result(20) for f in after] == [100 + i for i in range(8)]
    stats = wait_for(lambda: (s := pool.stats()).workers and s.workers[0].state != "starting" and s)
    new = stats.workers[0]
    assert new.pid != w.pid
    assert new.worker_id != w.worker_id
    assert new.restarts == 1
    assert new.last_exit is not None
    assert (new.last_exit.reason, new.last_exit.signal) == ("crash", 9)
    assert stats.totals.crashed == 1
    assert stats.totals.succeeded == 2011


def test_worker_exiting_by_itself_reports_exit_code(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool = make_pool(2)
    with pytest.raises(WorkerCrashed) as info:
        pool.submit(t.exit_worker, 7).result(20)
    assert info.value.exit_code == 7
    assert info.value.signal is None
    assert "exit code 7" in str(info.value)
    assert pool.submit(ident, 5).result(20) == 5


def test_idempotent_task_is_retried_after_a_crash(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool = make_pool(1, retry_backoff=0.01)
    fut = pool.options(idempotent=True, retries=2).submit(t.sleep_pid, 1.0)
    w = _running_worker(pool)
    os.kill(w.pid, signal.SIGKILL)
    pid = fut.result(30)
    assert pid != w.pid
    assert pool.stats().totals.retried == 1


def test_non_idempotent_retries_are_refused(shared_pool: Pool) -> None:
    from poolmon.core.errors import ConfigError

    with pytest.raises(ConfigError, match="idempotent"):
        shared_pool.options(retries=2)


def test_many_crashes_never_hang_and_never_fail_bystanders(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool = make_pool(2)
    crashers = [pool.submit(t.exit_worker, 3) for _ in range(4)]
    normal = [pool.submit(ident, i) for i in range(200)]
    for f in crashers:
        with pytest.raises(WorkerCrashed):
            f.result(30)
    assert [f.result(30) for f in normal] == list(range(200))
