"""Immutable views of the aggregator's state: the only thing the terminal app ever reads.

The aggregator builds a `PoolSnapshot` on request (the app asks on a timer, about 4 times a
second); widgets render from it and never reach into the engine, a socket or the pool. Every
type here is a frozen dataclass of plain values, so a snapshot can be kept, compared, pickled
into a recording, or built by hand in a test.

Units are in the field names. Durations are nanoseconds (`_ns`) unless named otherwise;
timestamps are wall-clock nanoseconds since the epoch; `None` means "no data", never zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from poolmon.core.alerts.model import AlertsView
from poolmon.core.failures import TaskFailure


@dataclass(frozen=True, slots=True)
class LatencySummary:
    """Distribution summary of a set of durations (task latency or queue wait).

    Percentiles come from log-bucketed sketches with relative error <= 1 %. All fields but
    `count` are None when `count` is 0.
    """

    count: int = 0
    min_ns: float | None = None
    max_ns: float | None = None
    mean_ns: float | None = None
    p50_ns: float | None = None
    p90_ns: float | None = None
    p95_ns: float | None = None
    p99_ns: float | None = None
    p999_ns: float | None = None


@dataclass(frozen=True, slots=True)
class Histogram:
    """Counts over log-scaled buckets, for drawing a latency distribution.

    `edges_ns` has one more element than `counts`: bucket i covers
    `[edges_ns[i], edges_ns[i + 1])`.
    """

    edges_ns: tuple[float, ...] = ()
    counts: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Series:
    """Evenly spaced values over time; `None` marks a gap (no data), never a zero.

    Point i is at `start_ns + i * step_ns` (wall clock) and summarises `[t, t + step)`.
    """

    start_ns: int = 0
    step_ns: int = 1_000_000_000
    values: tuple[float | None, ...] = ()


@dataclass(frozen=True, slots=True)
class PoolInfo:
    """Who the pool is, from the endpoint's handshake."""

    name: str = ""
    pid: int = 0
    host: str = ""
    started_at_ns: int = 0
    protocol_version: int = 0


@dataclass(frozen=True, slots=True)
class WorkerExit:
    """One past worker exit: why, how, after how long."""

    worker_id: int
    pid: int
    at_ns: int
    reason: str
    exit_code: int | None = None
    signal: int | None = None
    lifetime_ns: int = 0
    tasks_done: int = 0
    slot: int | None = None
    """The pool's slot the worker ran in (its replacement takes it); None when the exit
    event did not say and the worker's spawn was not seen (older pools and recordings)."""


@dataclass(frozen=True, slots=True)
class StateChange:
    """One worker state transition (starting -> ready -> busy -> ...)."""

    at_ns: int
    from_state: str
    to_state: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """One recent task of a worker, for the drill-down view."""

    task_id: int
    op: str
    start_ns: int
    duration_ns: int
    status: str
    error_type: str = ""


@dataclass(frozen=True, slots=True)
class WorkerView:
    """One worker's row in the worker table, and its drill-down."""

    worker_id: int
    pid: int = 0
    state: str = "unknown"
    current_op: str | None = None
    current_task_age_ns: int | None = None
    current_task_age_at_most: bool = False
    """The age is an upper bound: the task is young enough that the worker may have finished
    it and started others the monitor has not heard of yet (`WorkerTable.task_age_at_most`)."""
    tasks_done: int = 0
    tasks_failed: int = 0
    restarts: int = 0
    latency: LatencySummary = field(default_factory=LatencySummary)
    cpu_percent: float | None = None
    rss_bytes: int | None = None
    fds: int | None = None
    threads: int | None = None
    throughput: Series = field(default_factory=Series)
    rss_series: Series = field(default_factory=Series)
    recent_tasks: tuple[TaskRecord, ...] = ()
    state_history: tuple[StateChange, ...] = ()
    exits: tuple[WorkerExit, ...] = ()
    alive: bool = True


@dataclass(frozen=True, slots=True)
class OperationView:
    """Per-operation statistics over the snapshot's window."""

    name: str
    count: int = 0
    errors: int = 0
    rate_per_s: float | None = None
    latency: LatencySummary = field(default_factory=LatencySummary)
    timeouts: int = 0
    """Tasks of this operation that hit their timeout in the window (`poolmon.task.timeout`)."""
    timeout_ns: float | None = None
    """The limit its timed-out tasks last hit (None: none timed out since the monitor started)."""
    p99_ok_ns: float | None = None
    """p99 of its tasks leaving out the timed-out ones (the slowest `timeouts`): how close the
    tasks that made it came to the limit."""
    histogram: Histogram = field(default_factory=Histogram)
    """Its latency histogram over the same slots as `latency`."""
    covered_s: float = 0.0
    """Seconds of data the row counts over. Its slots are whole (10 s for a minute), so this is
    a little less than the window: 50-60 s of a minute, where the pool-wide count, at 1-s
    slots, covers all of it (`poolmon.core.queries.operations`)."""


@dataclass(frozen=True, slots=True)
class ErrorView:
    """Errors over the snapshot's window: rate = failed / all finished tasks."""

    total: int = 0
    rate: float | None = None
    by_type: tuple[tuple[str, int], ...] = ()
    by_category: tuple[tuple[str, int], ...] = ()
    series_by_type: tuple[tuple[str, Series], ...] = ()


@dataclass(frozen=True, slots=True)
class ResourceView:
    """Process and machine resources, from the latest resource samples."""

    pool_cpu_percent: float | None = None
    pool_rss_bytes: int | None = None
    workers_rss_bytes: int | None = None
    fds: int | None = None
    threads: int | None = None
    machine_cpu_percent: float | None = None
    load1: float | None = None
    memory_percent: float | None = None
    swap_percent: float | None = None


@dataclass(frozen=True, slots=True)
class HealthBreakdown:
    """The three terms of the health score (each 0..1, None when unknown); see core/health.py.

    `load` is `(busy + queue_depth) / size`; its term is 1 inside the 60-80 % band.
    """

    load: float | None = None
    load_term: float | None = None
    error_term: float | None = None
    latency_term: float | None = None


@dataclass(frozen=True, slots=True)
class WindowSummary:
    """Performance over one window (1, 5 or 15 minutes)."""

    window_s: int
    tasks_finished: int = 0
    tasks_failed: int = 0
    throughput_per_s: float | None = None
    error_rate: float | None = None
    latency: LatencySummary = field(default_factory=LatencySummary)
    queue_wait: LatencySummary = field(default_factory=LatencySummary)
    utilization_mean: float | None = None
    queue_depth_mean: float | None = None
    covered_s: int = 0


@dataclass(frozen=True, slots=True)
class PerformanceSummary:
    """The 1/5/15-minute performance report (`Aggregator.summary()`)."""

    taken_at_ns: int = 0
    windows: tuple[WindowSummary, ...] = ()


@dataclass(frozen=True, slots=True)
class LoadSignals:
    """Window means and counts the advisor reads (None: no sample in the window).

    `workers_cpu_percent_mean` is the sum of the live workers' CPU (% of one core), averaged
    over the window; divided by `busy_mean` it is the CPU a busy worker uses.
    `workers_running_mean` counts the workers sampled runnable (on a CPU or waiting for one);
    divided by `busy_mean` it tells CPU work starved on a shared machine (runnable, yet little
    CPU) from work waiting on IO or a lock (sleeping).
    """

    utilization_mean: float | None = None
    busy_mean: float | None = None
    size_mean: float | None = None
    queue_depth_mean: float | None = None
    queue_depth: Series = field(default_factory=Series)
    workers_cpu_percent_mean: float | None = None
    workers_running_mean: float | None = None
    affinity_hits: int = 0
    affinity_misses: int = 0
    events_dropped: int = 0


@dataclass(frozen=True, slots=True)
class AutotuneView:
    """The pool's auto-tuner as its `poolmon.autotune.decision` events describe it.

    `enabled` is None until a decision was seen; `decisions` are the latest ones, oldest
    first, each `poolmon.core.advisor.autotune.Decision.to_wire()`.
    """

    enabled: bool | None = None
    paused_until_ns: int = 0
    decisions: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class ControlChange:
    """One control command the pool reported (`poolmon.control.command`): who, what, from/to.

    `changes` is `((key, from, to), ...)` for a `set` that changed something, else empty.
    """

    at_ns: int
    command: str
    result: str = "ok"
    reason: str = ""
    args: tuple[tuple[str, Any], ...] = ()
    changes: tuple[tuple[str, Any, Any], ...] = ()
    client: str = ""
    peer_pid: int = 0


@dataclass(frozen=True, slots=True)
class PoolSnapshot:
    """Everything the monitor shows, as of `taken_at_ns`, over a window of `window_s`.

    Counts (`tasks_*`, `errors`, `throughput*`, `latency*`, `queue_wait`, `operations`) are
    over the window; `size`/`busy`/`idle`/`queue_depth`/`utilization` are the latest pool
    status (the current instant), None before the first one. `throughput_per_s` is None when
    no second of the window has data. `tasks_finished` = ok + error + timeout + crashed;
    `tasks_failed` = error + timeout + crashed; cancelled tasks never ran and are only in
    `tasks_cancelled`. `error_rate` = failed / finished (None with nothing finished).
    `covered_s` is how many seconds of the window have data (gaps excluded).
    `*_total` fields count since the monitor started and survive pool restarts; the
    `pool_tasks_*_total` ones come from the pool's own status totals, restart-corrected.
    `data_until_ns` is set while the connection is down: the time of the last data, where
    uptime and task ages stop (worker states then read "unknown").
    `alerts` is the pool's latest alert state (None: the pool has sent none yet, so nothing
    is known, which is not "no alerts"); `alert_views_malformed` counts views ignored as
    undecodable (poolmon.core.alert_state).
    """

    taken_at_ns: int = 0
    window_s: int = 60
    pool: PoolInfo = field(default_factory=PoolInfo)
    size: int | None = None
    busy: int | None = None
    idle: int | None = None
    queue_depth: int | None = None
    utilization: float | None = None
    tasks_finished: int = 0
    tasks_failed: int = 0
    tasks_timed_out: int = 0
    throughput_per_s: float | None = None
    throughput: Series = field(default_factory=Series)
    latency: LatencySummary = field(default_factory=LatencySummary)
    latency_histogram: Histogram = field(default_factory=Histogram)
    queue_wait: LatencySummary = field(default_factory=LatencySummary)
    errors: ErrorView = field(default_factory=ErrorView)
    workers: tuple[WorkerView, ...] = ()
    operations: tuple[OperationView, ...] = ()
    resources: ResourceView = field(default_factory=ResourceView)
    health_score: float | None = None
    events_dropped: int = 0
    gaps: tuple[tuple[int, int], ...] = ()
    tasks_cancelled: int = 0
    error_rate: float | None = None
    covered_s: int = 0
    tasks_finished_total: int = 0
    tasks_failed_total: int = 0
    pool_tasks_submitted_total: int | None = None
    pool_tasks_done_total: int | None = None
    pool_tasks_failed_total: int | None = None
    pool_restarts: int = 0
    pool_state: str = "unknown"
    data_until_ns: int | None = None
    duplicates_ignored: int = 0
    health: HealthBreakdown = field(default_factory=HealthBreakdown)
    load: LoadSignals = field(default_factory=LoadSignals)
    autotune: AutotuneView = field(default_factory=AutotuneView)
    alerts: AlertsView | None = None
    alert_views_malformed: int = 0
    control_log: tuple[ControlChange, ...] = ()
    """The last control commands seen (newest last; see `ControlChange`)."""
    failures: tuple[TaskFailure, ...] = ()
    """The latest failed tasks, message and traceback, newest first (`poolmon.core.failures`)."""

    @property
    def seen_at_ns(self) -> int:
        """The time the pool's state was last known: the last data while the link is down.

        Durations of the pool's states (uptime, task ages, how long an alert has been pending
        or firing) run to this time, not to `taken_at_ns`: a dead pool's alert is not pending
        for another minute because the monitor's clock moved on.
        """
        return self.data_until_ns if self.data_until_ns is not None else self.taken_at_ns
