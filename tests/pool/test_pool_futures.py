"""PoolFuture is a real concurrent.futures.Future: wait, as_completed, callbacks, cancel, races."""

from __future__ import annotations

import concurrent.futures as cf
import threading
from concurrent.futures._base import FINISHED, PENDING, RUNNING

import pool_test_tasks as t
import pytest

from poolmon.bench.tasks import ident
from poolmon.runtime.pool import Pool
from poolmon.runtime.pool.future import PoolFuture, finish, new_future


def test_wait_all_and_first_completed(shared_pool: Pool) -> None:
    futs = [shared_pool.submit(ident, i) for i in range(500)]
    done, not_done = cf.wait(futs, timeout=30)
    assert not not_done
    assert len(done) == 500
    slow = shared_pool.submit(t.sleep_pid, 0.5)
    fast = shared_pool.submit(ident, 1)
    done, not_done = cf.wait([slow, fast], timeout=10, return_when=cf.FIRST_COMPLETED)
    assert fast in done
    assert slow in not_done
    slow.result(10)


def test_wait_first_exception(shared_pool: Pool) -> None:
    from poolmon.bench.tasks import fail

    futs = [shared_pool.submit(t.sleep_pid, 0.3), shared_pool.submit(fail, "x")]
    done, _ = cf.wait(futs, timeout=10, return_when=cf.FIRST_EXCEPTION)
    assert futs[1] in done


def test_as_completed_yields_every_future(shared_pool: Pool) -> None:
    futs = [shared_pool.submit(ident, i) for i in range(300)]
    seen = {f.result() for f in cf.as_completed(futs, timeout=30)}
    assert seen == set(range(300))


def test_done_callbacks_before_and_after_completion(shared_pool: Pool) -> None:
    got: list[int] = []
    event = threading.Event()
    fut = shared_pool.submit(t.sleep_pid, 0.1)
    fut.add_done_callback(lambda f: (got.append(1), event.set()))
    assert event.wait(10)
    fut.add_done_callback(lambda f: got.append(2))  # already done: runs at once
    assert got == [1, 2]


def test_result_timeout_raises_timeout_error(shared_pool: Pool) -> None:
    fut = shared_pool.submit(t.sleep_pid, 0.5)
    with pytest.raises(cf.TimeoutError):
        fut.result(timeout=0.01)
    assert isinstance(fut.result(10), int)


def test_cancel_queued_task_but_not_running_one(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool = make_pool(1, max_in_flight=1)
    running = pool.submit(t.sleep_pid, 0.4)
    queued = [pool.submit(ident, i) for i in range(5)]
    assert queued[2].cancel()
    assert queued[2].cancelled()
    assert queued[2].done()
    done, _ = cf.wait([queued[2]], timeout=0.5)  # notified at once, not when skipped
    assert queued[2] in done
    with pytest.raises(cf.CancelledError):
        queued[2].result()
    assert not running.cancel()
    assert [f.result(10) for i, f in enumerate(queued) if i != 2] == [0, 1, 3, 4]
    assert pool.stats().totals.submitted == 6


def test_waiters_on_many_threads_race_with_completion(shared_pool: Pool) -> None:
    # Threads start waiting while results stream in: exercises lazy condition creation
    # racing the batched fast completion path.
    for _ in range(5):
        futs = [shared_pool.submit(ident, i) for i in range(2000)]
        errors: list[BaseException] = []

        def waiter(chunk: list[cf.Future[int]], errors: list[BaseException] = errors) -> None:
            try:
                for f in chunk:
                    f.result(timeout=30)
                cf.wait(chunk, timeout=30)
                list(cf.as_completed(chunk, timeout=30))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=waiter, args=(futs[k::4],)) for k in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        assert not errors
        assert all(f.done() for f in futs)


def test_fast_finish_and_locked_finish_without_a_pool() -> None:
    fut = new_future(1, b"", None, 0, 0)
    assert fut._state is PENDING
    assert fut._cond is None
    fut._state = RUNNING
    finish(fut, 42, None)  # nobody waiting: no Condition is ever built
    assert fut._cond is None
    assert fut._state is FINISHED
    assert fut.result() == 42

    fut2 = new_future(2, b"", None, 0, 0)
    fut2._state = RUNNING
    seen: list[object] = []
    fut2.add_done_callback(lambda f: seen.append(f.result()))
    assert fut2._cond is not None
    finish(fut2, "x", None)
    assert seen == ["x"]

    fut3 = new_future(3, b"", None, 0, 0)
    assert fut3.cancel()
    assert fut3.cancelled()
    finish(fut3, 1, None)  # a late result for a cancelled task is dropped
    assert fut3.cancelled()
    assert isinstance(fut3, PoolFuture)
    assert isinstance(fut3, cf.Future)
    assert "cancelled" in repr(fut3)
