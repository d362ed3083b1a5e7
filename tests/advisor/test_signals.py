"""The aggregator figures the advisor added: per-op timeouts, affinity, drops, runnable share."""

from __future__ import annotations

from poolmon.testing.scenarios import ScenarioOp, ScenarioSpec, play


def test_timeouts_per_operation_and_the_p99_of_the_others() -> None:
    op = ScenarioOp("fetch", median_ms=90.0, sigma=0.15, timeout_ms=110.0)
    snap = play(ScenarioSpec(ops=(op,), tasks_per_s=20), 60).snapshot(60)
    (view,) = snap.operations
    assert view.timeouts > 0
    assert view.timeout_ns == 110e6
    assert view.p99_ok_ns is not None
    assert view.latency.p99_ns is not None
    assert view.p99_ok_ns < view.latency.p99_ns  # the timed-out tasks (at the limit) left out
    assert view.p99_ok_ns < 110e6


def test_no_timeouts_means_the_plain_p99() -> None:
    (view,) = play(ScenarioSpec(tasks_per_s=20), 30).snapshot(60).operations
    assert view.timeouts == 0
    assert view.timeout_ns is None
    assert view.p99_ok_ns == view.latency.p99_ns


def test_affinity_drops_and_window_means() -> None:
    spec = ScenarioSpec(
        size=4, utilization=0.5, affinity_hits_per_s=3, affinity_misses_per_s=1, drops_per_s=2
    )
    agg = play(spec, 30)
    load = agg.snapshot(60).load
    assert (load.affinity_hits, load.affinity_misses) == (90, 30)
    assert load.events_dropped == 58  # the first report (2) is the baseline, then +2/s
    assert load.utilization_mean is not None
    assert 0.4 < load.utilization_mean < 0.6
    assert load.busy_mean is not None
    assert load.workers_cpu_percent_mean is not None
    assert load.queue_depth.values  # the series over the window


def test_runnable_share_of_busy_workers() -> None:
    spec = ScenarioSpec(size=4, utilization=1.0, runnable_share=1.0)
    load = play(spec, 60).snapshot(60).load
    assert load.workers_running_mean is not None
    assert load.busy_mean is not None
    assert load.workers_running_mean / load.busy_mean > 0.9
