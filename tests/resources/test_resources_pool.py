"""Integration: the ResourceMonitor watching a real `poolmon.Pool` (the lead wires it in later).

The monitor is built here the way `_start_services()` will build it: targets from
`Pool.stats()` plus the pool's own pid as worker_id -1, events into the pool's telemetry.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator, Mapping

import pytest

from poolmon.core.catalog import ERROR, RESOURCE_PROCESS
from poolmon.runtime.resources import POOL_WORKER_ID, ResourceMonitor
from poolmon.runtime.telemetry import Telemetry
from poolmon.testing.capture import capture_events

pool_module = pytest.importorskip("poolmon.runtime.pool")
pytestmark = pytest.mark.integration


@pytest.fixture
def pool_and_tel() -> Iterator[tuple[object, Telemetry]]:
    tel = Telemetry()
    pool = pool_module.Pool(2, monitor=False, telemetry=tel, name="res-it")
    try:
        assert pool.wait_ready(30)
        yield pool, tel
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def targets_of(pool: object) -> Mapping[int, int]:
    stats = pool.stats()  # type: ignore[attr-defined]
    return {POOL_WORKER_ID: stats.pid, **{w.worker_id: w.pid for w in stats.workers}}


def test_monitor_reports_every_worker_of_a_real_pool(
    pool_and_tel: tuple[object, Telemetry],
) -> None:
    pool, tel = pool_and_tel
    monitor = ResourceMonitor(lambda: targets_of(pool), tel, "res-it", interval_s=0.1)
    expected = targets_of(pool)
    with capture_events(("poolmon.resource", ERROR), telemetry=tel) as got, monitor:
        # Burn CPU in one worker (a builtin, so any start method can unpickle it).
        future = pool.submit(sum, range(40_000_000))  # type: ignore[attr-defined]
        busy = got.wait_for(
            RESOURCE_PROCESS,
            lambda e: e.metadata["worker_id"] >= 0 and e.measurements["cpu_percent"] > 20,
            timeout=30,
        )
        future.result(60)
    seen = {e.metadata["worker_id"]: e.metadata["pid"] for e in got.of(RESOURCE_PROCESS)}
    assert seen == expected
    assert busy[0].metadata["pool"] == "res-it"
    assert os.getpid() == expected[POOL_WORKER_ID]
    pool_event = next(e for e in got.of(RESOURCE_PROCESS) if e.metadata["worker_id"] == -1)
    assert pool_event.measurements["threads"] >= 2  # the pool's IO thread + the monitor
    assert got.of(ERROR) == []


def test_killed_worker_vanishes_from_the_samples_without_errors(
    pool_and_tel: tuple[object, Telemetry],
) -> None:
    pool, tel = pool_and_tel
    monitor = ResourceMonitor(lambda: targets_of(pool), tel, "res-it", interval_s=0.05)
    victim_id, victim_pid = next((w, p) for w, p in targets_of(pool).items() if w >= 0)
    with capture_events(("poolmon.resource", ERROR), telemetry=tel) as got, monitor:
        got.wait_for(RESOURCE_PROCESS, lambda e: e.metadata["worker_id"] == victim_id)
        os.kill(victim_pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while victim_id in targets_of(pool) or len(targets_of(pool)) < 3:
            assert time.monotonic() < deadline, "the pool never replaced the killed worker"
            time.sleep(0.05)
        replacement = next(w for w in targets_of(pool) if w >= 0 and w != victim_id)
        got.wait_for(RESOURCE_PROCESS, lambda e: e.metadata["worker_id"] == replacement)
    # The pool reports the crash itself (category "worker"); the monitor adds no error.
    assert [e for e in got.of(ERROR) if e.metadata["category"] == "resources"] == []
    assert monitor.stats.failures == 0
