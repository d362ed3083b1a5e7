"""The history forgets the latest events of workers gone longer than the app keeps their rows."""

from __future__ import annotations

import pytest

from poolmon.core.events import Event
from poolmon.runtime.endpoint import History

S = 1_000_000_000
T0 = 1_700_000_000 * S
NAMES = ("poolmon.worker.spawn", "poolmon.worker.ready", "poolmon.worker.state")


def worker_events(history: History, worker: int, at_ns: int, *, exits: bool) -> None:
    """A worker's life as the pool reports it: spawn, ready, a state, and maybe its exit."""
    for name in NAMES:
        history.add_event(Event(name, at_ns, metadata={"worker_id": worker}))
    if exits:
        history.add_event(Event("poolmon.worker.exit", at_ns + S, metadata={"worker_id": worker}))


def latest_workers(history: History) -> dict[int, set[str]]:
    """Which event names a backfill carries for each worker, read from its latest-by-key part."""
    backfill = history.backfill()
    seen: dict[int, set[str]] = {}
    for _, record in backfill.records:
        assert isinstance(record, Event)
        if "worker_id" in record.metadata:
            seen.setdefault(record.metadata["worker_id"], set()).add(record.name)
    return seen


def test_an_exited_workers_events_go_once_the_app_would_have_forgotten_it() -> None:
    history = History(raw_events=1, forget_exited_s=600)  # one raw event: the latest map alone
    worker_events(history, 1, T0, exits=True)  # exits at T0 + 1 s
    worker_events(history, 2, T0, exits=False)  # still running
    history.tick(T0 + 600 * S)  # 599 s after the exit: kept
    assert set(latest_workers(history)) == {1, 2}
    history.tick(T0 + 601 * S)
    seen = latest_workers(history)
    assert set(seen) == {2}  # worker 1 gone; the running one kept whatever its age
    assert seen[2] == set(NAMES)


def test_one_restart_a_minute_for_hours_holds_about_ten_minutes_of_dead_workers() -> None:
    """Before, ~4 pairs a dead worker stayed until the 4,096-pair cap: ~1,000 workers' worth."""
    history = History(raw_events=1, forget_exited_s=600)
    for minute in range(300):  # five hours, a worker replaced every minute
        worker_events(history, minute, T0 + minute * 60 * S, exits=True)
        history.tick(T0 + minute * 60 * S + 2 * S)
    assert 10 <= len(latest_workers(history)) <= 11
    with pytest.raises(ValueError, match="forget_exited_s"):
        History(forget_exited_s=-1)


def test_an_exit_stamped_late_holds_back_no_other_workers_forgetting() -> None:
    """Exits are forgotten by their time, not their arrival: a clock stepped back blocks none."""
    history = History(raw_events=1, forget_exited_s=600)
    history.add_event(Event("poolmon.worker.exit", T0 + 3600 * S, metadata={"worker_id": 1}))
    for worker in range(2, 6):
        worker_events(history, worker, T0, exits=True)
    history.add_event(Event("poolmon.pool.status", T0))  # the one raw event kept: no worker's
    history.tick(T0 + 1200 * S)
    assert set(latest_workers(history)) == {1}  # 2-5 exited 20 minutes ago; 1 "in an hour"
