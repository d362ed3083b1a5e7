"""No task waits behind a slow worker's long task while another worker is free.

A task sent ahead to a worker runs only after whatever that worker runs now. Before, every
worker took one task ahead, so in a pool running a 1 s call beside batches of 5 ms tasks,
one task of a batch sat behind the call while the other worker idled (batch p99 1 s against
ProcessPoolExecutor's 28 ms, docs/BENCHMARKS.md). Now nothing is sent ahead to a worker
whose recent tasks took over `PIPELINE_NS`, nor to a worker whose task time is not known yet.
Which worker ran each task is read from its pid, so nothing here depends on timing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from poolmon.bench.tasks import ident, sleep_then_pid
from poolmon.runtime.pool import Pool
from poolmon.runtime.pool.engine import PIPELINE_NS


def _short_tasks_beside(pool: Pool, long_s: float) -> tuple[int, list[int]]:
    long = pool.submit(sleep_then_pid, long_s)
    deadline = time.monotonic() + 5
    while pool.stats().in_flight < 1 and time.monotonic() < deadline:
        time.sleep(0.001)  # the long task is on its worker before the batch comes
    shorts = [pool.submit(sleep_then_pid, 0.005) for _ in range(6)]
    pids = [f.result(timeout=30) for f in shorts]
    return long.result(timeout=30), pids


def test_a_fresh_pool_sends_nothing_ahead(make_pool: Callable[..., Pool]) -> None:
    pool = make_pool(2)
    long_pid, pids = _short_tasks_beside(pool, 0.5)
    assert long_pid not in pids  # all six ran on the free worker


def test_slow_tasks_are_never_parked_behind_a_long_one(make_pool: Callable[..., Pool]) -> None:
    pool = make_pool(2)
    [f.result() for f in [pool.submit(sleep_then_pid, 0.005) for _ in range(40)]]
    windows = [w.window for w in pool._eng.workers.values()]  # type: ignore[attr-defined]
    assert windows == [1, 1], "5 ms tasks: nothing ahead"
    for _ in range(3):
        long_pid, pids = _short_tasks_beside(pool, 0.3)
        assert long_pid not in pids


def test_queued_work_keeps_the_workers_visible_to_the_io_thread(
    make_pool: Callable[..., Pool],
) -> None:
    """Submitted, not yet waited for: the IO thread must see the result that makes room.

    A submit into an idle pool hides its worker's socket from the IO thread when that task
    is the worker's only one (the caller will read it). With a window of 1 the next submit
    stays queued; had the socket stayed hidden, the worker would idle until the IO thread's
    next tick (a 5-20 ms gap per task, measured, where window 2 had sent it along).
    """
    pool = make_pool(1)
    eng = pool._eng  # type: ignore[attr-defined]
    for _ in range(5):
        first = pool.submit(sleep_then_pid, 0.05)
        second = pool.submit(ident, 1)
        assert pool.stats().queue_depth == 1
        assert not eng.disarmed
        assert second.result(timeout=30) == 1
        first.result(timeout=30)


def test_tiny_tasks_still_stream_deep(make_pool: Callable[..., Pool]) -> None:
    pool = make_pool(2)
    for _ in range(5):
        [f.result() for f in [pool.submit(ident, i) for i in range(2_000)]]
    workers = pool._eng.workers.values()  # type: ignore[attr-defined]
    assert all(0 < w.task_ns < PIPELINE_NS for w in workers)
    assert max(w.window for w in workers) > 2  # pipelining hides the round trip
