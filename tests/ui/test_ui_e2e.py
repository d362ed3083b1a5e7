"""End to end: a real pool with its endpoint, the monitor thread, and the app headless."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from poolmon.app.app import PoolmonApp
from poolmon.app.launch import check_reachable, start_demo_pool, stop_child, wait_for_socket
from poolmon.app.textdump import screen_text
from poolmon.core.errors import ConnectionFailed, ProtocolError
from poolmon.demo.service import DemoService
from poolmon.runtime.monitor import Monitor

pytestmark = pytest.mark.integration


def wait_until(condition: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoService]:
    service = DemoService("e2e", 2, tmp_path / "e2e.sock", rate_per_s=200).start()
    try:
        yield service
    finally:
        service.stop()


def test_app_attached_to_a_real_pool_shows_live_numbers(demo: DemoService) -> None:
    monitor = Monitor(demo.socket_path)
    app = PoolmonApp(monitor, refresh_hz=4)

    async def scenario() -> str:
        async with app.run_test(size=(160, 50)) as pilot:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                await pilot.pause(0.25)
                snap = monitor.snapshot(60)
                if monitor.status().state == "live" and snap.tasks_finished > 50:
                    break
            await pilot.pause(0.5)
            return screen_text(app)

    text = asyncio.run(scenario())
    assert "● live" in text
    assert "e2e" in text
    assert f"pid {os.getpid()}" in text
    rate = re.search(r"Throughput ([0-9.]+k?)/s", text)
    assert rate is not None
    assert rate.group(1) not in {"0", "0.00"}
    for worker in demo.pool.stats().workers:
        assert str(worker.pid) in text  # the worker table lists the real pids
    assert monitor._thread is None  # the app stopped the monitor on exit


def test_resize_goes_through_the_control_channel(demo: DemoService) -> None:
    monitor = Monitor(demo.socket_path)
    monitor.start()
    try:
        wait_until(lambda: monitor.status().state == "live")
        result = monitor.command("resize", {"size": 3})
        assert result.ok, result.reason
        assert result.result["size"] == 3
        wait_until(lambda: monitor.snapshot(60).size == 3)
        refused = monitor.command("resize", {"size": 10_000})
        assert not refused.ok
        assert refused.reason
    finally:
        monitor.stop()


def test_read_only_monitor_refuses_commands_locally(demo: DemoService) -> None:
    monitor = Monitor(demo.socket_path, read_only=True)
    monitor.start()
    try:
        wait_until(lambda: monitor.status().state == "live")
        assert not monitor.command("resize", {"size": 3}).ok
        assert demo.pool.stats().size == 2
    finally:
        monitor.stop()


def test_disconnect_keeps_data_and_reconnects(tmp_path: Path) -> None:
    from poolmon.runtime.client import Backoff

    path = tmp_path / "re.sock"
    first = DemoService("re", 1, path, rate_per_s=100).start()
    monitor = Monitor(path, backoff=Backoff(first_s=0.05, cap_s=0.2))
    monitor.start()
    try:
        wait_until(lambda: monitor.snapshot(60).tasks_finished > 20)
        first.stop()
        wait_until(lambda: monitor.status().state == "disconnected")
        assert monitor.status().severity == "error"
        assert monitor.snapshot(60).tasks_finished > 20  # the last data stays
        second = DemoService("re", 1, path, rate_per_s=100).start()
        try:
            wait_until(lambda: monitor.status().state == "live")
            wait_until(lambda: monitor.snapshot(60).pool.pid == os.getpid())
        finally:
            second.stop()
    finally:
        monitor.stop()


def test_unreachable_and_foreign_sockets_fail_clearly(tmp_path: Path) -> None:
    import socket

    with pytest.raises(ConnectionFailed, match="no pool socket"):
        check_reachable(tmp_path / "missing.sock", read_only=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(tmp_path / "silent.sock"))
    listener.listen()
    try:
        with pytest.raises((ConnectionFailed, ProtocolError)):
            check_reachable(tmp_path / "silent.sock", read_only=True)
    finally:
        listener.close()


def test_demo_child_process_starts_serves_and_stops(tmp_path: Path) -> None:
    path = tmp_path / "child.sock"
    child = start_demo_pool(path, 1, tmp_path / "child.log")
    try:
        wait_for_socket(path, child, tmp_path / "child.log")
        check_reachable(path, read_only=True)
    finally:
        stop_child(child)
    assert child.returncode is not None
    assert not path.exists()


def test_other_protocol_version_fails_clearly(tmp_path: Path) -> None:
    import socket
    import threading

    from poolmon.core.protocol import Error, encode

    path = tmp_path / "future.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen()

    def serve() -> None:
        conn, _ = listener.accept()
        conn.recv(4096)  # the HELLO
        conn.sendall(encode(Error("version", "this pool speaks protocol version 99")))
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with pytest.raises(ProtocolError, match="version 99"):
            check_reachable(path, read_only=True)
    finally:
        thread.join(5)
        listener.close()
