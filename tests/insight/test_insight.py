"""Insight: rollups and events feed one aggregator; hooks run each second, each isolated."""

from __future__ import annotations

from array import array

from poolmon.core.events import TaskBatch
from poolmon.core.rollup import RollupBuilder
from poolmon.runtime.insight import Insight
from poolmon.testing.clock import ManualClock

NS = 1_000_000_000


def _batch(second: int, n: int) -> TaskBatch:
    starts = [second * NS + i for i in range(n)]
    return TaskBatch(
        ("op",),
        ("",),
        array("q", range(n)),
        array("q", [0] * n),
        array("q", [0] * n),
        array("q", starts),
        array("q", [1000] * n),
        array("q", [10] * n),
        array("q", [0] * n),
        array("q", [0] * n),
    )


def test_rollups_reach_the_aggregator_and_hooks_run_after_them() -> None:
    clock = ManualClock(100 * NS)
    insight = Insight(clock)
    builder = RollupBuilder()
    builder.add(_batch(95, 7))
    closed = builder.close_before(97 * NS)
    seen: list[int] = []
    insight.add_hook("count", lambda agg, now: seen.append(agg.snapshot(60).tasks_finished))
    assert insight.on_second(100 * NS, closed) == []
    assert seen == [7]


def test_a_raising_hook_is_reported_and_the_others_still_run() -> None:
    insight = Insight(ManualClock(100 * NS))
    ran: list[str] = []

    def broken(agg: object, now: int) -> None:
        raise RuntimeError("boom")

    insight.add_hook("broken", broken)
    insight.add_hook("fine", lambda agg, now: ran.append("fine"))
    failures = insight.on_second(100 * NS, [])
    assert [f.name for f in failures] == ["broken"]
    assert ran == ["fine"]
