"""User data cannot hurt the pool: unpickling errors, falsy exceptions, callbacks, bad pickles.

Each test is one point of the Executor contract (issue #13): whatever a value does while it is
(un)pickled, whatever an exception or a callback does, exactly one future fails with a clear
error and the pool keeps working.
"""

from __future__ import annotations

import functools
import gc
import sys
import threading
import weakref
from typing import Any

import pool_test_tasks as t
import pytest
from pool_test_helpers import wait_for

from poolmon.bench.tasks import ident
from poolmon.runtime.pool import Pool, SubmitError
from poolmon.runtime.pool.errors import UnpickleError
from poolmon.runtime.telemetry import Telemetry


def test_system_exit_unpickling_a_result_fails_only_that_future(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool: Pool = make_pool(1)
    fut = pool.submit(t.return_exit_on_unpickle)
    with pytest.raises(
        UnpickleError, match=r"result of task .* in the pool: SystemExit: 3"
    ) as info:
        fut.result(10)
    assert isinstance(info.value.__cause__, SystemExit)
    # the IO thread lives on: later work completes, also when nobody waits in result()
    later = [pool.submit(ident, i) for i in range(50)]
    assert [f.result(10) for f in later] == list(range(50))
    assert pool._eng.fatal is None
    assert pool._thread.is_alive()


def test_system_exit_unpickled_in_the_io_thread(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool: Pool = make_pool(1)
    bad = pool.submit(t.return_exit_on_unpickle)
    done = threading.Event()
    bad.add_done_callback(lambda _: done.set())  # completed by the IO thread, not by result()
    assert done.wait(10)
    assert isinstance(bad.exception(), UnpickleError)
    assert pool.submit(ident, 5).result(10) == 5


def test_system_exit_unpickling_a_task_fails_it_and_the_worker_survives(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool: Pool = make_pool(1)
    pid = pool.submit(t.sleep_pid, 0).result(10)
    with pytest.raises(UnpickleError, match=r"arguments could not be unpickled in the worker"):
        pool.submit(ident, t.ExitOnUnpickle()).result(10)
    with pytest.raises(UnpickleError, match="SystemExit: 3"):
        pool.submit(functools.partial(ident, t.ExitOnUnpickle())).result(10)
    assert pool.submit(t.sleep_pid, 0).result(10) == pid  # same worker, still serving
    assert pool.stats().totals.crashed == 0


def test_an_exception_whose_str_raises_is_reported_not_fatal() -> None:
    tel = Telemetry()
    seen: list[Any] = []
    tel.attach("test", "poolmon.task.exception", lambda name, m, meta: seen.append(meta))
    pool = Pool(1, monitor=False, telemetry=tel)
    try:
        fut = pool.submit(t.raise_bad_str)
        assert isinstance(fut.exception(10), t.BadStrError)
        assert pool.submit(ident, 1).result(10) == 1
        assert seen
        assert seen[0]["message"] == "<str() failed>"
    finally:
        pool.shutdown()


def test_a_falsy_exception_is_raised_whether_or_not_result_waits(shared_pool: Pool) -> None:
    waiting = shared_pool.submit(t.raise_falsy, 0.2)
    with pytest.raises(t.FalsyError):
        waiting.result(10)  # had to wait: the base class would return None here
    ready = shared_pool.submit(t.raise_falsy, 0)
    ready.exception(10)
    with pytest.raises(t.FalsyError):
        ready.result()
    cond = shared_pool.submit(t.raise_falsy, 0.2)
    assert cond._condition is not None  # a Condition exists: completion takes the locked path
    with pytest.raises(t.FalsyError):
        cond.result(10)


def test_a_callback_that_exits_does_not_stop_the_pool(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool: Pool = make_pool(1)
    ran = threading.Event()

    def exits(_: Any) -> None:
        ran.set()
        sys.exit(9)

    slow = pool.submit(t.sleep_pid, 0.2)
    slow.add_done_callback(exits)
    assert ran.wait(10)
    assert [pool.submit(ident, i).result(10) for i in range(5)] == list(range(5))
    assert pool._eng.fatal is None


@pytest.mark.parametrize("chunksize", [1, 4])
def test_map_keeps_no_result_once_yielded(shared_pool: Pool, chunksize: int) -> None:
    results = shared_pool.map(t.make_point, range(8), chunksize=chunksize)
    first = next(results)
    ref = weakref.ref(first)
    del first
    gc.collect()
    assert ref() is None, "map() still holds the result it yielded"
    assert [p.x for p in results] == list(range(1, 8))


def test_unpicklable_argument_is_named_by_submit(shared_pool: Pool) -> None:
    lock = threading.Lock()
    with pytest.raises(SubmitError, match=r"t\.add|add\(\.\.\.\)") as info:
        shared_pool.submit(t.add, 1, lock)
    assert "args[1] (a _thread.lock)" in str(info.value)
    assert info.value.part.startswith("args[1]")
    with pytest.raises(SubmitError, match=r"kwargs\['c'\] \(a _thread.lock\)"):
        shared_pool.submit(t.add, 1, c=lock)
    with pytest.raises(SubmitError, match="the callable"):
        shared_pool.submit(functools.partial(t.add, lock))
    with pytest.raises(SubmitError, match=r"function '.*<lambda>'"):
        shared_pool.submit(lambda: 1)


@pytest.mark.parametrize(("chunksize", "position"), [(1, 5), (3, 5), (64, 5)])
def test_unpicklable_argument_fails_map_at_once_naming_the_call(
    shared_pool: Pool, chunksize: int, position: int
) -> None:
    items: list[Any] = list(range(10))
    items[position] = threading.Lock()
    expected = rf"map\(\) call {position}: .*args\[0\] \(a _thread.lock\)"
    with pytest.raises(SubmitError, match=expected):
        shared_pool.map(ident, items, chunksize=chunksize)
    # what map() had queued before the bad call was cancelled or ran; nothing is left behind
    assert shared_pool.submit(ident, 1).result(10) == 1
    wait_for(lambda: shared_pool.stats().queue_depth == 0 == shared_pool.stats().in_flight)


def test_submitted_counts_each_task_once_whatever_its_arguments(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool: Pool = make_pool(1)
    futs = [pool.submit(ident, (i, "tuple")) for i in range(10)]  # pickled: leaves the fast path
    futs += [pool.submit(ident, i) for i in range(5)]
    assert [f.result(10) for f in futs[:2]] == [(0, "tuple"), (1, "tuple")]
    assert pool.stats().totals.submitted == 15
