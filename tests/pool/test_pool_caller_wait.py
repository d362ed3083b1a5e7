"""A caller waiting for the one busy worker may sleep in a bounded blocking `recv` on its socket.

callerio.wait_on_worker: when exactly one worker has tasks in flight and its recent tasks were
short, `result()` waits the way the pool's `WaitChoice` picks, `poll` or a blocking `recv` on
that worker's socket (the early write-space wake-up that brings; module doc), and reports the
round trip back. The socket is the one the IO thread reads without blocking, so it must be
non-blocking again whatever ends a `recv` wait: an answer, the caller's timeout, a worker that
stops answering or dies (those tests make the choice always `recv`). A long task is waited for
in `poll`.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable
from typing import Any

import pool_test_tasks as t
import pytest

from poolmon import Pool
from poolmon.bench.tasks import ident, sleepy
from poolmon.runtime.pool import WorkerCrashed, callerio

pytestmark = pytest.mark.integration

SHORT_S = 0.0002
"""A task long enough that the caller's first read finds nothing, short enough to block on."""


def count_blocking_waits(
    pool: Pool, monkeypatch: pytest.MonkeyPatch, always: bool = True
) -> list[int]:
    """One entry per `wait_on_worker` call from now on; each checks the socket it left behind.

    `always`: every eligible wait is made a blocking `recv` (else the pool's choice stands).
    """
    eng: Any = pool._eng  # type: ignore[attr-defined]
    if always:
        monkeypatch.setattr(eng.wait_choice, "pick", lambda: "recv")
    calls: list[int] = []
    real = eng.wait_on_worker

    def counted(fut: Any, w: Any, end: int) -> None:
        calls.append(1)
        try:
            real(fut, w, end)
        finally:
            assert w.sock.gettimeout() == 0.0, "the worker's socket was left blocking"

    monkeypatch.setattr(eng, "wait_on_worker", counted)
    return calls


def warm(pool: Pool, monkeypatch: pytest.MonkeyPatch | None = None) -> None:
    """Short tasks one at a time, so the worker's task-time average is known.

    With `monkeypatch`, any average counts as short: on a loaded machine 0.2 ms tasks can
    average more than `BLOCKING_WAIT_TASK_NS`, and these tests are about the wait, not the
    threshold (`test_a_long_task_is_waited_for_in_poll` is about that).
    """
    if monkeypatch is not None:
        monkeypatch.setattr(callerio, "BLOCKING_WAIT_TASK_NS", 10**12)
    for _ in range(20):
        assert pool.submit(sleepy, SHORT_S).result(30) == SHORT_S
    (w,) = pool._eng.workers.values()  # type: ignore[attr-defined]
    assert w.task_ns >= 0


def test_short_tasks_are_waited_for_in_a_blocking_read_that_leaves_the_socket_non_blocking(
    make_pool: Callable[..., Pool], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = make_pool(1)
    warm(pool, monkeypatch)
    calls = count_blocking_waits(pool, monkeypatch)
    for i in range(30):
        assert pool.submit(sleepy, SHORT_S).result(30) == SHORT_S
        assert pool.submit(ident, i).result(30) == i
    assert calls, "no short task was waited for in a blocking read"
    # the IO thread's own (non-blocking) reads still work
    assert list(pool.map(ident, range(500), chunksize=7)) == list(range(500))


def test_the_pool_measures_both_ways_and_keeps_using_them(
    make_pool: Callable[..., Pool], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = make_pool(1)
    warm(pool, monkeypatch)
    choice = pool._eng.wait_choice  # type: ignore[attr-defined]
    calls = count_blocking_waits(pool, monkeypatch, always=False)
    waits = choice.waits
    for _ in range(100):
        assert pool.submit(sleepy, SHORT_S).result(30) == SHORT_S
    assert choice.waits > waits + 20  # (an answer there before any wait needs none)
    poll, recv = choice.median_ns["poll"], choice.median_ns["recv"]
    assert poll > SHORT_S * 1e9  # both measured, each at least the task's own time
    assert recv > SHORT_S * 1e9
    assert calls  # the blocking way ran, as the faster or as the exploration


def test_a_long_task_is_waited_for_in_poll(
    make_pool: Callable[..., Pool], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = make_pool(1)
    warm(pool)
    assert pool.submit(sleepy, 0.05).result(30) == 0.05  # the worker's average is now long
    calls = count_blocking_waits(pool, monkeypatch)
    for _ in range(3):
        assert pool.submit(sleepy, 0.05).result(30) == 0.05
    assert calls == []


def test_a_worker_that_stops_answering_ends_the_wait_at_the_callers_timeout(
    make_pool: Callable[..., Pool], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = make_pool(1)
    warm(pool, monkeypatch)
    calls = count_blocking_waits(pool, monkeypatch)
    fut = pool.submit(sleepy, 0.5)
    with pytest.raises(cf.TimeoutError):
        fut.result(timeout=0.1)
    assert calls, "the wait did not block in a read"
    assert fut.result(30) == 0.5  # the answer still arrives, through the IO thread
    assert pool.submit(ident, 7).result(30) == 7


def test_a_short_timeout_is_waited_for_in_poll_which_keeps_to_it(
    make_pool: Callable[..., Pool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A blocking read's time limit is counted in timer ticks (up to 8 ms on a 250 Hz
    kernel): a caller asking for less than `BLOCKING_WAIT_MIN_TIMEOUT_S` is not made to wait
    for one."""
    pool = make_pool(1)
    warm(pool, monkeypatch)
    calls = count_blocking_waits(pool, monkeypatch)
    fut = pool.submit(sleepy, 0.3)
    for _ in range(5):
        with pytest.raises(cf.TimeoutError):
            fut.result(timeout=0.002)
    assert calls == []
    assert fut.result(30) == 0.3


def test_a_worker_dying_while_the_caller_blocks_on_it_fails_only_its_task(
    make_pool: Callable[..., Pool], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = make_pool(1)
    warm(pool, monkeypatch)
    calls = count_blocking_waits(pool, monkeypatch)
    with pytest.raises(WorkerCrashed):
        pool.submit(t.exit_after, 0.05, 9).result(30)
    assert calls
    assert pool.submit(ident, 5).result(30) == 5  # its replacement answers
