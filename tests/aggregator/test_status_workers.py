"""The periodic pool.status carries what each worker runs; the worker table shows it."""

from __future__ import annotations

from poolmon.core import catalog as C
from poolmon.core.aggregator import Aggregator
from poolmon.core.events import Event
from poolmon.testing import ManualClock


def _status(clock: ManualClock, workers: list[dict[str, object]]) -> Event:
    return Event(
        C.POOL_STATUS,
        clock.time_ns(),
        {"size": len(workers), "busy": 1, "idle": len(workers) - 1, "queue_depth": 0},
        {"pool": "p", "workers": workers},
    )


def test_status_rows_fill_current_task_and_age() -> None:
    clock = ManualClock()
    agg = Aggregator(clock)
    agg.ingest_event(
        _status(
            clock,
            [
                {
                    "worker_id": 0,
                    "pid": 100,
                    "state": "busy",
                    "op": "resize_image",
                    "task_id": 7,
                    "task_age_ns": 2_000_000_000,
                    "in_flight": 3,
                    "tasks_done": 5,
                },
                {
                    "worker_id": 1,
                    "pid": 101,
                    "state": "ready",
                    "op": None,
                    "task_id": None,
                    "task_age_ns": None,
                    "in_flight": 0,
                    "tasks_done": 9,
                },
            ],
        )
    )
    clock.advance(0.5)
    rows = {w.worker_id: w for w in agg.snapshot(60).workers}
    assert rows[0].pid == 100
    assert rows[0].state == "busy"
    assert rows[0].current_op == "resize_image"
    assert rows[0].current_task_age_ns == 2_500_000_000
    assert rows[1].current_op is None
    assert rows[1].current_task_age_ns is None
    assert rows[1].state == "ready"


def test_a_finished_task_clears_the_row() -> None:
    clock = ManualClock()
    agg = Aggregator(clock)
    busy = {"worker_id": 0, "pid": 100, "state": "busy", "op": "f", "task_age_ns": 10}
    agg.ingest_event(_status(clock, [busy]))
    clock.advance(1)
    agg.ingest_event(_status(clock, [{"worker_id": 0, "pid": 100, "state": "ready"}]))
    (row,) = agg.snapshot(60).workers
    assert row.current_op is None


def test_malformed_rows_are_ignored() -> None:
    clock = ManualClock()
    agg = Aggregator(clock)
    agg.ingest_event(_status(clock, ["junk", {"no_id": 1}]))  # type: ignore[list-item]
    assert agg.snapshot(60).workers == ()
