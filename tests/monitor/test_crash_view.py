"""A real worker crash, as the monitor shows it: crashed with its exit, restarts as the pool
counts them, no resources for the dead process."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from poolmon.runtime.endpoint import EndpointServer
from poolmon.runtime.monitor import Monitor
from poolmon.runtime.telemetry import Telemetry

pytestmark = pytest.mark.integration


def die(x: int) -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return x


def test_a_crash_shows_as_crashed_and_the_slot_counts_a_restart(short_dir: Path) -> None:
    from poolmon import Pool

    telemetry = Telemetry()
    pool = Pool(1, name="crashy", monitor=False, telemetry=telemetry)
    server = EndpointServer(pool, telemetry, path=short_dir / "crashy.sock").start()
    monitor = Monitor(server.path)
    try:
        monitor.start()
        time.sleep(0.3)
        assert pool.submit(die, 1).exception(timeout=30) is not None
        deadline = time.monotonic() + 15
        while True:
            workers = monitor.snapshot(60).workers
            dead = [w for w in workers if not w.alive]
            alive = [w for w in workers if w.alive and w.restarts]
            if dead and alive:
                break
            assert time.monotonic() < deadline, workers
            time.sleep(0.1)
        (crashed,) = dead
        assert crashed.state == "crashed"
        assert crashed.exits[-1].signal == signal.SIGKILL
        assert crashed.cpu_percent is None
        assert crashed.rss_bytes is None
        (replacement,) = alive
        assert replacement.restarts == 1
        assert [w.restarts for w in pool.stats().workers] == [1]
    finally:
        monitor.stop()
        server.close()
        pool.shutdown()
