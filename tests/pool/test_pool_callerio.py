"""Caller-runs IO (poolmon/runtime/pool/callerio.py): the IO thread's epoll hidden and given back.

A task sent from the submitting thread into an idle pool hides its worker's socket from the IO
thread; every way of waiting for the future must still see it complete, and giving the socket
back must restore exactly the interest the selector had (a wrong mask once lost write
interest, and a pool with queued frames hung).
"""

from __future__ import annotations

import concurrent.futures as cf
import select
import selectors
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from poolmon import Pool
from poolmon.bench.tasks import getpid, ident, sleepy
from poolmon.core.events import TASK_OK, TaskBatch
from poolmon.runtime.pool.future import PENDING, RUNNING
from poolmon.runtime.telemetry import Telemetry

pytestmark = pytest.mark.integration


def epoll_masks(eng: Any) -> dict[int, int]:
    """fd -> event mask of the engine's epoll, as the kernel has it (/proc fdinfo)."""
    masks = {}
    text = Path(f"/proc/self/fdinfo/{eng.sel.fileno()}").read_text()
    for line in text.splitlines():
        if line.startswith("tfd:"):
            parts = line.split()
            masks[int(parts[1])] = int(parts[3], 16)
    return masks


def count_spreads(eng: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the engine's batch dispatches (`spread` calls) from now on: one entry each."""
    spreads: list[int] = []
    real_spread = eng.spread

    def counted_spread(*args: Any) -> None:
        spreads.append(1)
        real_spread(*args)

    monkeypatch.setattr(eng, "spread", counted_spread)
    return spreads


def test_rearm_restores_read_and_write_interest(make_pool: Callable[..., Pool]) -> None:
    pool = make_pool(1)
    assert pool.wait_ready(30)
    eng = pool._eng  # type: ignore[attr-defined]
    if eng.epoll is None:
        pytest.skip("the selector is not epoll here: sockets are never hidden")
    w = next(iter(eng.workers.values()))
    with eng.io_lock:
        for wanted in (selectors.EVENT_READ | selectors.EVENT_WRITE, selectors.EVENT_READ):
            eng.sel.modify(w.fd, wanted, ("sock", w))
            before = epoll_masks(eng)[w.fd]
            eng.epoll.modify(w.fd, 0)
            eng.disarmed.add(w.fd)
            assert epoll_masks(eng)[w.fd] & (select.EPOLLIN | select.EPOLLOUT) == 0
            eng.rearm()
            assert epoll_masks(eng)[w.fd] == before
            assert not eng.disarmed
    assert pool.submit(ident, 1).result(30) == 1


@pytest.mark.parametrize("how", ["callback", "wait", "as_completed", "done", "exception"])
def test_every_way_of_waiting_sees_a_kicked_task_complete(
    make_pool: Callable[..., Pool], how: str
) -> None:
    pool = make_pool(1)
    assert pool.wait_ready(30)
    for i in range(20):
        time.sleep(0.03)  # the IO thread goes back to sleep: the next submit is a kick
        fut = pool.submit(ident, i)
        if how == "callback":
            done = threading.Event()
            fut.add_done_callback(lambda _f, done=done: done.set())  # type: ignore[misc]
            assert done.wait(30)
        elif how == "wait":
            assert cf.wait([fut], timeout=30).done == {fut}
        elif how == "as_completed":
            assert list(cf.as_completed([fut], timeout=30)) == [fut]
        elif how == "done":
            deadline = time.monotonic() + 30
            while not fut.done() and time.monotonic() < deadline:
                time.sleep(0.001)
        else:
            assert fut.exception(30) is None
        assert fut.done()
        assert fut.result(0) == i


def test_a_result_nobody_asks_for_still_arrives(make_pool: Callable[..., Pool]) -> None:
    """Nobody waits: the IO thread's next tick collects it (stats count it done)."""
    pool = make_pool(1)
    assert pool.wait_ready(30)
    time.sleep(0.05)
    before = pool.stats().totals.succeeded
    fut = pool.submit(ident, 7)
    deadline = time.monotonic() + 30
    while pool.stats().totals.succeeded == before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pool.stats().totals.succeeded == before + 1
    assert fut.result(0) == 7


def test_result_with_zero_timeout_on_a_pending_future(make_pool: Callable[..., Pool]) -> None:
    pool = make_pool(1)
    assert pool.wait_ready(30)
    fut = pool.submit(time.sleep, 0.5)
    with pytest.raises(cf.TimeoutError):
        fut.result(timeout=0)
    assert fut.result(30) is None


def test_a_waiter_whose_answer_is_there_reads_it_without_polling(
    make_pool: Callable[..., Pool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`drive` reads first: no poll object and no `poll` when the worker already answered."""
    pool = make_pool(1)
    eng = pool._eng  # type: ignore[attr-defined]
    if eng.epoll is None:
        pytest.skip("the selector is not epoll here: sockets are never hidden")
    (w,) = eng.workers.values()
    made: list[int] = []
    real_poll = select.poll

    def counted_poll() -> Any:
        made.append(1)
        return real_poll()

    monkeypatch.setattr(select, "poll", counted_poll)
    answered_first = 0
    for i in range(30):
        time.sleep(0.03)  # the IO thread goes back to sleep: the next submit is a kick
        fut = pool.submit(ident, i)
        # wait (without reading) until the worker's answer is in the socket, unless the IO
        # thread's tick reads it first
        deadline = time.monotonic() + 30
        while fut._state is PENDING or fut._state is RUNNING:
            if select.select([w.fd], [], [], 0.01)[0] or time.monotonic() > deadline:
                break
        if fut._state is not PENDING and fut._state is not RUNNING:
            continue  # the IO thread's tick took it first: nobody drives this one
        answered_first += 1
        before = len(made)
        assert fut.result(30) == i
        assert len(made) == before, "drive built a poll object for an answer already there"
    assert answered_first > 0


def test_a_task_into_an_idle_pool_skips_the_batch_dispatch(
    make_pool: Callable[..., Pool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One plain task and an idle worker: `dispatch_one`, not the lists and sort of `spread`.

    It picks as the batch path would: among idle workers the one that answered last, so
    sequential round trips keep to one warm worker.
    """
    pool = make_pool(2)
    eng = pool._eng  # type: ignore[attr-defined]
    spreads = count_spreads(eng, monkeypatch)
    pids = {pool.submit(getpid).result(30) for _ in range(50)}
    assert len(pids) == 1
    assert not spreads
    # a task somebody already waits on, and a batch, still take the general path
    futs = [pool.submit(ident, i) for i in range(100)]
    assert [f.result(30) for f in futs] == list(range(100))
    assert spreads


def test_reading_results_allocates_no_read_sized_buffer(make_pool: Callable[..., Pool]) -> None:
    """Results are read into one kept buffer, not a fresh 1 MiB object per read.

    (glibc serves a 1 MiB allocation with mmap, mremap and munmap and a page fault, ~20 µs a
    read on a VM, unless something raised the process's mmap threshold first.)
    """
    pool = make_pool(1)
    for i in range(20):
        assert pool.submit(ident, i).result(30) == i  # the read buffer exists now
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        for i in range(50):
            time.sleep(0.002)  # the pool goes idle: each result is read by the waiting caller
            assert pool.submit(ident, i).result(30) == i
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - base < 256 * 1024, f"a read allocated {peak - base} bytes at its peak"


def test_with_task_rows_on_an_idle_pool_still_skips_the_batch_dispatch(
    make_pool: Callable[..., Pool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Per-task telemetry (a monitor attached) keeps the short path, and every row is exact."""
    tel = Telemetry()
    batches: list[TaskBatch] = []
    tel.attach_batch("rows", lambda batch, meta: batches.append(batch))
    pool = make_pool(1, telemetry=tel, name="rows-idle")
    eng = pool._eng  # type: ignore[attr-defined]
    assert pool.submit(ident, -1).result(30) == -1
    deadline = time.monotonic() + 30
    while not eng.tasks_on and time.monotonic() < deadline:  # the supervisor turns rows on
        time.sleep(0.01)
    assert eng.tasks_on
    spreads = count_spreads(eng, monkeypatch)
    futs: list[Any] = []
    for i in range(40):
        futs.append(pool.submit(ident, i))
        assert futs[-1].result(30) == i
    assert not spreads
    pool.shutdown(wait=True)
    rows = {r[0]: r for b in batches for r in b.rows()}
    for fut in futs:
        assert rows[fut._seq][2] == "ident"
        assert rows[fut._seq][6] == TASK_OK


def test_a_stream_into_busy_workers_does_not_look_for_an_idle_one(
    make_pool: Callable[..., Pool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`dispatch_one` is tried only while some worker is READY (the engine counts them).

    A stream of submits into busy workers then costs no failed scan per submit.
    """
    pool = make_pool(1)
    eng = pool._eng  # type: ignore[attr-defined]
    tries: list[bool] = []  # per try: was the only worker still running `busy` then?
    running: list[cf.Future[Any]] = []
    real_one = eng.dispatch_one

    def counted_one() -> bool:
        tries.append(bool(running) and not running[0].done())
        return bool(real_one())

    monkeypatch.setattr(eng, "dispatch_one", counted_one)
    assert pool.submit(ident, 0).result(30) == 0
    assert tries  # an idle pool: the short path was tried (and taken)
    assert eng.ready_workers == 1
    busy = pool.submit(sleepy, 1.0)
    running.append(busy)
    del tries[:]
    more = []
    for i in range(20):
        time.sleep(0.005)  # let the pool go idle between submits: each one is a kick
        more.append(pool.submit(ident, i))
    # A loaded machine may finish `busy` before the last submit: tries after that are right.
    assert not any(tries)
    assert busy.result(30) == 1.0
    assert [f.result(30) for f in more] == list(range(20))
