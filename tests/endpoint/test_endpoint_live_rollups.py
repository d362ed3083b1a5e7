"""Live rollups (SUBSCRIBE live_tasks="rollups"): one frame per closed second, counts exact.

docs/PROTOCOL.md, "Live rollups". A real endpoint server on a Unix socket, real clients.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import msgpack
import pytest
from endpoint_fakes import frames_until, tasks

from poolmon.core.events import TASK_CRASHED, TASK_ERROR, TASK_OK, TASK_TIMEOUT, TaskBatch
from poolmon.core.protocol import (
    Batch,
    Decoder,
    Frame,
    FrameError,
    HistoryEnd,
    Rollups,
    Subscribe,
    encode,
)
from poolmon.core.rollup import Rollup, RollupBuilder
from poolmon.runtime.client import MonitorClient
from poolmon.runtime.endpoint import EndpointServer, History
from poolmon.runtime.endpoint.connection import LIVE, Connection
from poolmon.runtime.endpoint.rollup_stream import send_live_rollups
from poolmon.runtime.monitor import Monitor
from poolmon.runtime.telemetry import Telemetry

S = 1_000_000_000


def _until(predicate: Callable[[], bool], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def _counted(frames: list[Frame]) -> int:
    return sum(
        Rollup.from_wire(w).count for f in frames if isinstance(f, Rollups) for w in f.rollups
    )


def _rows(frames: list[Frame]) -> int:
    return sum(len(b) for f in frames if isinstance(f, Batch) for _, b in f.tasks)


def _server(make_server: Callable[..., EndpointServer]) -> EndpointServer:
    # close_grace_s=0 and a 0.1 s tick: a second is closed and sent ~0.1 s after it ends
    return make_server(history=History(close_grace_s=0), heartbeat_interval_s=0.1)


def test_subscribe_keeps_its_old_bytes_and_round_trips_the_new_keys() -> None:
    plain = Subscribe(events=("poolmon.worker",))
    assert b"live_tasks" not in encode(plain)  # an old server sees exactly what it always did
    assert b"rollups_since_s" not in encode(plain)
    sub = Subscribe(live_tasks="rollups", resume_seq=7, rollups_since_s=1_800_000_000)
    (back,) = Decoder().feed(encode(sub))
    assert back == sub
    body = msgpack.packb([3, {"live_tasks": "columns"}])
    with pytest.raises(FrameError, match="live_tasks"):
        Decoder().feed(len(body).to_bytes(4, "big") + body)


def test_live_tasks_arrive_as_one_rollup_per_second_not_rows(
    make_server: Callable[..., EndpointServer], telemetry: Telemetry
) -> None:
    server = _server(make_server)
    client = MonitorClient(server.path, live_tasks="rollups")
    rows_client = MonitorClient(server.path)
    connected = time.monotonic()  # every frame counted below was sent after this
    client.connect()
    rows_client.connect()
    assert client.welcome is not None
    assert "live_rollups" in client.welcome.capabilities
    frames_until(client, lambda f: isinstance(f, HistoryEnd))
    frames_until(rows_client, lambda f: isinstance(f, HistoryEnd))
    total, t0 = 0, time.monotonic()
    while time.monotonic() - t0 < 1.5:  # 1.5 s of small batches, as a busy pool flushes them
        telemetry.emit_tasks(tasks(7, start=total), {})
        total += 7
        time.sleep(0.01)
    last_second = time.time_ns() // S
    got = frames_until(client, lambda f: isinstance(f, Rollups) and f.until_s > last_second)
    assert _rows(got) == 0
    assert _counted(got) == total
    seconds = [
        Rollup.from_wire(w).second_ns // S for f in got if isinstance(f, Rollups) for w in f.rollups
    ]
    assert len(seconds) == len(set(seconds))  # each second once
    elapsed = time.monotonic() - connected  # not t0: ticks while the other client caught up
    assert sum(isinstance(f, Rollups) for f in got) <= elapsed / 0.1 + 2  # one per 0.1 s tick
    assert sum(isinstance(f, Batch) for f in got) < 10  # events only: the pool sent none
    assert client.rollups_until_s is not None
    assert client.rollups_until_s > last_second
    # the same tasks reach a rows subscriber as many batches of rows
    rows_got = frames_until(rows_client, lambda f: _rows([f]) > 0)
    while _rows(rows_got) < total:
        frame = rows_client.recv(2)
        assert frame is not None
        rows_got.append(frame)
    assert _rows(rows_got) == total
    assert not any(isinstance(f, Rollups) for f in rows_got)
    client.close()
    rows_client.close()


def test_a_resume_resends_the_seconds_closed_while_away(
    make_server: Callable[..., EndpointServer], telemetry: Telemetry
) -> None:
    server = _server(make_server)
    first = MonitorClient(server.path, live_tasks="rollups")
    first.connect()
    frames_until(first, lambda f: isinstance(f, HistoryEnd))
    telemetry.emit_tasks(tasks(30), {})
    second_of = time.time_ns() // S
    got = frames_until(first, lambda f: isinstance(f, Rollups) and f.until_s > second_of)
    resume, since = first.resume_seq, first.rollups_until_s
    first.close()
    telemetry.emit_tasks(tasks(12, start=100), {})  # while away
    away_second = time.time_ns() // S
    _until(lambda: server.history.rollups_until_s > away_second)
    again = MonitorClient(server.path, live_tasks="rollups")
    again.connect(resume_seq=resume, rollups_since_s=since)
    got2 = frames_until(again, lambda f: isinstance(f, HistoryEnd))
    end = got2[-1]
    assert isinstance(end, HistoryEnd)
    assert end.resumed
    assert end.rollups_until_s == server.history.rollups_until_s
    assert _rows(got2) == 0
    assert _counted(got) + _counted(got2) == 42
    again.close()


def test_a_resume_without_rollups_since_takes_a_full_backfill(
    make_server: Callable[..., EndpointServer], telemetry: Telemetry
) -> None:
    server = _server(make_server)
    telemetry.emit_tasks(tasks(5, at_ns=time.time_ns() - 3 * S), {})
    _until(lambda: server.history.rollups_until_s > 0)
    client = MonitorClient(server.path, live_tasks="rollups")
    client.connect(resume_seq=server.history.next_seq)  # no rollups_since_s: cannot resume
    got = frames_until(client, lambda f: isinstance(f, HistoryEnd))
    assert isinstance(got[-1], HistoryEnd)
    assert not got[-1].resumed
    assert _counted(got) == 5
    client.close()


def test_history_resends_rollups_only_while_it_holds_them_all() -> None:
    history = History(rollup_seconds=3, close_grace_s=0)
    t0 = 1_800_000_000
    for i in range(5):
        history.add_tasks(tasks(2, at_ns=(t0 + i) * S + 10))
        history.tick((t0 + i + 1) * S)
    assert history.rollups_until_s == t0 + 5
    assert history.rollups_since(None) is None
    assert history.rollups_since(t0) is None  # seconds t0, t0+1 were pushed out
    held = history.rollups_since(t0 + 2)
    assert held is not None
    assert [Rollup.from_wire(w).second_ns // S for w in held] == [t0 + 2, t0 + 3, t0 + 4]
    assert history.rollups_since(t0 + 5) == ()


def test_a_full_output_queue_loses_the_rollup_and_counts_it() -> None:
    a, b = socket.socketpair()
    try:
        conn = Connection(a, 1, 1, 0, 1 << 20)
        conn.state, conn.live_rollups = LIVE, True
        history = History(close_grace_s=0)
        history.add_tasks(tasks(9, at_ns=1_800_000_000 * S))
        closed = history.tick(1_800_000_001 * S)
        conn.out_bytes = 100  # at the bound: the pool never waits, the monitor loses it
        assert send_live_rollups([conn], closed, history, limit=100) == []
        assert (conn.dropped_records, conn.dropped_tasks) == (1, 9)
        assert not conn.out
        conn.out_bytes = 0
        assert send_live_rollups([conn], closed, history, limit=100) == [conn]
        (frame,) = Decoder().feed(b"".join(bytes(p) for p in conn.out))
        assert isinstance(frame, Rollups)
        assert frame.until_s == 1_800_000_001
    finally:
        a.close()
        b.close()


def _mixed(start: int, n_each: int) -> TaskBatch:
    now = time.time_ns()
    rows = []
    for k, status in enumerate((TASK_OK, TASK_ERROR, TASK_TIMEOUT, TASK_CRASHED)):
        for i in range(n_each):
            tid = start + k * n_each + i
            err = "ValueError" if status == TASK_ERROR else ""
            rows.append((tid, tid % 2, "op", now, 1_000, 10, status, err))
    return TaskBatch.from_rows(rows)


def _by_status(monitor: Monitor) -> list[int]:
    ops = monitor.read(lambda agg: agg.stats.op_totals.view())
    return [sum(o.by_status[i] for o in ops) for i in range(5)]


def test_a_live_rollups_monitor_counts_exactly_across_backfill_and_reconnects(
    make_server: Callable[..., EndpointServer], telemetry: Telemetry
) -> None:
    server = _server(make_server)
    telemetry.emit_tasks(_mixed(0, 5), {})  # the open second: sent as raw rows in the backfill
    time.sleep(0.05)
    monitor = Monitor(server.path, read_only=True, live_tasks="rollups")
    monitor.start()
    try:
        _until(lambda: _by_status(monitor) == [5, 5, 5, 5, 0])
        second = time.time_ns() // S
        _until(lambda: (monitor.rollups_until_s() or 0) > second)
        assert _by_status(monitor) == [5, 5, 5, 5, 0]  # its rollup added nothing twice
        monitor.drop_connection()
        telemetry.emit_tasks(_mixed(100, 3), {})
        _until(lambda: monitor.histories[True] >= 1)  # reconnected and resumed
        _until(lambda: _by_status(monitor) == [8, 8, 8, 8, 0])
        second = time.time_ns() // S
        _until(lambda: (monitor.rollups_until_s() or 0) > second)
        assert _by_status(monitor) == [8, 8, 8, 8, 0]
        status = monitor.status()
        assert status.dropped == 0
    finally:
        monitor.stop()


def test_a_rollup_builder_split_survives_the_wire() -> None:
    builder = RollupBuilder()
    builder.add(_mixed(0, 2))
    (rollup,) = builder.flush()
    (op,) = rollup.by_op
    assert (op.count, op.failed, op.fails) == (8, 6, (2, 2))
    assert Rollup.from_wire(rollup.to_wire()) == rollup


def test_an_idle_pool_still_says_how_far_it_has_counted(
    make_server: Callable[..., EndpointServer],
) -> None:
    server = _server(make_server)
    client = MonitorClient(server.path, live_tasks="rollups")
    client.connect()
    frames_until(client, lambda f: isinstance(f, HistoryEnd))
    now_s = time.time_ns() // S
    got = frames_until(client, lambda f: isinstance(f, Rollups) and f.until_s > now_s)
    assert _counted(got) == 0  # no tasks, yet every second before until_s is known to be empty
    assert client.rollups_until_s is not None
    assert client.rollups_until_s > now_s
    client.close()
