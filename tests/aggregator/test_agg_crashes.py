"""Crashes you cannot miss: a crash reads differently from a retirement, restarts come from the
pool, a dead worker shows no live resources, and the app announces each crash once."""

from __future__ import annotations

from poolmon.app.crashes import CrashAnnouncer
from poolmon.core import catalog as C
from poolmon.core.aggregator import Aggregator
from poolmon.core.events import Event


def _exit(ts: int, wid: int, pid: int, reason: str, signal: int | None = None) -> Event:
    md = {"pool": "p", "worker_id": wid, "pid": pid, "reason": reason, "exit_code": None}
    md["signal"] = signal
    return Event(C.WORKER_EXIT, ts, {"lifetime_ns": 5_000_000_000, "tasks_done": 12}, md)


def _sample(ts: int, wid: int) -> Event:
    m = {"cpu_percent": 50.0, "rss_bytes": 1 << 20, "fds": 9, "threads": 2}
    return Event(C.RESOURCE_PROCESS, ts, m, {"pool": "p", "worker_id": wid, "pid": 10 + wid})


def test_crashed_reads_differently_from_retired_and_hides_dead_resources(
    agg: Aggregator, clock
) -> None:
    now = clock.time_ns()
    for wid in (1, 2):
        agg.ingest_event(_sample(now, wid))
    agg.ingest_event(_exit(now, 1, 11, "crash", signal=9))
    agg.ingest_event(_exit(now, 2, 12, "resize"))
    views = {w.worker_id: w for w in agg.snapshot(60).workers}
    assert views[1].state == "crashed"
    assert views[2].state == "retired"
    assert (views[1].cpu_percent, views[1].rss_bytes, views[1].fds) == (None, None, None)
    assert views[1].exits[-1].signal == 9


def test_restarts_come_from_the_pools_per_slot_count(agg: Aggregator, clock) -> None:
    """A poolmon pool gives a replacement a new id: only the pool knows the slot's restarts."""
    now = clock.time_ns()
    md = {"pool": "p", "worker_id": 7, "pid": 70, "reason": "replace", "slot": 0, "restarts": 1}
    agg.ingest_event(Event(C.WORKER_SPAWN, now, {}, md))
    assert agg.snapshot(60).workers[0].restarts == 1
    row = {"worker_id": 7, "pid": 70, "state": "ready", "slot": 0, "restarts": 2}
    agg.ingest_event(Event(C.POOL_STATUS, now, {"size": 1}, {"pool": "p", "workers": [row]}))
    assert agg.snapshot(60).workers[0].restarts == 2


def test_each_crash_is_announced_once_and_history_is_not(agg: Aggregator, clock) -> None:
    announcer = CrashAnnouncer()
    now = clock.time_ns()
    agg.ingest_event(_exit(now, 1, 11, "crash", signal=9))
    assert announcer.new_messages(agg.snapshot(60)) == []  # before we looked: history
    clock.advance(1)
    agg.ingest_event(_exit(clock.time_ns(), 2, 12, "crash", signal=11))
    agg.ingest_event(_exit(clock.time_ns(), 3, 13, "resize"))
    (text,) = announcer.new_messages(agg.snapshot(60))
    assert text.startswith("worker 2 (pid 12) crashed: SIGSEGV (11) after 5.00s")
    assert announcer.new_messages(agg.snapshot(60)) == []
