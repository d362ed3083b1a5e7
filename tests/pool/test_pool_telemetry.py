"""The pool's own emission points: lifecycle events, task batches, user events from tasks."""

from __future__ import annotations

import os
import signal

import pool_test_tasks as t
import pytest
from pool_test_helpers import wait_for

from poolmon.bench.tasks import fail, ident
from poolmon.core import catalog as cat
from poolmon.runtime.pool import Pool, WorkerCrashed
from poolmon.runtime.telemetry import Telemetry
from poolmon.testing import capture_events


def test_lifecycle_events_and_task_batches(make_pool) -> None:  # type: ignore[no-untyped-def]
    tel = Telemetry()
    with capture_events(telemetry=tel) as cap:
        pool: Pool = make_pool(2, telemetry=tel, name="tel", health_check_interval=0.05)
        assert [f.result(10) for f in [pool.submit(ident, i) for i in range(20)]] == list(range(20))
        with pytest.raises(ValueError):
            pool.submit(fail, "bad").result(10)
        assert pool.submit(t.emit_user_event, 3).result(10) == 3
        victim = pool.submit(t.sleep_pid, 30)
        w = wait_for(lambda: next((x for x in pool.stats().workers if x.current_op), None))
        os.kill(w.pid, signal.SIGKILL)
        with pytest.raises(WorkerCrashed):
            victim.result(20)
        pool.resize(3)
        cap.wait_for(cat.POOL_STATUS, timeout=5)
        cap.wait_for(cat.WORKER_HEALTH_CHECK, timeout=5)
        pool.shutdown()
        cap.wait_for(cat.POOL_TERMINATE, timeout=10)

    names = set(cap.names())
    for name in (
        cat.POOL_INIT,
        cat.POOL_RESIZE,
        cat.POOL_TERMINATE,
        cat.WORKER_SPAWN,
        cat.WORKER_READY,
        cat.WORKER_STATE,
        cat.WORKER_EXIT,
        cat.TASK_EXCEPTION,
        cat.ERROR,
        cat.RECOVERY,
    ):
        assert name in names, name
    (exc,) = cap.of(cat.TASK_EXCEPTION)
    assert exc.metadata["error_type"] == "ValueError"
    assert "bad" in exc.metadata["message"]
    assert exc.measurements["duration_ns"] > 0
    exits = {e.metadata["reason"] for e in cap.of(cat.WORKER_EXIT)}
    assert {"crash", "shutdown"} <= exits
    statuses = {r.status for r in cap.tasks}
    assert {"ok", "error", "crashed"} <= statuses
    ok = [r for r in cap.tasks if r.op == "ident"]
    assert len(ok) == 20
    assert all(r.pool == "tel" and r.duration_ns >= 0 and r.wait_ns >= 0 for r in ok)
    (user,) = cap.of("myapp.cache.hit")
    assert user.metadata["key"] == "k3"
    assert user.metadata["pool"] == "tel"
    assert isinstance(user.metadata["worker_id"], int)


def test_no_task_rows_when_nobody_wants_them(make_pool) -> None:  # type: ignore[no-untyped-def]
    tel = Telemetry()
    pool: Pool = make_pool(1, telemetry=tel)
    with capture_events("poolmon.pool", telemetry=tel, tasks=False) as cap:
        assert not tel.wants_tasks
        assert [f.result(10) for f in [pool.submit(ident, i) for i in range(50)]] == list(range(50))
        assert not pool._eng.tasks_on
    assert not cap.tasks


def test_status_reports_what_each_worker_is_running(make_pool) -> None:  # type: ignore[no-untyped-def]
    tel = Telemetry()
    with capture_events(telemetry=tel) as cap:
        pool: Pool = make_pool(2, telemetry=tel, name="status-rows")
        running = pool.submit(t.sleep_pid, 3)

        cap.wait_for(
            cat.POOL_STATUS,
            lambda e: any(r["op"] and r["task_age_ns"] > 0 for r in e.metadata["workers"]),
            timeout=10,
        )
        running.result(20)
    status = cap.of(cat.POOL_STATUS)[-1]
    rows = status.metadata["workers"]
    assert {r["worker_id"] for r in rows} == {w.worker_id for w in pool.stats().workers}
    assert all(r["pid"] > 0 and r["state"] for r in rows)
    busy = [r for e in cap.of(cat.POOL_STATUS) for r in e.metadata["workers"] if r["op"]]
    assert busy
    assert busy[0]["op"].endswith("sleep_pid")
