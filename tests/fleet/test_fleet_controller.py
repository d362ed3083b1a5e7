"""The fleet controller without a terminal: membership, discovery, gone marking, selection."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from poolmon.runtime.fleet import (
    Fleet,
    FleetSource,
    FleetTarget,
    PoolMonitor,
    condition_of,
    local_target,
)
from poolmon.runtime.source import SourceStatus
from poolmon.testing.clock import ManualClock
from poolmon.testing.fleet_feed import FeedMonitor
from poolmon.testing.streams import StreamGenerator, StreamSpec


@pytest.fixture
def folder() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="fc", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


class Feeds:
    """A monitor factory handing out fed monitors (one per path) under one frozen clock."""

    def __init__(self) -> None:
        self.clock = ManualClock()
        self.made: dict[Path, FeedMonitor] = {}

    def __call__(self, path: Path) -> PoolMonitor:
        monitor = FeedMonitor(self.clock)
        name = path.name.removesuffix(".sock")
        generator = StreamGenerator(
            StreamSpec(name=name, seed=len(self.made)), self.clock.time_ns()
        )
        monitor.attach(generator.pool_info())
        monitor.play(generator, 5)
        self.made[path] = monitor
        return monitor


def listening(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.listen()
    return sock


def test_rows_follow_each_monitor_and_selection_wraps() -> None:
    feeds = Feeds()
    targets = [FleetTarget(Path(f"/nowhere/{n}.sock"), n, f"ssh://h/{n}") for n in "abc"]
    fleet = Fleet(targets, feeds)
    source = FleetSource(fleet)
    rows = fleet.rows(60)
    assert [r.label for r in rows] == ["a", "b", "c"]
    assert all(r.condition == "live" for r in rows)
    assert all(r.summary.tasks_finished > 0 for r in rows)
    assert all(r.gone_at_ns is None for r in rows)  # remote pools are never marked gone here
    assert source.snapshot(60).pool.name == "a"
    assert fleet.step(-1).target.label == "c"  # wraps around
    assert source.snapshot(60).pool.name == "c"
    assert fleet.step(+1).target.label == "a"
    fleet.select("ssh://h/b")
    assert source.status().state == "live"
    assert source.snapshot(60).pool.name == "b"
    with pytest.raises(KeyError):
        fleet.select("ssh://h/zzz")


def test_conditions_name_what_happened() -> None:
    assert condition_of(SourceStatus("live")) == "live"
    assert condition_of(SourceStatus("stale", "no data for 6s")) == "stale"
    assert condition_of(SourceStatus("connecting")) == "connecting"
    restarted = SourceStatus("live", "pool restarted: new pid 12 (was 11)", "warning")
    assert condition_of(restarted) == "restarted"
    exited = SourceStatus("disconnected", "pool exited (clean shutdown) · last data ...")
    assert condition_of(exited) == "exited"
    lost = SourceStatus("disconnected", "connection lost (pool process 9 still running)")
    assert condition_of(lost) == "connection lost"


def test_discovery_adds_live_pools_skips_stale_sockets_and_marks_gone(folder: Path) -> None:
    feeds = Feeds()
    fleet = Fleet([], feeds, discover=True, directory=folder)
    assert fleet.scan() == []
    assert FleetSource(fleet).snapshot(60).tasks_finished == 0  # no pool yet: an empty picture
    first = listening(folder / "first.sock")
    stale = listening(folder / "stale.sock")
    stale.close()  # its file stays, nothing listens: a dead pool's leftover
    try:
        added = fleet.scan()
        assert [m.target.label for m in added] == ["first"]
        assert fleet.scan() == []  # known pools are not added twice
        second = listening(folder / "second.sock")
        assert [m.target.label for m in fleet.scan()] == ["second"]
        os.unlink(folder / "first.sock")
        fleet.scan()
        gone = {m.target.label: m.gone_at_ns for m in fleet.members}
        assert gone["first"] is not None  # marked, not removed
        assert gone["second"] is None
        rows = {r.label: r for r in fleet.rows(60)}
        assert rows["first"].gone_at_ns == gone["first"]
        first.close()
        first = listening(folder / "first.sock")  # the pool came back under its name
        fleet.scan()
        assert all(m.gone_at_ns is None for m in fleet.members)
        second.close()
    finally:
        first.close()


def test_named_pools_are_checked_for_their_socket_on_every_read(folder: Path) -> None:
    feeds = Feeds()
    path = folder / "named.sock"
    sock = listening(path)
    try:
        fleet = Fleet([local_target(path)], feeds)
        assert fleet.rows(60)[0].gone_at_ns is None
        os.unlink(path)
        assert fleet.rows(60)[0].gone_at_ns is not None
    finally:
        sock.close()


def test_each_pool_starts_and_stops_with_the_fleet() -> None:
    feeds = Feeds()
    fleet = Fleet([FleetTarget(Path("/x/a.sock"), "a", "ssh://h/a")], feeds)
    fleet.start()
    monitor = feeds.made[Path("/x/a.sock")]
    assert monitor.started
    fleet.stop()
    assert not monitor.started
