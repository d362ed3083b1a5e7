"""Submit, map, results fidelity, exceptions, bad input, asyncio: the Executor contract."""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import functools
import threading

import pool_test_tasks as t
import pytest

from poolmon.bench.tasks import fail, ident
from poolmon.runtime.pool import Pool, RemoteError, SubmitError


def test_submit_returns_real_future_with_result(shared_pool: Pool) -> None:
    fut = shared_pool.submit(t.add, 2, 3)
    assert isinstance(fut, cf.Future)
    assert fut.result(10) == 5
    assert fut.done()
    assert not fut.cancelled()
    assert fut.exception() is None


def test_kwargs_pass_through_untouched(shared_pool: Pool) -> None:
    # timeout/session/retries are the user's own kwargs here, never the pool's options
    fut = shared_pool.submit(t.echo, 1, timeout=5, session="s", retries=2)
    assert fut.result(10) == ((1,), {"timeout": 5, "session": "s", "retries": 2})
    assert shared_pool.submit(t.add, 1, b=2, c=3).result(10) == 6


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -(2**63),
        2**100,
        1.5,
        "héllo",
        b"\x00bytes",
        [1, [2, 3]],
        {"a": 1, 2: "b"},
        (1, (2, 3)),
        {1, 2},
        t.Point(1, -2),
        {"nested": (1, 2)},
    ],
)
def test_values_round_trip_with_exact_types(shared_pool: Pool, value: object) -> None:
    back = shared_pool.submit(ident, value).result(10)
    assert back == value
    assert type(back) is type(value)


def test_bytearray_and_memoryview_travel_as_bytes(shared_pool: Pool) -> None:
    # Documented in docs/POOL.md: msgpack packs every bytes-like value as binary.
    assert shared_pool.submit(ident, bytearray(b"ab")).result(10) == b"ab"
    assert shared_pool.submit(ident, memoryview(b"cd")).result(10) == b"cd"


def test_exceptions_come_back_with_remote_traceback(shared_pool: Pool) -> None:
    fut = shared_pool.submit(fail, "boom")
    with pytest.raises(ValueError, match="boom") as info:
        fut.result(10)
    assert "Traceback" in str(info.value.__cause__)
    assert "in fail" in str(info.value.__cause__)


def test_unpicklable_exception_becomes_remote_error(shared_pool: Pool) -> None:
    with pytest.raises(RemoteError) as info:
        shared_pool.submit(t.raise_unpicklable, "no pickle").result(10)
    err = info.value
    assert err.type_name.endswith("Unpicklable")
    assert err.message == "no pickle"
    assert "raise_unpicklable" in err.traceback_text


def test_exception_that_pickles_but_does_not_unpickle(shared_pool: Pool) -> None:
    with pytest.raises(RemoteError, match="could not be unpickled"):
        shared_pool.submit(t.raise_bad_reduce).result(10)


def test_unpicklable_result_fails_only_that_future(shared_pool: Pool) -> None:
    with pytest.raises(TypeError, match="pickle"):
        shared_pool.submit(t.return_lock).result(10)
    assert shared_pool.submit(ident, 1).result(10) == 1


def test_unpicklable_function_or_argument_fails_at_submit(shared_pool: Pool) -> None:
    with pytest.raises(SubmitError, match="does not pickle"):
        shared_pool.submit(lambda: 1)
    with pytest.raises(SubmitError, match="does not pickle"):
        shared_pool.submit(ident, threading.Lock())
    with pytest.raises(TypeError):
        shared_pool.submit(42)  # type: ignore[arg-type]
    assert shared_pool.submit(ident, "still fine").result(10) == "still fine"


def test_bound_methods_and_partials(shared_pool: Pool) -> None:
    p = t.Point(3, -4)
    assert shared_pool.submit(p.norm1).result(10) == 7
    p.x = 10  # state changes must be seen: bound methods are not cached
    assert shared_pool.submit(p.norm1).result(10) == 14
    assert shared_pool.submit(functools.partial(t.add, 1), 2).result(10) == 3


@pytest.mark.parametrize("chunksize", [1, 3, 64])
def test_map_orders_results_and_supports_several_iterables(
    shared_pool: Pool, chunksize: int
) -> None:
    assert list(shared_pool.map(ident, range(200), chunksize=chunksize)) == list(range(200))
    got = list(shared_pool.map(t.add, range(10), range(100, 110), chunksize=chunksize))
    assert got == [a + b for a, b in zip(range(10), range(100, 110), strict=True)]
    tuples = [(i, "x") for i in range(5)]
    assert list(shared_pool.map(ident, tuples, chunksize=chunksize)) == tuples


def test_map_raises_at_the_failing_position(shared_pool: Pool) -> None:
    it = shared_pool.map(fail, ["a", "b"])
    with pytest.raises(ValueError, match="a"):
        next(it)
    with pytest.raises(TypeError):
        list(shared_pool.map(t.add, [1, "x"], [1, 2], chunksize=2))


def test_map_rejects_bad_chunksize(shared_pool: Pool) -> None:
    with pytest.raises(ValueError):
        shared_pool.map(ident, [1], chunksize=0)


def test_map_timeout(shared_pool: Pool) -> None:
    it = shared_pool.map(t.sleep_pid, [0.5], timeout=0.05)
    with pytest.raises(TimeoutError):
        next(it)


def test_async_run(shared_pool: Pool) -> None:
    async def main() -> list[int]:
        return list(await asyncio.gather(*(shared_pool.run(t.add, i, 1) for i in range(20))))

    assert asyncio.run(main()) == [i + 1 for i in range(20)]


def test_many_threads_submit_concurrently(shared_pool: Pool) -> None:
    results: list[list[int]] = []

    def work(base: int) -> None:
        futs = [shared_pool.submit(ident, base + i) for i in range(2000)]
        results.append([f.result(30) for f in futs])

    threads = [threading.Thread(target=work, args=(k * 10_000,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(x for chunk in results for x in chunk) == sorted(
        k * 10_000 + i for k in range(4) for i in range(2000)
    )


def test_submit_after_shutdown_raises_runtime_error(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool = make_pool(1)
    with pool:
        assert pool.submit(ident, 1).result(10) == 1
    assert pool.closed
    with pytest.raises(RuntimeError, match="after shutdown"):
        pool.submit(ident, 1)
    with pytest.raises(RuntimeError):
        pool.map(ident, [1])


def test_poolmon_pool_is_this_pool() -> None:
    import poolmon

    assert poolmon.Pool is Pool


def test_function_the_worker_cannot_import_fails_the_task_not_the_pool(shared_pool: Pool) -> None:
    import sys
    import types

    mod = types.ModuleType("pool_ghost_module")
    exec("def ghost(x):\n    return x\n", mod.__dict__)
    sys.modules["pool_ghost_module"] = mod
    try:
        pids = {w.pid for w in shared_pool.stats().workers}
        for _ in range(3):
            with pytest.raises(RuntimeError, match="could not load this task's function"):
                shared_pool.submit(mod.ghost, 1).result(10)
        assert shared_pool.submit(ident, 2).result(10) == 2
        assert {w.pid for w in shared_pool.stats().workers} == pids  # nobody crashed
    finally:
        del sys.modules["pool_ghost_module"]
