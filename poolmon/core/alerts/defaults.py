"""The built-in rule pack: what a new user gets without writing a rule file.

Each rule says why its threshold is what it is. Two constraints shaped them all: the pack must
stay quiet on a healthy pool and on a pool that is merely idle (an alert nobody can act on
teaches people to ignore alerts; metrics-anchors §1.5), and task figures reach the pool's
insight up to 1.6 s late (rollups close after the endpoint's grace, `poolmon.runtime.insight`), so
no window is shorter than a minute. References: metrics-anchors.md (§1 alerting semantics, §2
anomaly detection) and seed-design.md (§2.1 targets, §3 alert thresholds, §5 patterns).
"""

from __future__ import annotations

from poolmon.core.alerts.model import Matcher
from poolmon.core.alerts.rules import Guard, InhibitRule, Rule, RuleSet


def _ann(summary: str, description: str) -> tuple[tuple[str, str], ...]:
    return (("description", description), ("summary", summary))


ERROR_RATE = Rule(
    # 5 % is the seed design's warning level (D7 migration monitor: error_rate 0.05; 10 % is
    # its critical/rollback level, seed-design §3.2, §3.4). Per operation, because one failing
    # operation drowns in a pool-wide rate. The guard is the seed's min_events_for_alert (10,
    # §3.3) doubled for a 5-minute window: 1 failure in 3 tasks is not a 33 % error rate
    # anyone should be woken for. `for 2m` and a 3 % resolve bound absorb blips and flapping
    # (Prometheus practice "allow for slack", prometheus#6504 hysteresis; metrics-anchors §1.5).
    name="ErrorRateHigh",
    kind="threshold",
    metric="error_rate",
    by="op",
    window_s=300,
    op=">",
    value=0.05,
    resolve=0.03,
    for_s=120,
    severity="warning",
    when=Guard("tasks_finished", ">=", 20),
    annotations=_ann(
        "{labels.op}: {value} of tasks failed over {window} (threshold {threshold})",
        "Operation {labels.op} fails more than the seed design's 5 % warning level. "
        "Look at the errors panel for the exception types.",
    ),
)

LATENCY_P99 = Rule(
    # A fixed p99 threshold only fits one workload (the seed's 100 ms target and 200 ms alert,
    # §2.1/§3.2, would fire forever on an operation that is slow by nature), so the default
    # compares each operation's 1-minute p99 with its own last hour: robust z (median/MAD)
    # beyond 3.5 (Iglewicz & Hoaglin, metrics-anchors §2.2) AND at least 50 % above the median
    # (Grafana's minimum-width margin, §2.5/§2.6), after a 10-minute warm-up. The guard is the
    # sparse-series filter (§2.6): a p99 of fewer than 50 tasks is its maximum. `for 5m` is the
    # persistence §2.6 asks for (Grafana's AnomalyDetected uses the same 5m).
    name="LatencyP99High",
    kind="anomaly",
    metric="latency_p99",
    by="op",
    window_s=60,
    baseline_s=3600,
    warmup_s=600,
    deviations=3.5,
    margin=0.5,
    direction="above",
    for_s=300,
    severity="warning",
    when=Guard("tasks_finished", ">=", 50),
    annotations=_ann(
        "{labels.op}: p99 {value} is far above its usual level (limit {threshold})",
        "The 1-minute p99 of {labels.op} is more than 3.5 robust deviations and 50 % above "
        "its median over the last hour.",
    ),
)

QUEUE_GROWING = Rule(
    # A backlog that grows for minutes means tasks arrive faster than the pool finishes them;
    # it only ends when the queue is full or memory runs out. Slope of the 1-minute mean over
    # 10 minutes, > 10 tasks/minute, for 5 minutes, and only once the queue is long (> 50,
    # the seed's "High queue depth" example, §3.5): a short queue breathing is normal.
    name="QueueBacklogGrowing",
    kind="rate",
    metric="queue_depth",
    window_s=60,
    span_s=600,
    per_s=60,
    op=">",
    value=10,
    for_s=300,
    severity="warning",
    when=Guard("queue_depth", ">", 50),
    annotations=_ann(
        "Queue grows by {value} (threshold {threshold})",
        "Tasks arrive faster than the pool finishes them. Add workers or slow the producers.",
    ),
)

UTILIZATION_BAND = Rule(
    # The seed design's healthy band is 60-80 % busy (D6 target table, seed-design §2.1, §5):
    # above it the pool has no headroom for a burst, below it workers sit idle. Info only, a
    # sizing hint rather than an incident, over 5 minutes for 5 more. The guard keeps an idle
    # pool quiet: under one task a second on average it is not "under-used", it has no work.
    name="UtilizationOutsideBand",
    kind="threshold",
    metric="utilization",
    window_s=300,
    op="outside",
    value=(0.6, 0.8),
    for_s=300,
    severity="info",
    when=Guard("throughput", ">=", 1.0),
    annotations=_ann(
        "Utilization {value} is outside the 60-80 % band",
        "Above 80 % the pool has no headroom (grow it); below 60 % workers idle (shrink it).",
    ),
)

CRASH_LOOP = Rule(
    # Three abnormal exits of one worker slot in 5 minutes (the definition) is a crash
    # loop: replacing the worker does not help, something it runs kills it. Critical: the pool
    # is paying for restarts instead of work. Recycles, resizes and shutdowns do not count.
    # Per slot, not per worker: every replacement gets a new worker id, so no id ever exits
    # more than once.
    name="WorkerCrashLoop",
    kind="threshold",
    metric="worker_exits",
    by="slot",
    window_s=300,
    op=">=",
    value=3,
    severity="critical",
    annotations=_ann(
        "Workers in slot {labels.slot} exited abnormally {value} times in {window}",
        "The slot's worker keeps crashing (or being killed for timeouts or failed health "
        "checks), and its replacements too.",
    ),
)

RSS_GROWTH = Rule(
    # Memory growth above 10 % an hour is the seed design's leak signal (D7 RollbackManager,
    # seed-design §3.2, §5). Least-squares slope of each worker's 1-minute RSS over 15 minutes,
    # relative to its level, for 15 minutes: a worker warming its caches grows for a minute
    # or two, a leak keeps growing.
    name="WorkerMemoryGrowth",
    kind="rate",
    metric="worker_rss_bytes",
    by="worker",
    window_s=60,
    span_s=900,
    per_s=3600,
    relative=True,
    op=">",
    value=0.10,
    for_s=900,
    severity="warning",
    annotations=_ann(
        "Worker {labels.worker} memory grows {value} (threshold {threshold})",
        "A steady RSS growth usually is a leak; recycle_above_rss_mib caps it meanwhile.",
    ),
)

NO_PROGRESS = Rule(
    # Work is queued and nothing has finished for 2 minutes: the pool is stuck (all workers
    # hung, deadlocked, or gone). 2 minutes is far above the ~1.5 s rollup lag; raise it above
    # your longest task if tasks legitimately run longer. Critical and pool-level, so it
    # inhibits the per-worker alerts it explains (see INHIBIT).
    name="NoTaskFinishedWhileQueued",
    kind="absence",
    metric="tasks_finished",
    window_s=120,
    severity="critical",
    when=Guard("queue_depth", ">", 0, window_s=30),
    annotations=_ann(
        "No task finished for {window} while tasks are queued",
        "The pool is not making progress. Check the workers' states and current tasks.",
    ),
)

TELEMETRY_DROPS = Rule(
    # Every dropped event is a hole in what the monitor and these alerts see, so any drop
    # within 5 minutes is worth a warning (the endpoint counts what it drops instead of
    # blocking the pool; metrics-anchors §1.6 point 6: a drop is a counted failure).
    name="TelemetryDropping",
    kind="threshold",
    metric="telemetry_dropped",
    window_s=300,
    op=">",
    value=0,
    severity="warning",
    annotations=_ann(
        "The endpoint dropped {value} telemetry events in {window}",
        "Figures have holes: the endpoint fell behind or a monitor reads too slowly.",
    ),
)

_POOL_LEVEL_CRITICAL = (
    Matcher("severity", "=", "critical"),
    Matcher("worker", "=", ""),
    Matcher("slot", "=", ""),
)
INHIBIT = InhibitRule(
    # A critical pool-level alert (no worker or slot label) mutes the per-worker alerts of the
    # same pool: when the pool is stuck, each worker's symptoms are noise (Alertmanager's
    # classic "cluster down mutes its instances", metrics-anchors §1.2).
    source_matchers=_POOL_LEVEL_CRITICAL,
    target_matchers=(Matcher("worker", "=~", ".+"),),
    equal=("pool",),
)
INHIBIT_SLOTS = InhibitRule(
    # ... and the per-slot ones (WorkerCrashLoop): matchers are ANDed, so a rule of its own.
    source_matchers=_POOL_LEVEL_CRITICAL,
    target_matchers=(Matcher("slot", "=~", ".+"),),
    equal=("pool",),
)

DEFAULT_RULES = (
    ERROR_RATE,
    LATENCY_P99,
    QUEUE_GROWING,
    UTILIZATION_BAND,
    CRASH_LOOP,
    RSS_GROWTH,
    NO_PROGRESS,
    TELEMETRY_DROPS,
)
"""The pack, in the order docs/ALERTS.md describes it."""


def default_rules() -> RuleSet:
    """The built-in pack (see module doc and docs/ALERTS.md)."""
    return RuleSet(DEFAULT_RULES, (INHIBIT, INHIBIT_SLOTS))
