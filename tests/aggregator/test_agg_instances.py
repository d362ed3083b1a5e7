"""A pool instance is its start time: restarts from it only, every record counted once by seq."""

from __future__ import annotations

from poolmon.core import catalog as C
from poolmon.core.aggregator import Aggregator
from poolmon.core.events import Event
from poolmon.core.snapshot import PoolInfo
from poolmon.testing.clock import ManualClock

NS = 1_000_000_000


def init_event(ts: int, started: int, pid: int = 100) -> Event:
    md = {"pool": "p", "pid": pid, "host": "h", "start_method": "fork", "started_at_ns": started}
    return Event(C.POOL_INIT, ts, {"size": 2}, md)


def test_pool_init_after_the_handshake_is_the_same_instance(agg: Aggregator, clock) -> None:
    """The init event is stamped when the workers are ready, later than the start: no restart."""
    started = clock.time_ns() - 5 * NS
    agg.set_pool_info(PoolInfo("p", 100, "h", started, 1))
    agg.ingest_event(init_event(clock.time_ns(), started), seq=0)
    agg.set_pool_info(PoolInfo("p", 100, "h", started, 1))  # a reconnect's handshake
    snap = agg.snapshot(60)
    assert snap.pool_restarts == 0
    assert snap.pool.started_at_ns == started


def test_another_start_time_is_a_restart_even_with_the_same_pid(agg: Aggregator, clock) -> None:
    agg.set_pool_info(PoolInfo("p", 100, "h", 1 * NS, 1))
    agg.ingest_event(init_event(clock.time_ns(), 2 * NS), seq=0)
    assert agg.snapshot(60).pool_restarts == 1
    assert agg.pool.started_at_ns == 2 * NS


def test_resent_plain_events_count_once(agg: Aggregator, clock: ManualClock) -> None:
    now = clock.time_ns()
    exc = Event(C.TASK_EXCEPTION, now, {}, {"pool": "p", "category": "task"})
    spawn = Event(C.WORKER_SPAWN, now, {}, {"pool": "p", "worker_id": 3, "pid": 9})
    for _ in range(3):  # live, then a resume and a backfill send the same records again
        agg.ingest_event(spawn, seq=4)
        agg.ingest_event(exc, seq=5)
    snap = agg.snapshot(60)
    assert dict(snap.errors.by_category) == {"task": 1}
    assert snap.workers[0].restarts == 0
    assert snap.duplicates_ignored == 4


def test_claimed_sequence_numbers_start_over_with_a_new_instance(agg: Aggregator) -> None:
    agg.set_pool_info(PoolInfo("p", 100, "h", 1 * NS, 1))
    assert agg.claim(10)
    assert not agg.claim(10)
    agg.set_pool_info(PoolInfo("p", 100, "h", 1 * NS, 1))
    assert not agg.claim(3)
    agg.set_pool_info(PoolInfo("p", 200, "h", 2 * NS, 1))
    assert agg.claim(3)
