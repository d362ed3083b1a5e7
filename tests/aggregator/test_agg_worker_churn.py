"""Worker churn: a pool gives every replacement a fresh id, so exited rows must be capped."""

from __future__ import annotations

from poolmon.core import catalog as C
from poolmon.core.aggregator import Aggregator
from poolmon.core.events import Event
from poolmon.core.workers import MAX_EXITED_WORKERS
from poolmon.testing.clock import ManualClock


def test_a_thousand_restarts_keep_at_most_the_capped_exited_rows() -> None:
    clock = ManualClock()
    agg = Aggregator(clock)  # forget after 600 s: every exit below is younger than that
    for wid in range(1000):
        now = clock.time_ns()
        agg.ingest_event(Event(C.WORKER_SPAWN, now, {}, {"worker_id": wid, "pid": 10 + wid}))
        agg.ingest_event(Event(C.WORKER_EXIT, now, {}, {"worker_id": wid, "reason": "crash"}))
        clock.advance(0.1)
    agg.ingest_event(Event(C.WORKER_SPAWN, clock.time_ns(), {}, {"worker_id": 5000, "pid": 9}))
    rows = agg.workers.rows
    assert len(rows) == MAX_EXITED_WORKERS + 1
    assert 5000 in rows
    assert rows[5000].alive
    assert set(rows) - {5000} == set(range(1000 - MAX_EXITED_WORKERS, 1000))  # the newest exits
    assert agg.workers.evicted_exited == 1000 - MAX_EXITED_WORKERS
