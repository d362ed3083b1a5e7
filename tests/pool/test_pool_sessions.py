"""Session affinity: hint falls back to an idle worker, strict waits for the bound one."""

from __future__ import annotations

import pool_test_tasks as t
from pool_test_helpers import wait_for

from poolmon.bench.tasks import getpid
from poolmon.runtime.pool import Pool


def test_hint_keeps_a_session_on_one_worker_while_it_is_free(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool: Pool = make_pool(2, session_ttl=60)
    view = pool.options(session="user-1")
    pids = {view.submit(getpid).result(10) for _ in range(20)}
    assert len(pids) == 1
    other = {pool.options(session="user-2").submit(getpid).result(10) for _ in range(5)}
    assert len(other) == 1
    s = pool.stats().sessions
    assert s.count == 2
    assert s.misses == 2  # first use of each session binds it
    assert s.hits == 23


def test_hint_falls_back_when_the_bound_worker_is_busy(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool: Pool = make_pool(2)
    view = pool.options(session="s", affinity="hint")
    bound = view.submit(getpid).result(10)
    blocker = view.submit(t.sleep_pid, 0.5)  # occupies the bound worker
    wait_for(lambda: pool.stats().busy == 1, what="bound worker busy")
    elsewhere = view.submit(getpid).result(10)
    assert elsewhere != bound
    assert blocker.result(10) == bound
    assert pool.stats().sessions.misses == 2


def test_strict_waits_for_the_bound_worker(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool: Pool = make_pool(2, max_in_flight=1)
    view = pool.options(session="s", affinity="strict")
    bound = view.submit(getpid).result(10)
    blocker = view.submit(t.sleep_pid, 0.3)
    followers = [view.submit(getpid) for _ in range(3)]
    assert [f.result(10) for f in followers] == [bound] * 3
    assert blocker.result(10) == bound
    assert pool.stats().sessions.misses == 1


def test_binding_moves_when_its_worker_dies(make_pool) -> None:  # type: ignore[no-untyped-def]
    import os
    import signal

    pool: Pool = make_pool(2)
    view = pool.options(session="s")
    first = view.submit(getpid).result(10)
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: first not in [w.pid for w in pool.stats().workers], what="replacement")
    second = view.submit(getpid).result(10)
    assert second != first
    assert {view.submit(getpid).result(10) for _ in range(5)} == {second}


def test_idle_bindings_expire(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool: Pool = make_pool(1, session_ttl=0.05)
    pool.options(session="x").submit(getpid).result(10)
    wait_for(lambda: pool.stats().sessions.expired == 1, timeout=5, what="expiry")
    assert pool.stats().sessions.count == 0
