"""What events and batches mean for the numbers: error rate, workers, restarts, gaps, health."""

from __future__ import annotations

import numpy as np
import pytest

from poolmon.core import catalog as C
from poolmon.core.aggregator import Aggregator
from poolmon.core.errors import ConfigError
from poolmon.core.events import (
    TASK_CANCELLED,
    TASK_CRASHED,
    TASK_ERROR,
    TASK_OK,
    TASK_TIMEOUT,
    Event,
)
from poolmon.core.health import HealthInputs, health_score
from poolmon.core.snapshot import PoolInfo
from poolmon.testing.clock import ManualClock

NS = 1_000_000_000


def status_event(ts: int, **m: float) -> Event:
    base = {"size": 4, "busy": 3, "idle": 1, "queue_depth": 0, "utilization": 0.75}
    return Event(C.POOL_STATUS, ts, {**base, **m}, {"pool": "p"})


def test_error_rate_is_failed_over_all_finished(agg: Aggregator, clock, make_batch) -> None:
    now = clock.time_ns()
    status = [TASK_OK] * 6 + [TASK_ERROR, TASK_TIMEOUT, TASK_CRASHED, TASK_CANCELLED]
    err = [0] * 6 + [1, 0, 0, 0]
    agg.ingest_tasks(
        make_batch(
            end_ns=[now] * 10,
            duration_ns=[1_000_000] * 10,
            status=status,
            error_type=err,
            error_types=("", "ValueError"),
        )
    )
    snap = agg.snapshot(60)
    assert snap.tasks_finished == 9  # the cancelled task never ran
    assert snap.tasks_failed == 3
    assert snap.tasks_timed_out == 1
    assert snap.tasks_cancelled == 1
    assert snap.error_rate == pytest.approx(3 / 9)
    assert snap.errors.rate == pytest.approx(3 / 9)
    assert dict(snap.errors.by_type) == {"ValueError": 1, "timeout": 1, "crashed": 1}
    assert snap.latency.count == 9


def test_error_rate_is_none_without_finished_tasks(agg: Aggregator) -> None:
    assert agg.snapshot(60).error_rate is None
    assert agg.error_rates(60).rate is None


def test_worker_rows_follow_lifecycle_events(
    agg: Aggregator, clock: ManualClock, make_batch
) -> None:
    t = clock.time_ns()
    md = {"pool": "p", "worker_id": 3, "pid": 4242}
    agg.ingest_event(Event(C.WORKER_SPAWN, t, {}, {**md, "reason": "initial"}))
    agg.ingest_event(Event(C.WORKER_READY, t + 1000, {"startup_ns": 1000}, md))
    agg.ingest_event(
        Event(C.WORKER_STATE, t + 2000, {}, {**md, "from": "ready", "to": "busy", "op": "resize"})
    )
    agg.ingest_event(
        Event(
            C.RESOURCE_PROCESS,
            t + 3000,
            {"cpu_percent": 55.0, "rss_bytes": 10_000_000, "fds": 9, "threads": 2},
            md,
        )
    )
    agg.ingest_tasks(
        make_batch(end_ns=[t] * 3, duration_ns=[1_000_000] * 3, worker_id=[3] * 3, status=[0, 0, 1])
    )
    clock.advance(2)
    w = agg.worker(3)
    assert w is not None
    assert (w.pid, w.state, w.current_op) == (4242, "busy", "resize")
    assert w.current_task_age_ns == 2 * NS - 2000
    assert (w.tasks_done, w.tasks_failed, w.cpu_percent, w.rss_bytes) == (3, 1, 55.0, 10_000_000)
    assert [s.to_state for s in w.state_history] == ["starting", "ready", "busy"]
    assert len(w.recent_tasks) == 3
    assert w.recent_tasks[-1].status == "error"
    assert w.latency.count == 3
    agg.ingest_event(
        Event(
            C.WORKER_EXIT,
            clock.time_ns(),
            {"lifetime_ns": 5, "tasks_done": 3},
            {**md, "reason": "crash", "exit_code": -9, "signal": 9},
        )
    )
    agg.ingest_event(
        Event(C.WORKER_SPAWN, clock.time_ns(), {}, {**md, "pid": 4243, "reason": "replace"})
    )
    w = agg.worker(3)
    assert w is not None
    assert w.alive
    assert w.restarts == 1
    assert w.pid == 4243
    assert w.exits[0].reason == "crash"
    assert w.exits[0].signal == 9


def test_recent_tasks_are_bounded(agg: Aggregator, clock, make_batch) -> None:
    now = clock.time_ns()
    agg.ingest_tasks(make_batch(end_ns=[now] * 500, duration_ns=[1000] * 500, worker_id=[1] * 500))
    w = agg.worker(1)
    assert w is not None
    assert len(w.recent_tasks) == 20
    assert w.recent_tasks[-1].task_id == 499


def test_exited_workers_are_forgotten_after_the_configured_time(clock: ManualClock) -> None:
    agg = Aggregator(clock, forget_workers_after_s=30)
    md = {"pool": "p", "worker_id": 1, "pid": 10}
    agg.ingest_event(Event(C.WORKER_SPAWN, clock.time_ns(), {}, md))
    agg.ingest_event(Event(C.WORKER_EXIT, clock.time_ns(), {}, {**md, "reason": "recycle_tasks"}))
    clock.advance(29)
    assert agg.worker(1) is not None
    assert not agg.worker(1).alive
    clock.advance(2)
    assert agg.worker(1) is None
    assert agg.snapshot(60).workers == ()


def test_worker_rows_are_capped(clock: ManualClock, make_batch) -> None:
    agg = Aggregator(clock, max_workers=8)
    now = clock.time_ns()
    agg.ingest_tasks(
        make_batch(end_ns=[now] * 20, duration_ns=[1000] * 20, worker_id=list(range(20)))
    )
    assert len(agg.workers.rows) == 8


def test_pool_status_sets_the_current_instant_and_health(agg: Aggregator, clock) -> None:
    agg.ingest_event(status_event(clock.time_ns(), tasks_done=10))
    snap = agg.snapshot(60)
    assert (snap.size, snap.busy, snap.idle, snap.queue_depth) == (4, 3, 1, 0)
    assert snap.utilization == 0.75
    assert snap.health_score == 100.0
    assert snap.pool_tasks_done_total == 10


def test_totals_going_back_are_not_a_restart(agg: Aggregator, clock) -> None:
    """A re-sent older status (a backfill) has lower totals: the newest status still counts."""
    t0 = clock.time_ns()
    agg.ingest_event(status_event(t0, tasks_done=100, tasks_failed=5, tasks_submitted=120))
    clock.advance(1)
    agg.ingest_event(
        status_event(clock.time_ns(), tasks_done=150, tasks_failed=6, tasks_submitted=160)
    )
    agg.ingest_event(status_event(t0, tasks_done=100, tasks_failed=5, tasks_submitted=120))
    snap = agg.snapshot(60)
    assert snap.pool_restarts == 0
    assert (snap.pool_tasks_done_total, snap.pool_tasks_submitted_total) == (150, 160)


def test_counters_survive_a_pool_restart(agg: Aggregator, clock) -> None:
    agg.set_pool_info(PoolInfo(name="p", pid=100, started_at_ns=1))
    agg.ingest_event(
        status_event(clock.time_ns(), tasks_done=150, tasks_failed=6, tasks_submitted=160)
    )
    clock.advance(1)
    agg.set_pool_info(PoolInfo(name="p", pid=101, started_at_ns=2))
    agg.ingest_event(status_event(clock.time_ns(), tasks_done=7, tasks_failed=0, tasks_submitted=9))
    snap = agg.snapshot(60)
    assert snap.pool_restarts == 1
    assert snap.pool_tasks_done_total == 157
    assert snap.pool_tasks_failed_total == 6
    assert snap.pool_tasks_submitted_total == 169


def test_new_pool_pid_is_a_restart_and_keeps_windowed_counts(
    agg: Aggregator, clock, make_batch
) -> None:
    now = clock.time_ns()
    agg.set_pool_info(PoolInfo(name="p", pid=100, started_at_ns=1))
    agg.ingest_event(status_event(now, tasks_done=50))
    agg.ingest_tasks(make_batch(end_ns=[now] * 5, duration_ns=[1000] * 5, worker_id=[0] * 5), seq=7)
    agg.set_pool_info(PoolInfo(name="p", pid=200, started_at_ns=2))
    # the new pool's first frame has a low sequence number and reuses task ids: both count
    agg.ingest_tasks(make_batch(end_ns=[now] * 5, duration_ns=[1000] * 5, worker_id=[0] * 5), seq=1)
    agg.ingest_event(status_event(now, tasks_done=5))
    snap = agg.snapshot(60)
    assert snap.pool_restarts == 1
    assert snap.tasks_finished == 10
    assert snap.pool_tasks_done_total == 55
    assert snap.workers[0].tasks_done == 5  # the old pool's worker rows were dropped


def test_sequence_numbers_drop_resent_batches(agg: Aggregator, clock, make_batch) -> None:
    now = clock.time_ns()
    b = make_batch(end_ns=[now] * 4, duration_ns=[1000] * 4)
    agg.ingest_tasks(b, seq=1)
    agg.ingest_tasks(b, seq=1)
    agg.ingest_tasks(make_batch(end_ns=[now] * 2, duration_ns=[1000] * 2, task_id=[10, 11]), seq=2)
    snap = agg.snapshot(60)
    assert snap.tasks_finished == 6
    assert snap.duplicates_ignored == 4


def test_after_a_gap_resent_tasks_are_dropped_by_id(
    agg: Aggregator, clock: ManualClock, make_batch
) -> None:
    t = clock.time_ns()
    first = make_batch(end_ns=[t, t + 1, t + 2], duration_ns=[1000] * 3, task_id=[1, 2, 3])
    agg.ingest_tasks(first)
    clock.advance(10)
    agg.mark_gap(t + 3, clock.time_ns())
    # the reconnect resends task 3 and carries a new task 4 that also finished before the drop
    again = make_batch(
        end_ns=[t + 2, t + 2, clock.time_ns()], duration_ns=[1000] * 3, task_id=[3, 4, 5]
    )
    agg.ingest_tasks(again)
    snap = agg.snapshot(60)
    assert snap.tasks_finished == 5
    assert snap.duplicates_ignored == 1


def test_gaps_are_none_in_series_not_zero(agg: Aggregator, clock: ManualClock, make_batch) -> None:
    t0 = clock.time_ns()
    for i in range(5):
        agg.ingest_event(status_event(t0 + i * NS))
        agg.ingest_tasks(make_batch(end_ns=[t0 + i * NS], duration_ns=[1000], task_id=[i]))
    agg.mark_gap(t0 + 4 * NS + 1, t0 + 20 * NS)
    for i in range(20, 25):
        agg.ingest_event(status_event(t0 + i * NS))
    clock.advance(25)
    s = agg.series("throughput", t0, t0 + 25 * NS, 1)
    assert s.values[:5] == (1.0,) * 5
    assert all(v is None for v in s.values[5:20])
    assert s.values[20:25] == (0.0,) * 5  # connected and idle: a real zero
    snap = agg.snapshot(60)
    assert snap.gaps == ((t0 + 4 * NS + 1, t0 + 20 * NS),)
    assert snap.throughput_per_s == pytest.approx(5 / 10, rel=0.05)


def test_long_silence_is_not_filled_with_zeros(agg: Aggregator, clock: ManualClock) -> None:
    t0 = clock.time_ns()
    agg.ingest_event(status_event(t0))
    agg.ingest_event(status_event(t0 + 30 * NS))
    clock.advance(31)
    s = agg.series("queue_depth", t0, t0 + 31 * NS, 1)
    assert s.values[0] == 0.0
    assert s.values[30] == 0.0
    assert all(v is None for v in s.values[1:30])
    assert agg.series("throughput", t0, t0 + 31 * NS, 1).values[1:30] == (None,) * 29


def test_unknown_metric_and_bad_range_are_config_errors(agg: Aggregator, clock) -> None:
    now = clock.time_ns()
    with pytest.raises(ConfigError):
        agg.series("nope", now - NS, now, 1)
    with pytest.raises(ConfigError):
        agg.series("throughput", now, now - NS, 1)
    with pytest.raises(ConfigError):
        agg.series("throughput", now - NS, now, 0)


def test_bad_batch_is_rejected_and_loses_nothing(agg: Aggregator, clock, make_batch) -> None:
    now = clock.time_ns()
    agg.ingest_tasks(make_batch(end_ns=[now], duration_ns=[1000]))
    with pytest.raises(ValueError):
        agg.ingest_tasks(make_batch(end_ns=[now], duration_ns=[1000], op=[5]))
    assert agg.snapshot(60).tasks_finished == 1


def test_error_categories_and_per_op_stats(agg: Aggregator, clock, make_batch) -> None:
    now = clock.time_ns()
    agg.ingest_event(Event(C.ERROR, now, {"count": 2}, {"category": "worker"}))
    agg.ingest_event(
        Event(C.TASK_EXCEPTION, now, {}, {"category": "task", "error_type": "KeyError"})
    )
    agg.ingest_tasks(
        make_batch(
            end_ns=[now] * 4,
            duration_ns=[1_000_000, 1_000_000, 50_000_000, 50_000_000],
            op=[0, 0, 1, 1],
            status=[0, 1, 0, 0],
            ops=("fast", "slow"),
        )
    )
    errors = agg.error_rates(60)
    assert dict(errors.by_category) == {"worker": 2, "task": 1}
    ops = {o.name: o for o in agg.snapshot(60).operations}
    assert ops["fast"].count == 2
    assert ops["fast"].errors == 1
    assert ops["slow"].latency.p50_ns == pytest.approx(50_000_000, rel=0.01)


def test_resources_from_samples(agg: Aggregator, clock) -> None:
    now = clock.time_ns()
    agg.ingest_event(
        Event(
            C.RESOURCE_PROCESS,
            now,
            {"cpu_percent": 12.5, "rss_bytes": 5000, "fds": 7, "threads": 3},
            {"worker_id": -1},
        )
    )
    agg.ingest_event(
        Event(C.RESOURCE_PROCESS, now, {"rss_bytes": 1000}, {"worker_id": 0, "pid": 1})
    )
    agg.ingest_event(
        Event(C.RESOURCE_PROCESS, now, {"rss_bytes": 2000}, {"worker_id": 1, "pid": 2})
    )
    agg.ingest_event(
        Event(
            C.RESOURCE_MACHINE,
            now,
            {"cpu_percent": 40.0, "load1": 1.5, "memory_percent": 60.0, "swap_percent": 0.0},
        )
    )
    agg.note_dropped(3)
    snap = agg.snapshot(60)
    r = snap.resources
    assert (r.pool_cpu_percent, r.pool_rss_bytes, r.fds, r.threads) == (12.5, 5000, 7, 3)
    assert r.workers_rss_bytes == 3000
    assert (r.machine_cpu_percent, r.load1, r.memory_percent) == (40.0, 1.5, 60.0)
    assert snap.events_dropped == 3


def test_health_overload_scores_worse_than_the_healthy_band() -> None:
    healthy = health_score(HealthInputs(size=10, busy=7, queue_depth=0, error_rate=0.0, p99_ns=1e6))
    idle = health_score(HealthInputs(size=10, busy=0, queue_depth=0, error_rate=0.0, p99_ns=1e6))
    saturated = health_score(
        HealthInputs(size=10, busy=10, queue_depth=0, error_rate=0.0, p99_ns=1e6)
    )
    overloaded = health_score(
        HealthInputs(size=10, busy=10, queue_depth=50, error_rate=0.0, p99_ns=1e6)
    )
    assert healthy == 100.0
    assert overloaded is not None
    assert saturated is not None
    assert idle is not None
    assert overloaded < healthy
    assert saturated < healthy
    assert overloaded <= saturated
    assert idle < healthy
    erroring = health_score(HealthInputs(size=10, busy=7, error_rate=0.2, p99_ns=1e6))
    slow = health_score(HealthInputs(size=10, busy=7, error_rate=0.0, p99_ns=1e9))
    assert erroring is not None
    assert erroring < healthy
    assert slow is not None
    assert slow < healthy
    assert health_score(HealthInputs()) is None


def test_snapshot_health_drops_when_the_queue_builds(agg: Aggregator, clock) -> None:
    agg.ingest_event(status_event(clock.time_ns(), busy=3))
    good = agg.snapshot(60).health_score
    agg.ingest_event(
        status_event(clock.time_ns() + 1, busy=4, idle=0, queue_depth=40, utilization=1.0)
    )
    bad = agg.snapshot(60).health_score
    assert good is not None
    assert bad is not None
    assert bad < good


def test_summary_has_three_windows_with_percentiles(
    agg: Aggregator, clock: ManualClock, make_batch
) -> None:
    rng = np.random.default_rng(3)
    t0 = clock.time_ns()
    for i in range(600):
        d = rng.lognormal(np.log(1e6), 0.5, 50).astype(np.int64)
        agg.ingest_tasks(make_batch(end_ns=np.full(50, t0 + i * NS), duration_ns=d))
    clock.advance(599.5)  # in the last second that has tasks
    summary = agg.summary()
    assert [w.window_s for w in summary.windows] == [60, 300, 900]
    one, five, fifteen = summary.windows
    assert one.tasks_finished == 60 * 50
    assert five.tasks_finished == 300 * 50
    assert fifteen.tasks_finished == 600 * 50
    assert fifteen.latency.p999_ns is not None
    assert fifteen.latency.p50_ns is not None
    assert one.throughput_per_s == pytest.approx(50, rel=0.05)


def test_old_gaps_are_pruned_after_the_longest_window(agg: Aggregator, clock: ManualClock) -> None:
    t0 = clock.time_ns()
    agg.mark_gap(t0, t0 + 5 * NS)
    clock.advance(600)
    assert agg.snapshot(60).gaps == ((t0, t0 + 5 * NS),)
    clock.advance(3600)
    assert agg.snapshot(60).gaps == ()
