"""The auto-tuner's decisions: small steps on high confidence, validation, rollback, bounds."""

from __future__ import annotations

import random

import pytest

from poolmon.core.advisor import Action, Finding
from poolmon.core.advisor.autotune import AutotuneConfig, WindowStats, judge, welch_t
from poolmon.core.advisor.autotuner import Autotuner
from poolmon.core.errors import ConfigError

S = 1_000_000_000
CFG = AutotuneConfig(settle_s=2, baseline_s=10, validate_s=10, lag_s=1, cooldown_s=60)


def grow_to(size: int, confidence: float = 0.95) -> Finding:
    return Finding(
        "grow", "grow", "warning", "grow", (), confidence, "", Action("resize", (("size", size),))
    )


class FakePool:
    """Throughput = min(size, capacity) * per_worker per second, with noise."""

    def __init__(self, size: int, capacity: int, per_worker: float = 20.0) -> None:
        self.size = size
        self.capacity = capacity
        self.per_worker = per_worker
        self.rng = random.Random(3)
        self.sizes: dict[int, int] = {}

    def at(self, t_ns: int) -> int:
        return max((k for k in self.sizes if k <= t_ns), default=0)

    def measure(self, start: int, end: int) -> WindowStats:
        per = []
        for sec in range(start // S, end // S):
            size = self.sizes[self.at(sec * S)]
            per.append(min(size, self.capacity) * self.per_worker + self.rng.gauss(0, 2))
        return WindowStats(tuple(per), int(sum(per)), 0, 20e6)


def drive(tuner: Autotuner, pool: FakePool, finding: Finding, seconds: int) -> list[str]:
    out = []
    pool.sizes[0] = pool.size
    for t in range(30, 30 + seconds):
        step = tuner.step(t * S, [finding], pool.size, False, pool.measure)
        out += [f"{d.kind}:{d.from_size}->{d.to_size}" for d in step.decisions]
        if step.resize_to is not None:
            pool.size = step.resize_to
            pool.sizes[t * S] = pool.size
    return out


def test_a_grow_that_helps_is_kept_in_small_steps() -> None:
    tuner = Autotuner(CFG, 1, 16)
    pool = FakePool(2, capacity=10)
    log = drive(tuner, pool, grow_to(8), 60)
    assert log[:3] == ["proposed:2->4", "applied:2->4", "kept:2->4"]
    assert pool.size == 8  # 2 -> 4 -> 6 -> 8, each validated


def test_a_grow_that_adds_nothing_is_rolled_back_and_barred() -> None:
    tuner = Autotuner(CFG, 1, 16)
    pool = FakePool(2, capacity=2)  # a shared lock: more workers serve no more
    log = drive(tuner, pool, grow_to(4), 50)
    assert log[:3] == ["proposed:2->4", "applied:2->4", "rolled_back:4->2"]
    assert pool.size == 2
    assert any(k.startswith("skipped") for k in log[3:])  # barred for the cooldown
    assert log.count("applied:2->4") == 1


def test_low_confidence_findings_change_nothing() -> None:
    tuner = Autotuner(CFG, 1, 16)
    pool = FakePool(2, capacity=10)
    assert drive(tuner, pool, grow_to(4, confidence=0.6), 30) == []


def test_never_beyond_the_bounds() -> None:
    tuner = Autotuner(AutotuneConfig(max_size=3, baseline_s=10, validate_s=10, lag_s=1), 1, 16)
    pool = FakePool(2, capacity=10)
    drive(tuner, pool, grow_to(8), 80)
    assert pool.size == 3


def test_nothing_during_shutdown() -> None:
    tuner = Autotuner(CFG, 1, 16)
    pool = FakePool(2, capacity=10)
    pool.sizes[0] = 2
    assert tuner.step(40 * S, [grow_to(4)], 2, True, pool.measure).resize_to is None


def test_a_manual_change_abandons_validation_and_pauses() -> None:
    tuner = Autotuner(CFG, 1, 16)
    pool = FakePool(2, capacity=10)
    drive(tuner, pool, grow_to(4), 13)  # proposed + applied, validating
    assert tuner.validating is not None
    d = tuner.note_manual(50 * S, "resize by user")
    assert d is not None
    assert d.kind == "abandoned"
    assert tuner.step(60 * S, [grow_to(8)], 4, False, pool.measure).decisions == ()
    assert tuner.paused


def test_the_hourly_change_budget() -> None:
    cfg = AutotuneConfig(max_changes_per_hour=1, settle_s=2, baseline_s=10, validate_s=10, lag_s=1)
    tuner = Autotuner(cfg, 1, 16)
    pool = FakePool(2, capacity=10)
    log = drive(tuner, pool, grow_to(8), 80)
    assert log.count("applied:2->4") == 1
    assert pool.size == 4
    assert any("changes in the last hour" in d.reason for d in tuner.history)


def test_judge_is_noise_aware() -> None:
    rng = random.Random(1)
    noisy = tuple(100 + rng.gauss(0, 15) for _ in range(20))
    same = tuple(100 + rng.gauss(0, 15) for _ in range(20))
    before = WindowStats(noisy, 2000, 0, 10e6)
    assert not judge(before, WindowStats(same, 2000, 0, 10e6), True, CFG).keep
    assert judge(before, WindowStats(same, 2000, 0, 10e6), False, CFG).keep
    better = tuple(v * 1.5 for v in same)
    assert judge(before, WindowStats(better, 3000, 0, 10e6), True, CFG).keep
    assert not judge(before, WindowStats(better, 3000, 0, 20e6), True, CFG).keep  # p99 x2
    assert not judge(before, WindowStats(better, 3000, 300, 10e6), True, CFG).keep  # errors
    assert welch_t((1.0, 1.0), (1.0, 1.0)) == 0.0


def test_config_is_checked() -> None:
    with pytest.raises(ConfigError):
        AutotuneConfig(validate_s=80)
    with pytest.raises(ConfigError):
        AutotuneConfig(min_size=5, max_size=3)
