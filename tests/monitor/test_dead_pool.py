"""A dead pool looks dead: frozen ages and uptime, unknown workers, and words for what happened."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from poolmon.runtime.client import Backoff
from poolmon.runtime.endpoint import EndpointServer
from poolmon.runtime.monitor import Monitor
from poolmon.runtime.telemetry import Telemetry

pytestmark = pytest.mark.integration


def nap(x: float) -> float:
    time.sleep(x)
    return x


def _wait(cond, timeout_s: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _serve(short_dir: Path, name: str):  # type: ignore[no-untyped-def]
    from poolmon import Pool

    telemetry = Telemetry()
    pool = Pool(2, name=name, monitor=False, telemetry=telemetry)
    server = EndpointServer(pool, telemetry, path=short_dir / "dead.sock").start()
    return pool, server


def test_a_lost_connection_freezes_ages_and_says_the_pool_still_runs(short_dir: Path) -> None:
    pool, server = _serve(short_dir, "alive")
    monitor = Monitor(server.path, backoff=Backoff(first_s=30, cap_s=30))
    try:
        monitor.start()
        fut = pool.submit(nap, 3.0)
        _wait(lambda: any(w.current_op for w in monitor.snapshot(60).workers))
        monitor.drop_connection()
        _wait(lambda: monitor.status().state == "disconnected")
        status = monitor.status()
        assert status.detail.startswith("connection lost (pool process")
        assert "last data" in status.detail
        first = monitor.snapshot(60)
        time.sleep(0.5)
        second = monitor.snapshot(60)
        assert first.data_until_ns is not None
        busy = [w for w in second.workers if w.current_op]
        assert busy
        assert {w.state for w in second.workers} == {"unknown"}
        ages = [w.current_task_age_ns for w in first.workers if w.current_op]
        assert ages == [w.current_task_age_ns for w in busy]  # frozen, not ageing
        fut.result(10)
    finally:
        monitor.stop()
        server.close()
        pool.shutdown()


def test_a_clean_exit_says_pool_exited_and_a_new_pool_says_restarted(short_dir: Path) -> None:
    pool, server = _serve(short_dir, "first")
    monitor = Monitor(server.path, backoff=Backoff(first_s=0.05, cap_s=0.2))
    try:
        monitor.start()
        _wait(lambda: monitor.status().state == "live")
        server.close()
        pool.shutdown()
        _wait(lambda: monitor.status().state == "disconnected")
        assert monitor.status().detail.startswith("pool exited")
        pool, server = _serve(short_dir, "second")
        _wait(lambda: monitor.snapshot(60).pool.name == "second")
        _wait(lambda: monitor.status().state == "live")
        assert monitor.status().detail.startswith("pool restarted: new pid")
        assert monitor.snapshot(60).pool_restarts == 1
    finally:
        monitor.stop()
        server.close()
        pool.shutdown()


def test_a_pid_that_is_gone_means_the_pool_exited() -> None:
    import subprocess
    import sys

    from poolmon.core.snapshot import PoolInfo
    from poolmon.runtime.liveness import drop_kind

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    kind = drop_kind("socket error: reset", PoolInfo("p", child.pid, ""), terminated=False)
    assert kind == f"pool exited (process {child.pid} is gone)"
