"""The built-in WorkerCrashLoop fires on a real pool whose tasks keep killing their worker.

A poolmon pool gives each replacement a new worker id, so only counting per slot sees the
loop: three SIGKILLs in the one slot of a one-worker pool are three worker ids, one slot.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from alert_runtime_helpers import wait_until

from poolmon.core.alerts.model import FIRING, Alert
from poolmon.runtime.pool import Pool
from poolmon.runtime.pool.errors import WorkerCrashed
from poolmon.runtime.telemetry import Telemetry

pytestmark = pytest.mark.integration


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_slot_whose_workers_keep_being_killed_fires_worker_crash_loop(
    short_dir: Path, tmp_path: Path
) -> None:
    pool = Pool(
        1,
        name="crashloop",
        monitor=str(short_dir / "crashloop.sock"),
        alert_state_dir=str(tmp_path / "state"),
        telemetry=Telemetry(),
    )  # the built-in rule pack
    try:
        assert pool.wait_ready(30)
        pids = []
        for _ in range(3):
            pids.append(pool.stats().workers[0].pid)
            with pytest.raises(WorkerCrashed):
                pool.submit(die).result(30)
        assert len(set(pids)) == 3  # three workers, one after the other, in slot 0

        def crash_loop() -> Alert | None:
            view = pool.alerting.view if pool.alerting is not None else None
            return next(
                (a for a in view.alerts if a.rule == "WorkerCrashLoop") if view else iter(()),
                None,
            )

        alert: Alert = wait_until(crash_loop, 15, "a WorkerCrashLoop alert")
        assert alert.state == FIRING  # no `for`: firing at once
        assert alert.label_map["slot"] == "0"
        assert alert.value == 3
        assert alert.summary == "Workers in slot 0 exited abnormally 3 times in 5m"
    finally:
        pool.shutdown(wait=True)
