"""A caller waiting for the one busy worker may sleep in a bounded blocking `recv` on its
socket, or spin on its result ring first.

callerio.wait_on_worker / spin_on_worker: when exactly one worker has tasks in flight and its
recent tasks were short, `result()` waits the way the pool's `WaitChoice` picks, `poll`, a
blocking `recv` on that worker's socket (the early write-space wake-up that brings; module
doc) or a bounded spin, and reports the round trip back. The socket is the one the IO thread
reads without blocking, so it must be non-blocking again whatever ends a `recv` wait: an
answer, the caller's timeout, a worker that stops answering or dies (those tests make the
choice always `recv`). A spin that runs out sleeps the faster blocking way. A long task is
waited for in `poll`.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pool_test_tasks as t
import pytest

from poolmon import Pool
from poolmon.bench.tasks import ident, sleepy
from poolmon.runtime.pool import WorkerCrashed, callerio
from poolmon.runtime.pool.future import PoolFuture

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
        for choice in eng.wait_choices.values():
            monkeypatch.setattr(choice, "pick", lambda ways=None: "recv")
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
    choice = pool._eng.wait_choices[False]  # type: ignore[attr-defined]  # 0.2 ms: no spin
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


def count_ways(pool: Pool, monkeypatch: pytest.MonkeyPatch, force: str | None) -> dict[str, Any]:
    """Record each wait's offered ways, each spin's outcome and each blocking wait after it.

    `force`: the way every eligible wait takes (else the pool's choice stands).
    """
    eng: Any = pool._eng  # type: ignore[attr-defined]
    seen: dict[str, Any] = {"offered": [], "spins": [], "slept": []}
    real_spin, real_sleep = eng.spin_on_worker, eng.sleep_on
    for choice in eng.wait_choices.values():

        def pick(ways: Any = None, choice: Any = choice, real: Any = choice.pick) -> Any:
            seen["offered"].append(choice.ways)
            return real(ways) if force is None else force

        monkeypatch.setattr(choice, "pick", pick)

    def spin(fut: Any, w: Any, until: int) -> None:
        real_spin(fut, w, until)
        seen["spins"].append(fut.done())
        assert w.sock.gettimeout() == 0.0

    def sleep(way: str, fut: Any, w: Any, end: int) -> None:
        seen["slept"].append(way)
        real_sleep(way, fut, w, end)

    monkeypatch.setattr(eng, "spin_on_worker", spin)
    monkeypatch.setattr(eng, "sleep_on", sleep)
    return seen


def spin_long(pool: Pool) -> None:
    """Make the worker's recent tasks look 1 ms long, so a spin for the next one lasts until
    the drive bound (2 ms) even when the caller comes late to it on a loaded machine."""
    (w,) = pool._eng.workers.values()  # type: ignore[attr-defined]
    w.task_ns = 1_000_000.0


def forced_spin(
    make_pool: Callable[..., Pool], monkeypatch: pytest.MonkeyPatch
) -> tuple[Pool, dict[str, Any]]:
    """A warmed one-worker pool whose every eligible wait spins, and what `count_ways` sees.

    Any task counts as short enough to spin for, and a spin is bounded only by its 2 ms drive
    bound and twice the worker's recent time per task (`spin_long` makes that long too).
    """
    pool = make_pool(1)
    monkeypatch.setattr(callerio, "SPIN_TASK_NS", 10**12)
    monkeypatch.setattr(callerio, "SPIN_MAX_NS", 10**9)
    warm(pool, monkeypatch)
    return pool, count_ways(pool, monkeypatch, "spin")


def test_short_tasks_may_be_waited_for_spinning_on_the_result_ring(
    make_pool: Callable[..., Pool], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool, seen = forced_spin(make_pool, monkeypatch)  # 0.2 ms tasks spun for (2 ms bound)
    for i in range(30):
        assert pool.submit(sleepy, SHORT_S).result(30) == SHORT_S
        assert pool.submit(ident, i).result(30) == i
    assert True in seen["spins"], "no answer came while the caller spun"
    assert list(pool.map(ident, range(500), chunksize=7)) == list(range(500))


def test_a_spin_that_runs_out_sleeps_the_faster_blocking_way(
    make_pool: Callable[..., Pool], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool, seen = forced_spin(make_pool, monkeypatch)
    choice = pool._eng.wait_choices[True]  # type: ignore[attr-defined]
    choice.median_ns.update(poll=50_000.0, recv=40_000.0)
    spin_long(pool)
    assert pool.submit(sleepy, 0.05).result(30) == 0.05  # longer than any spin: 2 ms at most
    assert seen["spins"]
    assert seen["spins"][0] is False
    assert seen["slept"]
    assert seen["slept"][0] == "recv"


def test_tasks_over_the_spin_threshold_are_never_spun_for(
    make_pool: Callable[..., Pool], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = make_pool(1)
    warm(pool, monkeypatch)
    monkeypatch.setattr(callerio, "SPIN_TASK_NS", 1)  # every task is longer than that
    seen = count_ways(pool, monkeypatch, None)
    for _ in range(100):
        assert pool.submit(sleepy, SHORT_S).result(30) == SHORT_S
    assert seen["offered"], "no wait was chosen at all"
    assert all(ways == ("poll", "recv") for ways in seen["offered"])  # the longer tasks' choice
    assert seen["spins"] == []


def test_a_worker_dying_while_the_caller_spins_fails_only_its_task(
    make_pool: Callable[..., Pool], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool, seen = forced_spin(make_pool, monkeypatch)
    spin_long(pool)  # the spin lasts until the 2 ms bound: the worker dies during it
    with pytest.raises(WorkerCrashed):
        pool.submit(t.exit_after, 0.001, 9).result(30)
    assert seen["spins"] == [False]  # a death moves no commit count: the spin ran out
    assert seen["slept"]  # and the blocking wait after it saw the end of the socket
    assert pool.submit(ident, 5).result(30) == 5  # its replacement answers


def test_the_reads_time_limit_is_set_again_only_when_what_is_left_falls_under_half(
    make_pool: Callable[..., Pool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`setsockopt` costs a microsecond a wait; the kernel rounds the limit to ticks anyway."""
    pool = make_pool(1)
    warm(pool, monkeypatch)
    calls = count_blocking_waits(pool, monkeypatch)
    (w,) = pool._eng.workers.values()  # type: ignore[attr-defined]
    drive_us = callerio.DRIVE_NS // 1000
    w.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, callerio._timeval(drive_us + 1))
    w.rcvtimeo_us = drive_us + 1  # what each wait has left (~DRIVE_NS) is within: kept
    sets: list[int] = []
    real_timeval = callerio._timeval

    def counted_timeval(us: int) -> bytes:
        sets.append(us)
        return real_timeval(us)

    monkeypatch.setattr(callerio, "_timeval", counted_timeval)
    for _ in range(20):
        assert pool.submit(sleepy, SHORT_S).result(30) == SHORT_S
    assert calls, "no blocking read was made"
    assert len(sets) * 2 < len(calls)  # (a wait begun over 1 ms late may set it again)
    w.rcvtimeo_us = 4 * drive_us  # more than twice what a wait has left: set again
    for _ in range(20):
        assert pool.submit(sleepy, SHORT_S).result(30) == SHORT_S
    assert 0 < w.rcvtimeo_us <= drive_us


def test_a_spinning_caller_yields_the_cpu_between_looks(
    make_pool: Callable[..., Pool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a shared CPU the worker must not wait for the spin to end (callerio module doc)."""
    pool, _ = forced_spin(make_pool, monkeypatch)
    yields: list[int] = []

    def counted() -> None:
        yields.append(1)
        os.sched_yield()

    monkeypatch.setattr(callerio, "yield_cpu", counted)
    for _ in range(3):
        spin_long(pool)  # each spin lasts until the 2 ms bound: the task takes 5 ms
        assert pool.submit(sleepy, 0.005).result(30) == 0.005
    assert yields


def test_a_spin_ends_on_time_when_committed_bytes_never_come(
    make_pool: Callable[..., Pool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker stopped between committing a result and sending it must not hold the caller:
    the spin ends at its bound whatever the ring says."""
    pool = make_pool(1)
    eng: Any = pool._eng  # type: ignore[attr-defined]
    stuck = type("Stuck", (), {"slot": [0, 0, 0, 10**9], "rx": 0, "eof": False, "exited": False})()
    monkeypatch.setattr(eng, "read", lambda w: None)  # the bytes never arrive
    fut = PoolFuture()
    fut.set_running_or_notify_cancel()
    done = threading.Event()

    def spin() -> None:
        eng.spin_on_worker(fut, stuck, time.monotonic_ns() + 2_000_000)
        done.set()

    threading.Thread(target=spin, daemon=True).start()
    assert done.wait(10), "the spin did not end at its bound"
    assert not fut.done()
