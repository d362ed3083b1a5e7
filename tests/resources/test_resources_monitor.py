"""The ResourceMonitor service thread: events, zombies, failures, cadence, shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from poolmon.core.catalog import (
    ERROR,
    RECOVERY,
    RESOURCE_INTERNALS,
    RESOURCE_MACHINE,
    RESOURCE_PROCESS,
)
from poolmon.core.catalog_entries import BY_NAME
from poolmon.core.errors import ConfigError
from poolmon.runtime.resources import ResourceMonitor
from poolmon.runtime.telemetry import Telemetry
from poolmon.testing import ManualClock
from poolmon.testing.capture import capture_events

INTERNALS = {
    "monitors": 2,
    "socket_buffer_bytes": 512,
    "history_events": 100,
    "history_bytes": 4096,
    "telemetry_buffer_events": 3,
    "telemetry_buffer_bytes": 300,
    "events_dropped": 0,
    "sessions": 1,
}


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)


def test_thread_emits_the_three_resource_events(sleeper: subprocess.Popen[bytes]) -> None:
    tel = Telemetry()
    targets = {-1: os.getpid(), 0: sleeper.pid}
    with capture_events("poolmon", telemetry=tel) as got:
        monitor = ResourceMonitor(lambda: targets, tel, "main", lambda: INTERNALS, interval_s=0.05)
        with monitor:
            assert monitor.running
            procs = got.wait_for(RESOURCE_PROCESS, count=4)
            machine = got.wait_for(RESOURCE_MACHINE)[0]
            internals = got.wait_for(RESOURCE_INTERNALS)[0]
        assert not monitor.running
    assert {e.metadata["worker_id"] for e in procs} == {-1, 0}
    child = next(e for e in procs if e.metadata["worker_id"] == 0)
    assert child.metadata["pid"] == sleeper.pid
    assert child.metadata["pool"] == "main"
    assert child.metadata["status"] in {"running", "sleeping"}
    assert child.measurements["rss_bytes"] > 1 << 20
    # Every field the sampler emits is in the catalog, so monitors can rely on the names.
    for event in (child, machine, internals):
        spec = BY_NAME[event.name]
        assert set(event.measurements) <= set(spec.measurements), event.name
        assert set(event.metadata) <= set(spec.metadata), event.name
    assert dict(internals.measurements) == INTERNALS
    assert 0 <= machine.measurements["cpu_percent"] <= 100
    assert got.of(ERROR) == []
    stats = monitor.stats
    assert stats.sweeps >= 2
    assert stats.failures == 0
    assert stats.thread_cpu_ns > 0


def test_zombie_is_reported_and_reaped_through_the_callback(
    sleeper: subprocess.Popen[bytes],
) -> None:
    tel = Telemetry()
    reaped: list[int] = []

    def on_zombie(pid: int) -> None:
        assert pid == sleeper.pid
        sleeper.wait(5)  # the owner reaps, keeping its returncode
        reaped.append(pid)

    monitor = ResourceMonitor(
        lambda: {3: sleeper.pid}, tel, "main", interval_s=0.05, on_zombie=on_zombie
    )
    with capture_events("poolmon", telemetry=tel) as got:
        os.kill(sleeper.pid, signal.SIGKILL)
        with monitor:
            zombie = got.wait_for(RESOURCE_PROCESS, lambda e: e.metadata["status"] == "zombie")
            recovery = got.wait_for(RECOVERY)[0]
            report = monitor.last_report
    assert zombie[0].metadata["signal"] == signal.SIGKILL
    assert zombie[0].metadata["exit_code"] is None
    assert reaped == [sleeper.pid]
    assert recovery.metadata["action"] == "reap_zombie"
    assert recovery.metadata["result"] == "ok"
    assert recovery.metadata["worker_id"] == 3
    assert sleeper.returncode == -signal.SIGKILL
    assert len(got.of(RECOVERY)) == 1  # once per zombie, not once per sweep
    assert report is not None
    assert got.of(ERROR) == []


def test_failing_callback_is_a_failed_recovery_and_an_error_not_a_crash(
    sleeper: subprocess.Popen[bytes],
) -> None:
    tel = Telemetry()

    def broken(pid: int) -> None:
        raise RuntimeError("cannot reap")

    os.kill(sleeper.pid, signal.SIGKILL)
    monitor = ResourceMonitor(lambda: {0: sleeper.pid}, tel, "p", on_zombie=broken)
    with capture_events("poolmon", telemetry=tel) as got:
        while not got.of(RECOVERY):
            monitor.sweep()
    assert got.of(RECOVERY)[0].metadata["result"] == "failed"
    assert "cannot reap" in got.of(ERROR)[0].metadata["message"]


def test_provider_failures_are_reported_and_the_thread_survives() -> None:
    tel = Telemetry()
    healthy = threading.Event()

    def targets() -> Mapping[int, int]:
        if not healthy.is_set():
            raise RuntimeError("pool is busy restarting")
        return {-1: os.getpid()}

    monitor = ResourceMonitor(targets, tel, "p", interval_s=0.02)
    with capture_events("poolmon", telemetry=tel) as got, monitor:
        error = got.wait_for(ERROR)[0]
        healthy.set()
        got.wait_for(RESOURCE_PROCESS)
        assert monitor.running
    assert error.metadata["category"] == "resources"
    assert "pool is busy restarting" in error.metadata["message"]
    assert monitor.stats.failures >= 1
    # Repeated identical failures are not reported every interval: at most log2(n) + 1.
    assert len(got.of(ERROR)) <= monitor.stats.failures.bit_length() + 1


def test_bad_internals_fields_are_dropped_and_reported_once() -> None:
    tel = Telemetry()
    bad: dict[str, Any] = {"monitors": 1, "sessions": True, "x": "text"}
    monitor = ResourceMonitor(lambda: {}, tel, "p", lambda: bad)
    with capture_events("poolmon", telemetry=tel) as got:
        monitor.sweep()
        monitor.sweep()
    assert [dict(e.measurements) for e in got.of(RESOURCE_INTERNALS)] == [{"monitors": 1}] * 2
    assert len(got.of(ERROR)) == 2  # one per bad field, not one per sweep


def test_uss_follows_its_own_cadence_and_on_demand_requests() -> None:
    clock = ManualClock()
    monitor = ResourceMonitor(
        lambda: {-1: os.getpid()}, Telemetry(), "p", clock=clock, uss_interval_s=10.0
    )
    assert monitor.sweep().with_uss  # the first sweep measures it
    clock.advance(1.0)
    assert not monitor.sweep().with_uss
    clock.advance(9.5)
    assert monitor.sweep().with_uss
    monitor.request_uss()
    assert monitor.sweep().with_uss
    assert not monitor.sweep().with_uss
    report = monitor.sweep()
    assert report.by_worker()[-1].uss_bytes is not None  # carried between measurements


def test_nobody_listening_still_samples_for_last_report() -> None:
    monitor = ResourceMonitor(lambda: {-1: os.getpid()}, Telemetry(), "p")
    report = monitor.sweep()
    assert report.by_worker()[-1].pid == os.getpid()
    assert report.machine is not None
    assert monitor.last_report is report


@pytest.mark.parametrize(
    "bad",
    [
        {"interval_s": 0},
        {"interval_s": -1},
        {"interval_s": float("inf")},
        {"interval_s": "1"},
        {"uss_interval_s": 0},
        {"uss_interval_s": float("nan")},
    ],
)
def test_bad_intervals_are_config_errors(bad: dict[str, float]) -> None:
    with pytest.raises(ConfigError, match="positive, finite number of seconds"):
        ResourceMonitor(lambda: {}, Telemetry(), "p", **bad)  # type: ignore[arg-type]


def test_stop_is_prompt_and_idempotent() -> None:
    monitor = ResourceMonitor(lambda: {}, Telemetry(), "p", interval_s=30)
    monitor.start()
    monitor.start()
    monitor.stop(timeout=5)
    assert not monitor.running
    monitor.stop()


def test_on_zombie_may_call_back_into_the_monitor(sleeper: subprocess.Popen[bytes]) -> None:
    tel = Telemetry()
    inner: list[int] = []

    def on_zombie(pid: int) -> None:
        inner.append(len(monitor.sweep().processes))  # would deadlock under the lock
        sleeper.wait(5)

    monitor = ResourceMonitor(lambda: {0: sleeper.pid}, tel, "p", on_zombie=on_zombie)
    os.kill(sleeper.pid, signal.SIGKILL)
    with capture_events(RECOVERY, telemetry=tel) as got:
        while not got.of(RECOVERY):
            monitor.sweep()
    assert inner == [1]  # called once; the nested sweep did not hand the zombie over again
    assert got.of(RECOVERY)[0].metadata["result"] == "ok"
