"""`bench rtt`: one round trip split at the moment the task ran, in every placement."""

from __future__ import annotations

import argparse
import math
import os

import pytest

from poolmon.bench import rtt
from poolmon.bench.placement import sched_getcpu
from poolmon.bench.rtt import FIELDS, profile

pytestmark = pytest.mark.integration

TWO_CPUS = len(os.sched_getaffinity(0)) >= 2


def test_profile_splits_real_round_trips() -> None:
    figures = profile(1, 50)
    assert set(figures) == set(FIELDS)
    assert figures["rtt_p50_us"] > 0
    assert figures["out_p50_us"] > 0  # the task ran after the submit began (one clock)
    assert figures["back_p50_us"] > 0
    assert figures["worker_cpu_us_per_rt"] > 0  # the worker really ran every task
    assert figures["pool_cpu_us_per_rt"] > 0


@pytest.mark.skipif(not TWO_CPUS or sched_getcpu() < 0, reason="needs two CPUs and getcpu")
def test_pinned_profiles_run_where_they_say() -> None:
    before = os.sched_getaffinity(0)
    assert profile(1, 50, "same")["crossed"] == 0.0
    assert profile(1, 50, "apart")["crossed"] == 1.0
    assert os.sched_getaffinity(0) == before  # the bench gives our CPUs back


def test_the_suite_reports_every_placement_and_compares_like_with_like() -> None:
    result = rtt.run(argparse.Namespace(quick=True, reps=1, trips=40))
    figures, ratios = result["figures"], result["ratios"]
    for workers in (1, 2):
        for place in ("same_cpu", "cross_cpu", "free"):
            assert f"w{workers}_rtt_{place}_p50_us" in figures
            assert f"w{workers}_crossed_{place}" in figures
            assert f"w{workers}_pool_cpu_us_per_rt_{place}" in figures
        # the names from before placements are the free placement
        assert figures[f"w{workers}_rtt_p50_us"] == figures[f"w{workers}_rtt_free_p50_us"]
        same = figures[f"w{workers}_rtt_same_cpu_p50_us"] / figures["rtt_floor_same_cpu_us"]
        assert ratios[f"w{workers}_rtt_p50_vs_socketpair_floor"] == pytest.approx(same)
        free = figures[f"w{workers}_rtt_free_p50_us"] / figures["rtt_floor_free_us"]
        assert ratios[f"w{workers}_rtt_p50_free_vs_free_floor"] == pytest.approx(free)
        mine = (
            figures[f"w{workers}_rtt_same_cpu_p50_us"]
            / figures["rtt_minimal_python_same_cpu_p50_us"]
        )
        assert ratios[f"w{workers}_rtt_p50_vs_minimal_python_same_cpu"] == pytest.approx(mine)
        apart = ratios[f"w{workers}_rtt_p50_vs_cross_cpu_floor"]
        assert math.isnan(apart) if not TWO_CPUS else apart > 0
    for place in ("same_cpu", "cross_cpu", "free"):  # the default pool, endpoint on
        on, off = figures[f"w1mon_rtt_{place}_p50_us"], figures[f"w1_rtt_{place}_p50_us"]
        ratio = ratios[f"w1_rtt_p50_monitor_on_vs_off_{place}"]
        assert math.isnan(ratio) if math.isnan(on) else ratio == pytest.approx(on / off)
    assert "w1mon_rtt_p50_vs_socketpair_floor" not in ratios  # the floor compares bare pools
    assert figures["rtt_floor_us"] == figures["rtt_floor_same_cpu_us"]
    for stem, unit in (("rtt_floor_same_cpu", "_us"), ("rtt_minimal_python_free", "_p50_us")):
        both = [figures[f"{stem}_{wait}{unit}"] for wait in ("recv", "poll")]
        assert figures[stem + unit] == min(both)  # the faster wait is the floor
    assert "guest_halt_poll_ns" in result["machine"] or not os.path.exists(
        "/sys/module/haltpoll/parameters/guest_halt_poll_ns"
    )
    cpython = figures["rtt_minimal_python_same_cpu_p50_us"] / figures["rtt_floor_same_cpu_us"]
    assert ratios["rtt_minimal_python_p50_vs_socketpair_floor"] == pytest.approx(cpython)
    if TWO_CPUS and sched_getcpu() >= 0:
        assert figures["rtt_floor_same_cpu_crossed"] == 0.0
        assert figures["rtt_floor_cross_cpu_crossed"] == 1.0
        assert figures["w2_crossed_same_cpu"] == 0.0
        assert figures["w2_crossed_cross_cpu"] == 1.0
