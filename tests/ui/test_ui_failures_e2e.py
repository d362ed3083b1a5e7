"""End to end: a real pool's task raises; the app lists it and shows its remote traceback."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable, Iterator

import pytest
from textual.pilot import Pilot

from poolmon.app.app import PoolmonApp
from poolmon.app.textdump import screen_text
from poolmon.core.failures import MESSAGE_CAP, TRACEBACK_CAP
from poolmon.runtime.endpoint.paths import socket_dir
from poolmon.runtime.monitor import Monitor
from poolmon.runtime.pool import Pool
from poolmon.runtime.telemetry import Telemetry
from poolmon.screens.failure_detail import FailureDetailScreen
from poolmon.screens.failures import FailuresScreen
from tests.ui.failing_tasks import huge_failure, parse_order

pytestmark = pytest.mark.integration


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[Pool]:
    """A real 2-worker pool serving its endpoint in a private runtime folder."""
    with tempfile.TemporaryDirectory(prefix="pmf", dir="/tmp") as runtime:
        monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
        pool = Pool(2, name="e2efail", telemetry=Telemetry(), resource_interval=None)
        try:
            assert pool.wait_ready(20)
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


async def until(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 20
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.1)


def test_a_failed_task_is_listed_and_its_traceback_read_in_the_app(pool: Pool) -> None:
    monitor = Monitor(socket_dir() / "e2efail.sock")
    app = PoolmonApp(monitor, refresh_hz=4)
    seen: dict[str, str] = {}

    async def scenario() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            await until(pilot, lambda: monitor.status().state == "live", "a live connection")
            future = pool.submit(parse_order, 4711)
            with pytest.raises(ValueError, match="order 4711"):
                await asyncio.to_thread(future.result, 20)
            await until(pilot, lambda: bool(monitor.snapshot(60).failures), "the failure")
            await pilot.press("E")
            assert isinstance(app.screen, FailuresScreen)
            await pilot.pause(0.3)
            seen["list"] = screen_text(app)
            await pilot.press("enter")
            assert isinstance(app.screen, FailureDetailScreen)
            await pilot.pause(0.3)
            seen["detail"] = screen_text(app)
            await pilot.press("escape", "escape")

    asyncio.run(scenario())
    assert "parse_order" in seen["list"]
    assert "ValueError" in seen["list"]
    assert "order 4711 has no line items" in seen["list"]
    detail = seen["detail"]
    assert "Remote traceback" in detail
    assert "_check_order" in detail
    assert "raise ValueError" in detail
    assert "failing_tasks.py" in detail


def test_a_huge_message_and_deep_traceback_arrive_clipped(pool: Pool) -> None:
    monitor = Monitor(socket_dir() / "e2efail.sock")
    monitor.start()
    try:
        deadline = time.monotonic() + 20
        while monitor.status().state != "live":
            assert time.monotonic() < deadline, "no live connection"
            time.sleep(0.05)
        with pytest.raises(RuntimeError):
            pool.submit(huge_failure, 200_000).result(20)
        while not monitor.snapshot(60).failures:
            assert time.monotonic() < deadline + 10, "the failure never arrived"
            time.sleep(0.05)
        failure = monitor.snapshot(60).failures[0]
    finally:
        monitor.stop()
    assert failure.error_type == "RuntimeError"
    assert failure.op.endswith("huge_failure")
    assert failure.task_id == 0  # the pool's first task: id 0 is an id, not "missing"
    assert len(failure.message) <= MESSAGE_CAP
    assert "200,0" in failure.message
    assert len(failure.traceback) <= TRACEBACK_CAP
    assert "characters cut by poolmon" in failure.traceback
    assert failure.traceback.startswith("Traceback (most recent call last)")
    assert failure.traceback.rstrip().splitlines()[-1].startswith("RuntimeError: xxx")
