"""Each advisor finding fires on a synthetic pool built to show it, with the right action."""

from __future__ import annotations

from typing import Any

from poolmon.core.advisor import Finding, advise, gather
from poolmon.core.aggregator import Aggregator
from poolmon.testing.scenarios import ScenarioOp, ScenarioSpec, play

SETTINGS: dict[str, Any] = {"size": 4, "task_timeout_s": None, "recycle_above_rss_mib": None}


def findings(spec: ScenarioSpec, seconds: int, cores: int = 8, **kw: Any) -> dict[str, Finding]:
    agg = play(spec, seconds)
    settings = kw.pop("settings", SETTINGS)
    return {f.kind: f for f in advise(gather(agg, cores, settings, max_size=64, **kw))}


def test_growing_queue_with_io_bound_workers_says_grow_with_high_confidence() -> None:
    spec = ScenarioSpec(size=4, utilization=1.0, queue_growth_per_s=3.0, cpu_per_busy=5.0)
    found = findings(spec, 90)
    grow = found["grow"]
    assert grow.action.kind == "resize"
    target = dict(grow.action.settings)["size"]
    assert 5 <= target <= 8
    assert grow.confidence_label == "high"
    assert "cpu_bound" not in found
    assert any(e.window_s == 60 for e in grow.evidence)


def test_growing_queue_with_cpu_bound_workers_never_says_grow() -> None:
    spec = ScenarioSpec(size=4, utilization=1.0, queue_growth_per_s=3.0, cpu_per_busy=98.0)
    found = findings(spec, 90, cores=4)
    assert "grow" not in found
    assert found["cpu_bound"].action.kind == "hint"


def test_more_workers_than_cores_on_cpu_bound_work_says_shrink_to_cores() -> None:
    spec = ScenarioSpec(size=8, utilization=0.9, cpu_per_busy=97.0)
    cpu = findings(spec, 90, cores=2)["cpu_bound"]
    assert cpu.action.kind == "resize"
    assert dict(cpu.action.settings) == {"size": 2}


def test_low_utilization_for_15_minutes_says_shrink() -> None:
    spec = ScenarioSpec(size=8, utilization=0.25, tasks_per_s=5)
    shrink = findings(spec, 900)["shrink"]
    assert shrink.severity == "info"
    assert dict(shrink.action.settings)["size"] == 3  # ~2 busy at 70 %


def test_low_utilization_for_5_minutes_is_not_enough_to_shrink() -> None:
    spec = ScenarioSpec(size=8, utilization=0.25, tasks_per_s=5)
    assert "shrink" not in findings(spec, 300)


def test_steady_rss_growth_is_a_leak_with_slope_and_limit() -> None:
    spec = ScenarioSpec(leak_worker=2, leak_mib_per_h=120.0, tasks_per_s=5)
    leak = findings(spec, 600)["leak"]
    assert "Worker 2" in leak.title
    assert "120" in leak.title
    assert leak.action.kind == "set"
    ((key, value),) = leak.action.settings
    assert key == "recycle_above_rss_mib"
    assert value >= 60
    assert any("reached in" in e.value for e in leak.evidence)


def test_a_leak_under_an_existing_limit_is_info_with_the_time_to_reach_it() -> None:
    spec = ScenarioSpec(leak_worker=1, leak_mib_per_h=120.0, tasks_per_s=5)
    leak = findings(spec, 600, settings={"recycle_above_rss_mib": 200})["leak"]
    assert leak.severity == "info"
    assert "200 MiB" in leak.title


def test_tight_timeout_when_the_successful_p99_is_near_the_limit() -> None:
    op = ScenarioOp("fetch", median_ms=90.0, sigma=0.15, timeout_ms=110.0)
    found = findings(ScenarioSpec(ops=(op,), tasks_per_s=20), 120)
    tight = found["timeout_tight"]
    ((key, value),) = tight.action.settings
    assert key == "op_timeout_s.fetch"
    assert 0.11 < value <= 0.22


def test_timeouts_far_above_the_normal_tail_are_hangs_not_a_tight_limit() -> None:
    op = ScenarioOp("fetch", median_ms=10.0, timeout_ms=1000.0, tail_share=0.02, tail_ms=5000.0)
    found = findings(ScenarioSpec(ops=(op,), tasks_per_s=20), 120)
    assert "timeout_tight" not in found
    assert found["timeout_hangs"].severity == "info"


def test_long_tail_without_a_timeout_proposes_one() -> None:
    op = ScenarioOp("render", median_ms=50.0, tail_share=0.005, tail_ms=4000.0)
    missing = findings(ScenarioSpec(ops=(op,), tasks_per_s=20), 300)["timeout_missing"]
    assert missing.severity == "warning"
    ((key, value),) = missing.action.settings
    assert key == "op_timeout_s.render"
    assert value >= 12


def test_no_missing_timeout_finding_when_the_op_has_a_timeout() -> None:
    op = ScenarioOp("render", median_ms=50.0, tail_share=0.005, tail_ms=4000.0)
    found = findings(ScenarioSpec(ops=(op,), tasks_per_s=20), 300, settings={"task_timeout_s": 30})
    assert "timeout_missing" not in found


def test_one_operation_dominating_busy_time() -> None:
    ops = (ScenarioOp("heavy", 1.0, 200.0), ScenarioOp("light", 4.0, 2.0))
    dom = findings(ScenarioSpec(ops=ops, tasks_per_s=20), 120)["dominant_op"]
    assert "heavy" in dom.title
    assert dom.severity == "info"


def test_errors_in_one_operation_are_a_bad_op() -> None:
    ops = (ScenarioOp("good", 1.0), ScenarioOp("bad", 1.0, error_rate=0.3))
    found = findings(ScenarioSpec(ops=ops, tasks_per_s=40), 120)
    assert found["error_op"].key == "error_op:bad"
    assert "error_worker" not in found


def test_errors_in_one_worker_are_a_bad_worker_to_recycle() -> None:
    spec = ScenarioSpec(size=6, bad_worker=3, bad_worker_error_rate=0.5, tasks_per_s=40)
    found = findings(spec, 120)
    bad = found["error_worker"]
    assert bad.action.kind == "recycle"
    assert dict(bad.action.settings) == {"worker_id": 3}
    assert bad.action.command() == ("recycle_worker", {"worker_id": 3})
    assert "error_op" not in found


def test_repeated_crashes_are_a_crash_loop() -> None:
    spec = ScenarioSpec(crash_worker=1, crash_every_s=30)
    loop = findings(spec, 120)["crash_loop"]
    assert loop.severity == "critical"
    assert "worker 1" in loop.title


def test_low_session_affinity_hit_rate() -> None:
    spec = ScenarioSpec(affinity_hits_per_s=3, affinity_misses_per_s=7)
    assert "30 %" in findings(spec, 120)["affinity"].title


def test_telemetry_drops_propose_a_lower_sample_rate() -> None:
    found = findings(ScenarioSpec(drops_per_s=5), 120, settings={"telemetry_sample_rate": 1.0})
    drops = found["drops"]
    assert drops.action.command() == ("set", {"settings": {"telemetry_sample_rate": 0.5}})


def test_findings_are_ordered_by_priority_and_survive_the_wire() -> None:
    spec = ScenarioSpec(
        size=4, utilization=1.0, queue_growth_per_s=3.0, cpu_per_busy=5.0, drops_per_s=1
    )
    out = advise(gather(play(spec, 120), 8, SETTINGS))
    assert [f.priority for f in out] == sorted((f.priority for f in out), reverse=True)
    assert tuple(Finding.from_wire(f.to_wire()) for f in out) == out


def test_cpu_work_starved_on_a_busy_machine_is_cpu_bound_not_io() -> None:
    """Little CPU per worker, but always runnable: other processes hold the cores."""
    spec = ScenarioSpec(
        size=2, utilization=1.0, queue_growth_per_s=3.0, cpu_per_busy=12.0, runnable_share=1.0
    )
    found = findings(spec, 90, cores=2)
    assert "grow" not in found
    assert "runnable 100%" in " ".join(e.value for e in found["cpu_bound"].evidence)


def test_some_cpu_use_keeps_a_grow_at_medium_confidence() -> None:
    spec = ScenarioSpec(
        size=4, utilization=1.0, queue_growth_per_s=3.0, cpu_per_busy=50.0, runnable_share=0.4
    )
    assert findings(spec, 90)["grow"].confidence_label == "medium"


def test_a_young_pools_rates_divide_by_the_time_it_has_data_for() -> None:
    """Two minutes of a 5-minute window: 20 tasks/s of `bad` failing 30 % is ~360 a minute.

    Before, the count was divided by the whole window (5 minutes: ~144 a minute) and the
    evidence said `(over 5 min)` for two minutes of data.
    """
    ops = (ScenarioOp("good", 1.0), ScenarioOp("bad", 1.0, error_rate=0.3))
    bad = findings(ScenarioSpec(ops=ops, tasks_per_s=40), 120)["error_op"]
    rate = float(bad.impact.split()[0])
    assert 300 <= rate <= 420, bad.impact
    windows = {e.window_s for e in bad.evidence}
    assert len(windows) == 1
    (seen,) = windows
    assert seen is not None
    assert 100 <= seen <= 120
    assert bad.evidence[0].text() == f"bad: {bad.evidence[0].value} (over 2 min)"


def test_a_crash_loop_past_the_held_exited_workers_says_its_count_is_a_floor() -> None:
    """70 replacements (each a new id) crash in 2 minutes; the aggregator holds 64 of them.

    Before, the evidence said `64 in 64 worker(s)` as if that were all of them.
    """
    from poolmon.core import catalog as cat
    from poolmon.core.events import Event
    from poolmon.testing.clock import ManualClock
    from poolmon.testing.scenarios import Scenario, feed

    clock = ManualClock()
    agg = Aggregator(clock)
    feed(agg, clock, Scenario(ScenarioSpec(), clock.time_ns()), 30)
    for i in range(70):
        wid, ts = 100 + i, clock.time_ns()
        meta = {"pool": "demo", "worker_id": wid, "pid": 5000 + i}
        agg.ingest_event(Event(cat.WORKER_SPAWN, ts, {}, {**meta, "reason": "replace"}))
        exit_meta = {**meta, "reason": "crash", "exit_code": None, "signal": 9}
        agg.ingest_event(
            Event(cat.WORKER_EXIT, ts + 1, {"lifetime_ns": 1, "tasks_done": 0}, exit_meta)
        )
        clock.advance(1.5)

    def deaths() -> str:
        found = {f.kind: f for f in advise(gather(agg, 8, SETTINGS, max_size=64))}
        return found["crash_loop"].evidence[0].value

    assert deaths() == "at least 64 in 64 worker(s) (only the last 64 exited workers are held)"
    # four minutes on (345 s after the first death), the window starts 45 s after it: deaths
    # 30..69 (every 1.5 s) are inside, and the oldest held one (death 6) is outside: exact
    clock.advance(240)
    assert deaths() == "40 in 40 worker(s)"
