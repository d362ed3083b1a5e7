"""A task past its timeout: the worker is killed and replaced, the task fails with TaskTimeout."""

from __future__ import annotations

import time

import pool_test_tasks as t
import pytest

from poolmon.bench.tasks import ident
from poolmon.core.errors import ConfigError
from poolmon.runtime.pool import TaskTimeout


def test_hanging_task_times_out_and_others_survive(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool = make_pool(1, task_timeout=0.3)
    pid0 = pool.stats().workers[0].pid
    start = time.monotonic()
    hung = pool.submit(t.spin, 60)
    behind = [pool.submit(ident, i) for i in range(5)]
    with pytest.raises(TaskTimeout) as info:
        hung.result(20)
    assert isinstance(info.value, TimeoutError)
    assert 0.25 < time.monotonic() - start < 5
    assert info.value.pid == pid0
    assert info.value.timeout == pytest.approx(0.3)
    assert [f.result(20) for f in behind] == list(range(5))
    stats = pool.stats()
    assert stats.totals.timed_out == 1
    assert stats.workers[0].pid != pid0
    assert stats.workers[0].last_exit is not None
    assert stats.workers[0].last_exit.reason == "timeout"


def test_per_call_timeout_and_runtime_change(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool = make_pool(2)
    assert pool.options(timeout=5).submit(t.sleep_pid, 0.05).result(10) > 0
    with pytest.raises(TaskTimeout):
        pool.options(timeout=0.2).submit(t.sleep_pid, 30).result(20)
    pool.set_task_timeout(0.2)
    with pytest.raises(TaskTimeout):
        pool.submit(t.sleep_pid, 30).result(20)
    pool.set_task_timeout(None)
    assert pool.submit(t.sleep_pid, 0.3).result(20) > 0
    with pytest.raises(ConfigError):
        pool.set_task_timeout(-1)
    with pytest.raises(ConfigError):
        pool.options(timeout=0)


def test_idempotent_timeout_is_retried_then_fails(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool = make_pool(1, retry_backoff=0.01)
    fut = pool.options(timeout=0.2, idempotent=True, retries=1).submit(t.sleep_pid, 30)
    with pytest.raises(TaskTimeout):
        fut.result(30)
    totals = pool.stats().totals
    assert totals.retried == 1
    assert totals.timed_out == 1
