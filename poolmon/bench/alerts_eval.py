"""The cost of one alert evaluation tick: 1,000 rules over a pool of 64 workers and 20 operations.

`measure_eval()` is what `python -m poolmon.bench alerts` reports as
`figures.eval_ms_1000_rules` (issue #11: <= 10 ms median). The aggregator is the real one, fed
the way a pool's insight is fed (`poolmon.testing.pool_feed.PoolFeed`: pool status, resource
samples for every worker, worker exits, per-second task rollups through `RollupBuilder`) for
several minutes under a `ManualClock`, so windows, per-operation sketches and per-worker rings
hold real data. The 1,000 rules are a mix a team could write: thresholds on error rate,
latency percentiles and throughput per operation over 1, 5 and 15 minutes, utilization bands,
per-worker RSS, CPU and exits, RSS growth (rate) per worker, latency anomalies per operation,
absence rules and composites. Rate and anomaly rules are warmed up before timing. Each timed
tick is one `AlertEngine.evaluate` after one more second of feed (the feed is not timed).
"""

from __future__ import annotations

import time
from itertools import cycle

import numpy as np

from poolmon.core.alerts.engine import AlertEngine
from poolmon.core.alerts.rules import Guard, Rule, RuleSet
from poolmon.testing.pool_feed import OpKnobs, PoolFeed, PoolKnobs

WORKERS = 64
OPERATIONS = 20
RULES = 1000
FEED_S = 600
"""Seconds fed before timing (ten minutes: rate and anomaly rules past their warm-up)."""


def _templates() -> list[dict[str, object]]:
    """Rule shapes, cycled over to make `RULES` rules (names made unique)."""
    out: list[dict[str, object]] = []
    for w in (60, 300, 900):
        out += [
            {"kind": "threshold", "metric": "error_rate", "by": "op", "window_s": w, "value": 0.05},
            {"kind": "threshold", "metric": "latency_p99", "by": "op", "window_s": w, "value": 0.5},
            {"kind": "threshold", "metric": "latency_p50", "by": "op", "window_s": w, "value": 0.2},
            {"kind": "threshold", "metric": "throughput", "by": "op", "window_s": w, "op": "<",
             "value": 1.0},
            {"kind": "threshold", "metric": "error_rate", "window_s": w, "value": 0.02,
             "when": Guard("tasks_finished", ">=", 20)},
            {"kind": "threshold", "metric": "worker_rss_bytes", "by": "worker", "window_s": w,
             "value": 2.0 * 2**30},
            {"kind": "threshold", "metric": "worker_cpu_percent", "by": "worker", "window_s": w,
             "value": 95.0},
            {"kind": "threshold", "metric": "utilization", "window_s": w, "op": "outside",
             "value": (0.6, 0.8)},
            {"kind": "threshold", "metric": "queue_depth", "window_s": w, "value": 500},
        ]  # fmt: skip
    out += [
        {"kind": "threshold", "metric": "worker_exits", "by": "worker", "window_s": 300,
         "op": ">=", "value": 3},
        {"kind": "rate", "metric": "worker_rss_bytes", "by": "worker", "window_s": 60,
         "span_s": 900, "per_s": 3600, "relative": True, "value": 0.1},
        {"kind": "anomaly", "metric": "latency_p99", "by": "op", "window_s": 60,
         "baseline_s": 3600, "warmup_s": 300},
        {"kind": "absence", "metric": "tasks_finished", "window_s": 120,
         "when": Guard("queue_depth", ">", 0)},
        {"kind": "threshold", "metric": "telemetry_dropped", "window_s": 300, "value": 0},
    ]  # fmt: skip
    return out


def build_rules(n: int = RULES) -> RuleSet:
    """`n` rules from the templates, with a composite of every 50th pair of rules.

    One operation fails at 7 %, so the error-rate rules with the lowest threshold fire (a
    pool with a problem, some two dozen alerts), and a worker exiting every 97 s keeps the
    crash-loop rules busy; the rest are quiet, as most rules are most of the time.
    """
    rules: list[Rule] = []
    shapes = cycle(_templates())
    severities = cycle(("info", "warning", "critical"))
    while len(rules) < n:
        i = len(rules)
        if i % 50 == 49:
            rules.append(Rule(f"r{i}", "composite", mode="any", rules=(f"r{i - 1}", f"r{i - 2}")))
            continue
        shape = dict(next(shapes))
        kind = str(shape.pop("kind"))
        if shape.get("metric") == "error_rate":  # thresholds differ between teams
            shape["value"] = 0.05 * (1 + (i // 32) % 4)
        rules.append(Rule(f"r{i}", kind, severity=next(severities), **shape))  # type: ignore[arg-type]
    return RuleSet(tuple(rules))


def build_feed(seconds: int = FEED_S) -> PoolFeed:
    """A 64-worker, 20-operation pool fed `seconds` of telemetry (a few operations failing)."""
    ops = {
        f"op{i:02d}": OpKnobs(
            rate=40.0 + 10 * (i % 5),
            median_s=0.002 * (1 + i % 7),
            sigma=0.5,
            error_rate=0.07 if i == 0 else 0.005,
        )
        for i in range(OPERATIONS)
    }
    knobs = PoolKnobs(
        workers=WORKERS,
        ops=ops,
        queue_depth=5,
        utilization=0.7,
        rss=lambda w, t: 80 * 2**20 + (w % 4) * 2**20 + (t * 4096 if w == 7 else 0),
    )
    feed = PoolFeed(knobs, name="bench")
    for _ in range(seconds):
        _step(feed)
    return feed


def _step(feed: PoolFeed) -> int:
    feed.knobs.exits = (11,) if feed.t % 97 == 0 else ()
    return feed.step()


def measure_eval(reps: int = 31) -> dict[str, float]:
    """Median and p90 wall time of one evaluation tick, in ms (see module doc).

    Also the median CPU time of a tick (`cpu_median_ms`: what the tick costs when the shared
    machine is busy), the number of rules and the alerts in the final view.
    """
    feed = build_feed()
    engine = AlertEngine(build_rules(), pool="bench")
    for _ in range(120):  # warm: rate/anomaly samples, alert instances, caches
        engine.evaluate(feed.agg, _step(feed))
    times, cpu = [], []
    for _ in range(reps):
        now = _step(feed)
        t0, c0 = time.perf_counter(), time.process_time()
        view = engine.evaluate(feed.agg, now)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    arr = np.array(times)
    return {
        "median_ms": float(np.median(arr)),
        "p90_ms": float(np.percentile(arr, 90)),
        "cpu_median_ms": float(np.median(cpu)),
        "rules": float(len(engine.rules)),
        "alerts_in_view": float(len(view.alerts)),
    }


if __name__ == "__main__":
    print(measure_eval())
