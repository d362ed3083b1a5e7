"""The soak bench, short: every observer's counts equal the futures' own outcomes.

Why: the soak is the end-to-end truth check of the whole house (pool, endpoint, a monitor
cut and resuming, a real `poolmon watch` process, the headless app), and its comparison
code must itself be right: a run with crashes, timeouts, failures and reconnects must reach
its checkpoints with nothing different, and the figures must be measured, not absent.
"""

from __future__ import annotations

import argparse

from poolmon.bench import soak


def test_a_short_soak_counts_every_task_exactly_everywhere() -> None:
    args = argparse.Namespace(minutes=0.75, rate=300.0, check_every=15.0, cut_every=7.0, warmup=0.1)
    result = soak.run(args)
    figures = result["figures"]
    problems = [line for c in result["checkpoints"] for line in c["mismatches"]]
    assert problems == []
    assert figures["mismatches"] == 0
    assert figures["checkpoints"] >= 3
    assert figures["monitor_cuts"] >= 3
    assert figures["tasks"] > 5000
    assert all(c["idle"] for c in result["checkpoints"])
    assert figures["pool_rss_slope_mib_per_h"] is not None  # sampled, even if noisy this short


def test_the_comparison_reports_a_difference() -> None:
    truth = {"trivial": {"ok": 10, "errors": {"ValueError": 2}, "timeout": 1, "crashed": 0}}
    want = soak._expected(truth)
    assert want["status"] == {"ok": 10, "error": 2, "timeout": 1, "crashed": 0}
    assert want["ops"] == {"trivial": (13, 3)}
    bad: list[str] = []
    soak._compare("monitor ok", 9, 10, bad)
    soak._compare("monitor error", 2, 2, bad)
    assert bad == ["monitor ok: observed 9, truth 10"]
