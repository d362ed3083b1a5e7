"""The default pack: each rule fires on its scenario; the pack is quiet on healthy and idle pools.

Every scenario runs a synthetic pool (`PoolFeed`) through the real aggregator ingest paths with
the whole pack loaded, so a test also proves the other defaults stay quiet while one fires.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alert_engine_helpers import OpKnobs, PoolKnobs, Run

from poolmon.core.alerts.defaults import default_rules
from poolmon.core.alerts.model import FIRING

MIB = 2**20


def healthy() -> PoolKnobs:
    """A busy, healthy pool: ~70 % utilization with noise, few errors, steady latency and RSS."""
    return PoolKnobs(
        workers=8,
        ops={
            "resize": OpKnobs(150, 0.02, 0.3, 0.001),
            "score": OpKnobs(60, 0.04, 0.4, 0.004),
            "fetch": OpKnobs(100, 0.005, 0.8, 0.01),
        },
        queue_depth=2.0,
        utilization=0.7,
        rss=lambda w, t: 40 * MIB + ((w * 7919 + t * 104729) % 2048) * 1024,
    )


def _noise(run: Run) -> Callable[[int], None]:
    def each(t: int) -> None:
        run.knobs.utilization = 0.7 + 0.06 * ((t * 37) % 11 - 5) / 5
        run.knobs.queue_depth = float((t * 13) % 7)

    return each


def _fired(run: Run) -> set[str]:
    return {a.rule for v in run.views for a in v.alerts if a.state == FIRING}


def _ever(run: Run) -> set[str]:
    return {a.rule for v in run.views for a in v.alerts}


def test_quiet_on_a_healthy_pool() -> None:
    run = Run(default_rules(), healthy())
    run.step(45 * 60, _noise(run))
    assert _ever(run) == set()


def test_quiet_on_an_idle_pool() -> None:
    idle = PoolKnobs(workers=8, ops={"work": OpKnobs(0, 0.01)}, queue_depth=0, utilization=0.0)
    run = Run(default_rules(), idle)
    run.step(30 * 60)
    assert _ever(run) == set()


def test_quiet_on_a_trickle() -> None:
    """A pool that runs a task now and then is idle, not under-used or broken."""
    knobs = PoolKnobs(workers=8, ops={"work": OpKnobs(0.3, 0.05, 0.3, 0.0)}, utilization=0.02)
    run = Run(default_rules(), knobs)
    run.step(30 * 60)
    assert _ever(run) == set()


Problem = Callable[[Run, int], None]
"""Makes the trouble at `t` seconds into it (called before each second)."""


def _errors(run: Run, t: int) -> None:
    run.knobs.ops["fetch"].error_rate = 0.2


def _latency(run: Run, t: int) -> None:
    run.knobs.ops["score"].median_s = 0.16


def _backlog(run: Run, t: int) -> None:
    run.knobs.queue_depth = 60 + 0.5 * t  # 30 tasks a minute more


def _saturated(run: Run, t: int) -> None:
    run.knobs.utilization = 0.97


def _crashes(run: Run, t: int) -> None:
    run.knobs.exits = (3,) if t % 60 == 0 else ()


def _leak(run: Run, t: int) -> None:
    if t == 0:
        base, first = run.knobs.rss, run.feed.t
        run.knobs.rss = lambda w, s: base(w, s) + (2 * MIB * (s - first) / 60 if w == 5 else 0)


def _stuck(run: Run, t: int) -> None:
    for op in run.knobs.ops.values():
        op.rate = 0
    run.knobs.queue_depth = 40


def _drops(run: Run, t: int) -> None:
    run.knobs.dropped_total = 17


SCENARIOS: dict[str, tuple[int, int, Problem, bool]] = {
    # rule: (healthy seconds first, trouble seconds, the trouble, keep the healthy noise)
    "ErrorRateHigh": (120, 420, _errors, True),
    "LatencyP99High": (20 * 60, 600, _latency, True),
    "QueueBacklogGrowing": (120, 20 * 60, _backlog, False),
    "UtilizationOutsideBand": (120, 12 * 60, _saturated, False),
    "WorkerCrashLoop": (120, 300, _crashes, True),
    "WorkerMemoryGrowth": (120, 40 * 60, _leak, True),
    "NoTaskFinishedWhileQueued": (120, 180, _stuck, False),
    "TelemetryDropping": (120, 30, _drops, True),
}


def test_every_default_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(default_rules().names())


@pytest.mark.parametrize("rule", list(SCENARIOS))
def test_each_default_fires_on_its_scenario(rule: str) -> None:
    calm, trouble, make, keep_noise = SCENARIOS[rule]
    run = Run(default_rules(), healthy())
    noise = _noise(run)
    run.step(calm, noise)
    assert _ever(run) == set()
    first = run.feed.t

    def each(t: int) -> None:
        if keep_noise:
            noise(t)
        make(run, t - first)

    run.step(trouble, each)
    assert _fired(run) == {rule}, f"{rule}: fired {_fired(run)}, ever {_ever(run)}"
