"""History: every task counted once between rollups and raw rows; resume; latest state kept."""

from __future__ import annotations

import time

from endpoint_fakes import tasks

from poolmon.core.events import Event
from poolmon.core.protocol import Batch, HistoryEnd, Rollups
from poolmon.core.rollup import Rollup
from poolmon.runtime.client import MonitorClient
from poolmon.runtime.endpoint import EndpointServer, History
from poolmon.runtime.telemetry import Telemetry

S = 1_000_000_000
T0 = 1_800_000_000 * S


def test_backfill_counts_every_task_once() -> None:
    history = History(close_grace_s=2)
    total = 0
    for sec in range(30):
        history.add_tasks(tasks(10 + sec, start=total, at_ns=T0 + sec * S + 1000))
        total += 10 + sec
        history.tick(T0 + sec * S + S // 2)
    backfill = history.backfill()
    rolled = [Rollup.from_wire(w) for w in backfill.rollups]
    assert rolled
    assert all(r.second_ns // S < backfill.until_s for r in rolled)
    raw_rows = 0
    for _, record in backfill.records:
        for start, dur in zip(record.start_ns, record.duration_ns, strict=True):  # type: ignore[union-attr]
            assert (start + dur) // S >= backfill.until_s
            raw_rows += 1
    assert sum(r.count for r in rolled) + raw_rows == total
    assert backfill.live_seq == 30


def test_batch_straddling_the_cut_is_split() -> None:
    history = History(close_grace_s=0)
    history.add_tasks(tasks(4, at_ns=T0 + 5))
    history.tick(T0 + 2 * S)  # closes seconds T0 and T0 + 1
    history.add_tasks(tasks(3, start=10, at_ns=T0 + 2 * S + 5))
    history.tick(T0 + 3 * S)  # closes T0 + 2
    history.add_tasks(tasks(2, start=20, at_ns=T0 + 3 * S + 5))
    backfill = history.backfill()
    assert backfill.until_s == T0 // S + 3
    assert sum(Rollup.from_wire(w).count for w in backfill.rollups) == 7
    (raw,) = [r for _, r in backfill.records]
    assert list(raw.task_id) == [20, 21]  # type: ignore[union-attr]


def test_a_row_late_for_its_closed_second_is_backfilled_once() -> None:
    """Counted in the first open second, so it is sent raw until that second closes, then in
    its rollup: never in neither (a monitor attaching then lost it) and never in both."""
    history = History(close_grace_s=0)
    history.add_tasks(tasks(4, at_ns=T0 + 5))
    history.tick(T0 + S)  # closes second T0; T0 + 1 is the first open one
    late = tasks(3, start=10, at_ns=T0 + S + 5)
    late.start_ns[0] = T0 + 10  # finished in the closed second T0
    history.add_tasks(late)

    def counted() -> tuple[int, list[int]]:
        backfill = history.backfill()
        rolled = sum(Rollup.from_wire(w).count for w in backfill.rollups)
        raw = [i for _, r in backfill.records for i in r.task_id]  # type: ignore[union-attr]
        return rolled, raw

    assert counted() == (4, [10, 11, 12])
    history.tick(T0 + 2 * S)  # closes T0 + 1, which counted the late row
    assert counted() == (7, [])


def test_resume_returns_held_records_or_none_once_evicted() -> None:
    history = History(raw_events=5)
    for i in range(8):
        history.add_event(Event("e", i, {}, {"worker_id": i % 2}))
    assert history.oldest_seq == 3
    held = history.resume(4)
    assert held is not None
    assert [s for s, _ in held] == [4, 5, 6, 7]
    assert history.resume(8) == []
    assert history.resume(2) is None
    assert history.resume(9) is None


def test_latest_event_per_worker_outlives_the_raw_ring() -> None:
    history = History(raw_events=3)
    history.add_event(Event("poolmon.worker.state", 1, {}, {"worker_id": 7, "to": "busy"}))
    for i in range(10):
        history.add_event(Event("poolmon.pool.status", i, {}, {}))
    names = [(r.name, r.metadata.get("worker_id")) for _, r in history.backfill().records]  # type: ignore[union-attr]
    assert ("poolmon.worker.state", 7) in names


def test_raw_task_bytes_are_bounded_once_their_seconds_are_rolled_up() -> None:
    history = History(raw_task_bytes=64 * 100, close_grace_s=0)
    for i in range(10):
        history.add_tasks(tasks(50, start=i * 50, at_ns=T0 + i * S))
    # Nothing is rolled up yet: the raw rows are the only copy of those seconds, so they stay.
    assert history.oldest_seq == 0
    history.tick(T0 + 10 * S)
    assert history.held_bytes <= 64 * 100 + 64 * 50 + 600 * 10
    assert history.oldest_seq > 0


def test_a_backfill_after_eviction_still_counts_every_task_once() -> None:
    """A small history under load: the open seconds' rows are never evicted before roll-up."""
    history = History(raw_task_bytes=64 * 20, close_grace_s=2)
    total = 0
    for sec in range(12):
        for part in range(4):
            history.add_tasks(tasks(15, start=total, at_ns=T0 + sec * S + part * 1000))
            total += 15
        history.tick(T0 + sec * S + S // 2)
    backfill = history.backfill()
    rolled = sum(Rollup.from_wire(w).count for w in backfill.rollups)
    raw = sum(len(r.task_id) for _, r in backfill.records)  # type: ignore[union-attr]
    assert history.oldest_seq > 0
    assert rolled + raw == total


def test_late_monitor_gets_rollups_and_a_reconnect_resumes(
    make_server,
    telemetry: Telemetry,  # type: ignore[no-untyped-def]
) -> None:
    server: EndpointServer = make_server(
        history=History(close_grace_s=0), heartbeat_interval_s=0.05
    )
    now = time.time_ns()
    telemetry.emit_tasks(tasks(20, at_ns=now - 5 * S), {})
    telemetry.emit_tasks(tasks(30, start=20, at_ns=now - 3 * S), {})
    time.sleep(0.3)  # a tick closes those seconds
    client = MonitorClient(server.path)
    client.connect()
    frames = []
    while not any(isinstance(f, HistoryEnd) for f in frames):
        frame = client.recv(2)
        assert frame is not None
        frames.append(frame)
    rollups = [Rollup.from_wire(w) for f in frames if isinstance(f, Rollups) for w in f.rollups]
    raw = [i for f in frames if isinstance(f, Batch) for _, b in f.tasks for i in b.task_id]
    assert sum(r.count for r in rollups) + len(raw) == 50  # a row late for its second is raw
    end = frames[-1]
    assert isinstance(end, HistoryEnd)
    assert not end.resumed
    telemetry.emit_tasks(tasks(5, start=100), {})
    while True:
        frame = client.recv(2)
        if isinstance(frame, Batch) and frame.tasks:
            break
    resume_at = client.resume_seq
    client.close()
    telemetry.emit_tasks(tasks(4, start=200), {})  # while away
    telemetry.emit("poolmon.worker.exit", {}, {"worker_id": 1})
    time.sleep(0.1)
    again = MonitorClient(server.path)
    again.connect(resume_seq=resume_at)
    got = []
    while True:
        frame = again.recv(2)
        assert frame is not None
        got.append(frame)
        if isinstance(frame, HistoryEnd):
            break
    assert got[-1].resumed  # type: ignore[union-attr]
    ids = [i for f in got if isinstance(f, Batch) for _, b in f.tasks for i in b.task_id]
    names = [e.name for f in got if isinstance(f, Batch) for _, e in f.events]
    assert ids == [200, 201, 202, 203]
    assert "poolmon.worker.exit" in names
    first = next(f for f in got if isinstance(f, Batch))
    assert first.seq == resume_at
    again.close()
