"""Every count survives reconnects: a recorded stream, a real History, the monitor's frame path.

A seeded stream (`poolmon.testing.streams`) is numbered and kept by the endpoint's real
`History` under a manual clock; a simulated connection hands the monitor (`Monitor._handle`,
the code the client thread runs) exactly the frames the server would send: live records,
then on each reconnect a resume or a full backfill (rollups, held records, HISTORY_END) that
is sometimes cut off half-way. Disconnects fall at random points for many seeds; every count
the monitor shows must equal a direct count of the stream (`stream_counts`).
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from stream_counts import StreamCounts, shown

from poolmon.core.events import Event, TaskBatch
from poolmon.core.protocol import Batch, Frame, HistoryEnd, Rollups, Welcome
from poolmon.core.snapshot import PoolInfo
from poolmon.runtime.endpoint import History
from poolmon.runtime.endpoint.history import Record
from poolmon.runtime.monitor import Monitor
from poolmon.testing.clock import ManualClock
from poolmon.testing.streams import StreamGenerator, StreamSpec

S = 1_000_000_000


def _batch(seq: int, record: Record) -> Batch:
    if isinstance(record, TaskBatch):
        return Batch(seq, seq + 1, tasks=((seq, record),))
    return Batch(seq, seq + 1, events=((seq, record),))


def _history_frames(history: History, resume: int | None) -> Iterator[Frame]:
    """What `send_history` queues: a resume if `resume` is still held, else a backfill."""
    live = history.next_seq
    if resume is not None:
        held = history.resume(resume)
        if held is not None:
            for seq, record in held:
                yield _batch(seq, record)
            yield HistoryEnd(live, 0, resumed=True)
            return
    backfill = history.backfill()
    for i in range(0, len(backfill.rollups), 100):
        yield Rollups(backfill.rollups[i : i + 100], backfill.until_s)
    for seq, record in backfill.records:
        yield _batch(seq, record)
    yield HistoryEnd(live, backfill.until_s, resumed=False)


class Link:
    """One monitor's connection to the recorded pool, with the client's resume rules."""

    def __init__(self, monitor: Monitor, history: History, welcome: Welcome) -> None:
        self.monitor, self.history, self.welcome = monitor, history, welcome
        self.connected = False
        self.resume: int | None = None
        self.histories = {True: 0, False: 0}
        self.cut_histories = 0

    def connect(self, cut_at: int | None) -> None:
        """Handshake and history; `cut_at`: frames delivered before the link breaks again."""
        self.monitor._handle(self.welcome)
        frames = list(_history_frames(self.history, self.resume))
        for n, frame in enumerate(frames):
            if cut_at is not None and n >= cut_at:
                self.cut_histories += 1
                self.drop()
                return
            self.monitor._handle(frame)
            if isinstance(frame, HistoryEnd):
                self.resume = frame.live_seq
                self.histories[frame.resumed] += 1
        self.connected = True

    def drop(self) -> None:
        from poolmon.runtime.client import Disconnected

        self.connected = False
        self.monitor._handle(Disconnected("link broken", 0.1, 1))

    def deliver(self, seq: int, record: Record) -> None:
        if self.connected:
            self.monitor._handle(_batch(seq, record))
            self.resume = seq + 1


@pytest.mark.parametrize("seed", range(6))
def test_recorded_stream_counts_survive_random_reconnects(seed: int) -> None:
    rng = random.Random(seed)
    clock = ManualClock()
    spec = StreamSpec(seed=seed, workers=4, tasks_per_s=120, crash_at_s=50)
    gen = StreamGenerator(spec, clock.time_ns())
    # Small raw history: a disconnect of a few seconds loses the resume point (full backfill);
    # a short one resumes.
    history = History(raw_task_bytes=64 * 400, close_grace_s=1)
    info: PoolInfo = gen.pool_info()
    welcome = Welcome(
        pool=info.name, pid=info.pid, host=info.host, started_at_ns=info.started_at_ns
    )
    monitor = Monitor("/nonexistent/recorded.sock", clock=clock)
    link = Link(monitor, history, welcome)
    ref = StreamCounts()
    link.connect(None)
    down_until = -1
    for t in range(180):
        events, batch = gen.next_second()
        records: list[Event | TaskBatch] = [
            *events[: len(events) // 2],
            batch,
            *events[len(events) // 2 :],
        ]
        for record in records:
            if isinstance(record, TaskBatch):
                seq = history.add_tasks(record)
                ref.tasks(record)
            else:
                seq = history.add_event(record)
                ref.event(record)
            link.deliver(seq, record)
            if link.connected and rng.random() < 0.02:
                link.drop()
                down_until = t + rng.choice([0, 0, 1, 3, 6])
        clock.advance(1)
        history.tick(clock.time_ns())
        if not link.connected and t >= down_until:
            link.connect(rng.randrange(0, 40) if rng.random() < 0.3 else None)
    while not link.connected:
        link.connect(None)
    snap = monitor.snapshot(3600)
    assert shown(snap) == ref.expected(), (link.histories, link.cut_histories)
    assert link.histories[True] >= 3, link.histories
    assert link.histories[False] >= 3, link.histories
    assert link.cut_histories >= 1
