"""`settings`, `set` and `kill_worker` over a real pool's own socket, with their events."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pool_test_tasks as t
import pytest

from poolmon.core.catalog import CONTROL_COMMAND
from poolmon.core.events import Event
from poolmon.core.protocol import Batch, HistoryEnd
from poolmon.runtime.client import MonitorClient
from poolmon.runtime.monitor import Monitor
from poolmon.runtime.pool import Pool
from poolmon.runtime.pool.errors import WorkerKilled

pytestmark = pytest.mark.integration

MakePool = Callable[..., Pool]


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A short folder for the socket (a Unix socket path must fit in 108 bytes)."""
    with tempfile.TemporaryDirectory(prefix="pmt", dir="/tmp") as path:
        yield Path(path)


def control_events(client: MonitorClient, want: int, timeout_s: float = 10.0) -> list[Event]:
    found: list[Event] = []
    deadline = time.monotonic() + timeout_s
    while len(found) < want and time.monotonic() < deadline:
        frame = client.recv(0.1)
        if isinstance(frame, Batch):
            found += [e for _, e in frame.events if e.name == CONTROL_COMMAND]
    return found


def served(make_pool: MakePool, short_dir: Path, **kwargs: object) -> tuple[Pool, Path]:
    path = short_dir / "tune.sock"
    pool = make_pool(2, name="tune", monitor=str(path), max_size=6, **kwargs)
    return pool, path


def test_settings_set_and_events_on_a_real_pool(make_pool: MakePool, short_dir: Path) -> None:
    pool, path = served(make_pool, short_dir)
    with (
        MonitorClient(path, history=False) as watcher,
        MonitorClient(path, client="pytest tune") as ctl,
    ):
        assert isinstance(watcher.recv(5), HistoryEnd)
        reply = ctl.command("settings", timeout_s=10)
        assert reply.ok, reply.reason
        rows = {r["key"]: r for r in reply.result["settings"]}
        assert rows["size"]["value"] == 2
        assert rows["size"]["max"] == 6
        assert set(rows["size"]) >= {
            "key",
            "value",
            "min",
            "max",
            "choices",
            "unit",
            "help",
            "live",
        }

        ok = ctl.command("set", {"settings": {"size": 3, "task_timeout_s": 9}}, timeout_s=30)
        assert ok.ok, ok.reason
        assert ok.result == {"changed": {"size": [2, 3], "task_timeout_s": [None, 9.0]}}
        assert pool.size == 3
        assert pool.stats().task_timeout_s == 9.0

        bad = ctl.command("set", {"settings": {"size": 4, "queue_bound": 0}}, timeout_s=10)
        assert not bad.ok
        assert "nothing changed" in bad.reason
        assert "queue_bound=0 is outside 1.." in bad.reason
        assert pool.size == 3, "a refused set changes nothing"

        events = control_events(watcher, 2)
        assert [e.metadata["result"] for e in events] == ["ok", "refused"]
        first, second = events
        assert first.metadata["command"] == "set"
        assert first.metadata["changes"] == {"size": [2, 3], "task_timeout_s": [None, 9.0]}
        assert first.metadata["client"] == "pytest tune"
        assert first.metadata["peer_pid"] > 0
        assert second.metadata["changes"] == {}
        assert "queue_bound" in second.metadata["reason"]


def test_read_only_connections_may_read_but_not_change(
    make_pool: MakePool, short_dir: Path
) -> None:
    pool, path = served(make_pool, short_dir)
    with MonitorClient(path, read_only=True) as ro:
        assert ro.command("settings", timeout_s=10).ok
        for name, args in (("set", {"settings": {"size": 3}}), ("kill_worker", {"worker_id": 0})):
            reply = ro.command(name, args, timeout_s=10)
            assert not reply.ok
            assert reply.reason == f"{name} refused: this connection is read-only"
    assert pool.size == 2


def test_kill_worker_over_the_socket(make_pool: MakePool, short_dir: Path) -> None:
    pool, path = served(make_pool, short_dir)
    fut = pool.submit(t.sleep_pid, 120)
    deadline = time.monotonic() + 10
    wid = None
    while wid is None and time.monotonic() < deadline:
        wid = next(
            (w.worker_id for w in pool.stats().workers if w.current_task_id is not None), None
        )
        time.sleep(0.01)
    assert wid is not None
    with MonitorClient(path) as ctl:
        assert not ctl.command("kill_worker", {"worker_id": "x"}, timeout_s=10).ok
        unknown = ctl.command("kill_worker", {"worker_id": 999}, timeout_s=10)
        assert not unknown.ok
        assert "no live worker with id 999" in unknown.reason
        reply = ctl.command("kill_worker", {"worker_id": wid}, timeout_s=10)
        assert reply.ok, reply.reason
        assert reply.result == {"worker_id": wid}
    with pytest.raises(WorkerKilled, match="an operator killed worker"):
        fut.result(timeout=10)
    monitor = Monitor(path)
    monitor.start()
    try:
        deadline = time.monotonic() + 10
        state = None
        while state != "killed" and time.monotonic() < deadline:
            views = [w for w in monitor.snapshot(60).workers if w.worker_id == wid]
            state = views[0].state if views else None
            time.sleep(0.05)
        assert state == "killed"  # the table said `stopped`, as after a shutdown
    finally:
        monitor.stop()
