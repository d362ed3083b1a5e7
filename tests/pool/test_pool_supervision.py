"""Health checks, resize under load, recycling by count / memory / on request."""

from __future__ import annotations

import os
import signal
import time

import pool_test_tasks as t
import pytest
from pool_test_helpers import wait_for

from poolmon.bench.tasks import allocate, getpid, ident
from poolmon.core.errors import ConfigError
from poolmon.runtime.pool import WorkerCrashed


def test_frozen_worker_is_detected_and_replaced(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool = make_pool(
        2, health_check_interval=0.05, health_check_timeout=0.3, health_check_max_misses=2
    )
    victim = pool.stats().workers[0]
    os.kill(victim.pid, signal.SIGSTOP)
    try:
        wait_for(
            lambda: (
                any(w.state == "degraded" for w in pool.stats().workers)
                or victim.pid not in [w.pid for w in pool.stats().workers]
            ),
            what="a missed heartbeat",
        )
        stats = wait_for(
            lambda: (
                (s := pool.stats())
                and victim.pid not in [w.pid for w in s.workers]
                and len(s.workers) == 2
                and s
            ),
            what="the frozen worker's replacement",
        )
    finally:
        try:
            os.kill(victim.pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
    slot = next(w for w in stats.workers if w.slot == victim.slot)
    assert slot.last_exit is not None
    assert slot.last_exit.reason == "health"
    assert slot.last_exit.signal == signal.SIGKILL
    assert sorted(pool.map(ident, range(50))) == list(range(50))


def test_long_gil_holding_call_is_busy_not_hung(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool = make_pool(
        1, health_check_interval=0.05, health_check_timeout=0.2, health_check_max_misses=2
    )
    pid = pool.stats().workers[0].pid
    start = time.monotonic()
    n = 80_000_000
    assert pool.submit(t.hold_gil, n).result(60) == n * (n - 1) // 2
    assert time.monotonic() - start > 0.4  # long enough for several missed heartbeats
    stats = pool.stats()
    assert stats.workers[0].pid == pid  # not killed as unhealthy: it was using the CPU
    assert stats.totals.crashed == 0


def test_health_interval_is_validated_and_changeable(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool = make_pool(1)
    pool.set_health_check_interval(0.2)
    assert pool.stats().health_check_interval_s == 0.2
    for bad in (0, -1, float("nan"), 10_000, "1"):
        with pytest.raises(ConfigError):
            pool.set_health_check_interval(bad)  # type: ignore[arg-type]


def test_resize_up_and_down_under_load(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool = make_pool(1, min_size=1, max_size=4)
    long_tasks = [pool.submit(t.sleep_pid, 0.4) for _ in range(6)]
    pool.resize(3)
    assert pool.size == 3
    wait_for(
        lambda: sum(w.state != "starting" for w in pool.stats().workers) == 3, what="3 workers"
    )
    pids = {f.result(30) for f in long_tasks}
    assert len(pids) >= 2  # the new workers took part of the queue
    busy = [pool.submit(t.sleep_pid, 0.6) for _ in range(2)]
    wait_for(lambda: pool.stats().busy >= 2, what="two busy workers")
    pool.resize(1)  # retires the idle worker first, and never kills a running task
    assert [isinstance(f.result(30), int) for f in busy] == [True, True]
    stats = wait_for(lambda: len((s := pool.stats()).workers) == 1 and s, what="shrink to 1")
    assert stats.size == 1
    assert stats.totals.crashed == 0
    assert pool.submit(ident, 7).result(10) == 7


def test_resize_bounds(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool = make_pool(2, min_size=2, max_size=3)
    for bad in (1, 4, 0, -1, 2.5, "3", True):
        with pytest.raises(ConfigError, match="size"):
            pool.resize(bad)  # type: ignore[arg-type]
    assert pool.size == 2


def test_recycle_after_max_tasks(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool = make_pool(1, max_tasks_per_worker=5)
    pids = [pool.submit(getpid).result(20) for _ in range(12)]
    assert len(set(pids)) == 3
    assert all(pids[i] == pids[i // 5 * 5] for i in range(12))  # exactly 5 per worker
    stats = wait_for(lambda: (s := pool.stats()).workers[0].last_exit and s)
    assert stats.workers[0].last_exit.reason == "recycle_tasks"  # type: ignore[union-attr]
    assert stats.workers[0].last_exit.exit_code == 0  # type: ignore[union-attr]


def test_recycle_above_memory_limit(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool = make_pool(1, max_memory_per_worker=150 << 20, memory_check_interval=0.05)
    fat_pid = pool.submit(allocate, 200).result(20)
    stats = wait_for(
        lambda: (
            (s := pool.stats()).workers
            and s.workers[0].pid != fat_pid
            and s.workers[0].last_exit
            and s
        ),
        what="memory recycling",
    )
    assert stats.workers[0].last_exit.reason == "recycle_memory"  # type: ignore[union-attr]
    assert pool.submit(getpid).result(20) != fat_pid


def test_recycle_worker_on_request(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool = make_pool(2)
    w = pool.stats().workers[0]
    running = pool.submit(t.sleep_pid, 0.3)
    pool.recycle_worker(w.worker_id)
    assert isinstance(running.result(20), int)  # graceful: work already sent finishes
    stats = wait_for(
        lambda: (s := pool.stats()) and w.pid not in [x.pid for x in s.workers] and s,
        what="recycled worker gone",
    )
    assert len(stats.workers) == 2
    with pytest.raises(ConfigError):
        pool.recycle_worker(12345)


def test_crashing_start_fails_queued_work_instead_of_hanging(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool = make_pool(1)
    fut = pool.submit(t.exit_worker, 1)
    with pytest.raises(WorkerCrashed):
        fut.result(20)
    start = time.monotonic()
    assert pool.submit(ident, 1).result(20) == 1
    assert time.monotonic() - start < 10
