"""A struggling pool for the advisor's snapshot and pilot tests, through the real aggregator.

Ten minutes of a `Scenario` with several problems at once (a queue growing while busy workers
wait on IO, a worker leaking memory, an operation whose timeout is too tight, a long-tailed
operation with no timeout), and optionally an auto-tuning change log with a kept grow and a
rolled-back one, fed into a `FeedSource` under a `ManualClock`, so every frame is reproducible.
"""

from __future__ import annotations

from typing import Any

from poolmon.core import catalog as C
from poolmon.core.advisor.autotune import Decision
from poolmon.core.aggregator import Aggregator
from poolmon.core.events import Event
from poolmon.runtime.source import CommandResult
from poolmon.testing.clock import ManualClock
from poolmon.testing.feed_source import FeedSource, Responder
from poolmon.testing.scenarios import NS, Scenario, ScenarioOp, ScenarioSpec, feed

STRUGGLING = ScenarioSpec(
    size=4,
    tasks_per_s=30,
    ops=(
        ScenarioOp("fetch_profile", 2.0, 90.0, 0.15, timeout_ms=110.0),
        ScenarioOp("render_report", 1.0, 40.0, 0.2, tail_share=0.01, tail_ms=3000.0),
    ),
    utilization=1.0,
    queue_growth_per_s=2.0,
    cpu_per_busy=6.0,
    leak_worker=2,
    leak_mib_per_h=240.0,
    name="orders",
)
"""The pool the advisor screens show."""

SETTINGS: dict[str, Any] = {
    "size": 4,
    "min_size": 1,
    "max_size": 16,
    "task_timeout_s": None,
    "recycle_above_rss_mib": None,
}


def pool_answers(name: str, args: Any) -> CommandResult:
    """A cooperative pool: resize/set/recycle/autotune succeed, `settings` is not served."""
    if name == "resize":
        return CommandResult(True, {"size": int(args["size"])})
    if name == "set":
        return CommandResult(True, {"changed": {k: [None, v] for k, v in args["settings"].items()}})
    if name == "autotune":
        return CommandResult(True, {"enabled": bool(args["enabled"])})
    if name == "recycle_worker":
        return CommandResult(True, {"worker_id": args["worker_id"]})
    return CommandResult(False, reason=f"unknown command {name!r}")


def decisions_log(start_ns: int) -> list[Decision]:
    """A kept grow, then a grow that was rolled back and is barred for the cooldown."""
    t = start_ns
    thr_a = {"throughput_per_s": 39.6, "p99_ns": 9.1e9, "tasks": 396, "seconds": 10}
    thr_b = {"throughput_per_s": 79.0, "p99_ns": 2.2e9, "tasks": 790, "seconds": 10}
    thr_c = {"throughput_per_s": 80.2, "p99_ns": 2.9e9, "tasks": 802, "seconds": 10}
    grow_2 = "Work arrives faster than 2 workers serve it: grow to 4"
    grow_4 = "Work arrives faster than 4 workers serve it: grow to 6"
    validating = "validating for 30 s after 5 s to settle"
    return [
        Decision(t, "enabled", "asked by a monitor", 2),
        Decision(t + 31 * NS, "proposed", grow_2, 2, 4, "grow", thr_a),
        Decision(t + 31 * NS, "applied", validating, 2, 4, "grow"),
        Decision(
            t + 69 * NS, "kept", "better: throughput 39.6 -> 79.0/s (+99%, t=41.2)",
            2, 4, "grow", thr_a, thr_b,
        ),
        Decision(t + 100 * NS, "proposed", grow_4, 4, 6, "grow", thr_b),
        Decision(t + 100 * NS, "applied", validating, 4, 6, "grow"),
        Decision(
            t + 138 * NS, "rolled_back", "not better: throughput 79.0 -> 80.2/s (+2%, t=0.9)",
            6, 4, "grow", thr_b, thr_c,
        ),
        Decision(
            t + 139 * NS, "skipped", "grow: 4 -> 6 was rolled back; not retried for 600 s", 4
        ),
    ]  # fmt: skip


def struggling_source(
    *, seconds: int = 600, decisions: bool = True, read_only: bool = False,
    responder: Responder = pool_answers,
) -> FeedSource:  # fmt: skip
    """The STRUGGLING pool after `seconds`, optionally with an auto-tuning change log."""
    clock = ManualClock()
    agg = Aggregator(clock)
    source = FeedSource(clock, agg, read_only=read_only, responder=responder)
    scenario = Scenario(STRUGGLING, clock.time_ns())
    source.attach(scenario.pool_info())
    feed(agg, clock, scenario, seconds)
    if decisions:
        start = clock.time_ns() - 200 * NS
        for d in decisions_log(start):
            agg.ingest_event(
                Event(
                    C.AUTOTUNE_DECISION,
                    d.at_ns,
                    {"size": 4, "enabled": 1},
                    {"pool": STRUGGLING.name, "decision": d.to_wire(), "paused_until_ns": 0},
                )
            )
    return source
