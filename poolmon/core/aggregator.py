"""The metrics aggregator: the event stream in, immutable snapshots out, in fixed memory.

Pure engine (no IO, no threads, the clock injected): the terminal app, a headless watcher and
the tests all drive the same object. Writes: `ingest_event`, `ingest_tasks` (the numpy batch
path), `ingest_rollup` (history backfill), `set_pool_info`, `mark_gap`, `note_dropped`. Reads
(`snapshot`, `series`, `worker`, `error_rates`, `summary`) live in `poolmon.core.queries` and
return frozen dataclasses from `poolmon.core.snapshot`. Not thread-safe: one thread feeds it
and reads it (the app's monitor glue serialises both).

Counting each record exactly once across reconnects (docs/METRICS.md, "Dedupe"):
* every record (plain event or task batch) carries the endpoint's sequence number (`seq=`,
  or `claim(seq)` for a caller that queues batches): one at or below the last one seen from
  this pool instance is ignored, so a resume or a full backfill never counts a record twice;
* after `mark_gap` (a reconnect), rows that finished no later than the newest row already
  held are checked against the last `RECENT_IDS` task ids and dropped if seen (streams
  without sequence numbers);
* a rollup adds only what its second does not hold yet (`poolmon.core.tally`,
  `poolmon.core.backfill`); rollups older than the tally's seconds are ignored.

A pool instance is identified by its start time and pid (`PoolInfo.started_at_ns`, `pid`:
the same values in the handshake and in `poolmon.pool.init`). A restart is a different
instance, nothing else (never a total that went backwards, never an event's own timestamp):
every windowed counter is kept, the old instance's totals are added to the restart-surviving
totals, and its worker rows and dedupe state are dropped (ids and sequence numbers start over).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from poolmon.core import catalog as C
from poolmon.core import metric_series, queries
from poolmon.core.alert_state import AlertState
from poolmon.core.backfill import apply_rollup
from poolmon.core.batchview import NS_PER_S, BatchView
from poolmon.core.clock import Clock
from poolmon.core.control_log import CONTROL_LOG_SIZE, log_control
from poolmon.core.counters import LabeledCounter, NameTally
from poolmon.core.coverage import Coverage
from poolmon.core.events import Event, TaskBatch
from poolmon.core.failures import FailureRing
from poolmon.core.gauges import POOL_GAUGES, GaugeSet
from poolmon.core.handlers import HANDLERS, on_pool_status_workers
from poolmon.core.health import DEFAULT_LATENCY_TARGET_NS
from poolmon.core.ring import POOL_TIERS
from poolmon.core.rollup import Rollup
from poolmon.core.snapshot import (
    ControlChange,
    ErrorView,
    PerformanceSummary,
    PoolInfo,
    PoolSnapshot,
    Series,
    WorkerView,
)
from poolmon.core.taskstats import TaskStats
from poolmon.core.workers import WorkerTable

RECENT_IDS = 65536
"""Task ids remembered for dedupe after a reconnect."""
MAX_WINDOW_S = 3600
"""The longest window; coverage and gaps older than this (plus a minute) are pruned."""
JUMP_TOLERANCE_S = 2
"""A wall clock that goes back by more than this is a jump (slots after it are dropped)."""
AUTOTUNE_DECISIONS = 50
"""Auto-tuning decisions kept for the advisor screen's change log."""
WORKER_EXIT_REASONS = frozenset(
    ("crash", "timeout", "recycle_tasks", "recycle_memory", "health", "resize", "shutdown")
)
"""The `reason` values of `poolmon.worker.exit` (docs/EVENTS.md)."""
_TOTALS = ("tasks_submitted", "tasks_done", "tasks_failed")


class Aggregator:
    """Turns poolmon telemetry into windowed metrics (see module doc).

    Args:
        clock: Time source for "now" (windows end at `clock.time_ns()`).
        forget_workers_after_s: Exited workers are dropped this long after their exit.
        max_workers: Cap on worker rows (bounds memory even if ids are never reused).
        max_ops: Distinct operation names tracked; more are counted as "(other)".
        max_error_types: Distinct error types tracked; more are counted as "(other)".
        latency_target_ns: p99 target used by the health score.
        max_silence_s: Longest silence still treated as "connected, nothing happened".
    """

    def __init__(
        self,
        clock: Clock,
        *,
        forget_workers_after_s: float = 600.0,
        max_workers: int = 1024,
        max_ops: int = 64,
        max_error_types: int = 64,
        latency_target_ns: float = DEFAULT_LATENCY_TARGET_NS,
        max_silence_s: int = 5,
    ) -> None:
        self.clock = clock
        self.latency_target_ns = latency_target_ns
        self.stats = TaskStats(max_ops, max_error_types)
        self.workers = WorkerTable(forget_workers_after_s, max_workers)
        self.gauges = GaugeSet(POOL_GAUGES, POOL_TIERS)
        self.categories = LabeledCounter(POOL_TIERS, 32)
        self.event_counts = NameTally(48)
        """Events by name since the start (the overflow past 47 names counted together)."""
        self.signals = LabeledCounter(POOL_TIERS, max_ops + 8)
        """Per slot: dropped events, affinity hits/misses, timeouts per op (`timeout:<op>`)."""
        self.op_timeout_ns: dict[str, float] = {}
        self.workers_running: dict[int, bool] = {}
        """Per worker: was it runnable ("running") at its latest resource sample."""
        self.autotune_enabled: bool | None = None
        self.autotune_paused_until_ns = 0
        self.autotune_decisions: deque[dict[str, Any]] = deque(maxlen=AUTOTUNE_DECISIONS)
        """The pool's latest auto-tuning decisions (`poolmon.autotune.decision`)."""
        """The timeout each operation's tasks last hit (from `poolmon.task.timeout`)."""
        self.coverage = Coverage(max_silence_s)
        self.pool = PoolInfo()
        self.pool_state = "unknown"
        self.pool_restarts = 0
        self.transport_dropped = 0
        self.pool_dropped = 0
        self.pool_dropped_seen = False
        self.duplicates_ignored = 0
        self.data_until_ns: int | None = None
        """While the connection is down: the time of the last data (ages freeze there)."""
        self.worker_exits: dict[str, int] = {}
        """Worker exits since attach by reason (catalog reasons only; else "other")."""
        self._totals_last: dict[str, int] = {}
        self._totals_offset: dict[str, int] = dict.fromkeys(_TOTALS, 0)
        self._last_seq: int | None = None
        self._recent_ids = np.full(RECENT_IDS, -1, dtype=np.int64)
        self._recent_pos = 0
        self._totals_ts = -(2**62)
        self._live_high_ns: int | None = None
        self._resume_until_ns: int | None = None
        self._last_now_s: int | None = None
        self._pruned_s = -(2**62)
        self.alert_state = AlertState()
        self.control_log: deque[ControlChange] = deque(maxlen=CONTROL_LOG_SIZE)
        self.failures = FailureRing()
        self._handlers: dict[str, Callable[[Event], None]] = {
            C.POOL_INIT: self._on_pool_init,
            C.POOL_TERMINATE: self._on_pool_terminate,
            C.POOL_STATUS: self._on_pool_status,
            C.ALERT_STATE: self._on_alert_state,
            **{name: partial(fn, self) for name, fn in HANDLERS.items()},
            C.CONTROL_COMMAND: partial(log_control, self.control_log),
        }

    # ----------------------------------------------------------------------------- time
    def now_ns(self) -> int:
        """Current wall-clock time; a backwards jump drops the slots that are now "future"."""
        now = self.clock.time_ns()
        now_s = now // NS_PER_S
        if self._last_now_s is not None and now_s < self._last_now_s - JUMP_TOLERANCE_S:
            self._rewind(now_s)
        self._last_now_s = now_s
        self.workers.forget(now)
        if now_s - self._pruned_s >= 60:  # coverage and gaps older than the longest window
            self.coverage.prune(now_s - MAX_WINDOW_S - 60)
            self._pruned_s = now_s
        return now

    def _rewind(self, now_s: int) -> None:
        self.stats.drop_after(now_s)
        self.gauges.drop_after(now_s)
        self.categories.drop_after(now_s)
        self.signals.drop_after(now_s)
        self.coverage.drop_after(now_s)
        for rec in self.workers.rows.values():
            rec.drop_after(now_s)
        self.workers.rewind((now_s + 1) * NS_PER_S - 1)
        if self._live_high_ns is not None:
            self._live_high_ns = min(self._live_high_ns, (now_s + 1) * NS_PER_S - 1)

    # -------------------------------------------------------------------------- writes
    def claim(self, seq: int | None, rows: int = 1) -> bool:
        """Whether the record numbered `seq` is new from this pool instance (then remember it).

        Sequence numbers rise by one per record from 0 when the pool starts; a record at or
        below the last one claimed was already counted (a resume or backfill re-sent it) and
        its `rows` are added to `duplicates_ignored`. `None` (no number known) is always new.
        """
        if seq is None:
            return True
        if self._last_seq is not None and seq <= self._last_seq:
            self.duplicates_ignored += rows
            return False
        self._last_seq = seq
        return True

    def ingest_event(self, event: Event, *, seq: int | None = None) -> None:
        """Account one catalog event (unknown names are only counted by name).

        Args:
            event: The event.
            seq: The endpoint's sequence number of the record, when known (dedupe).
        """
        if not self.claim(seq):
            return
        self.now_ns()
        second = event.ts_ns // NS_PER_S
        self.coverage.note(second)
        self.event_counts.inc(event.name)
        if event.name == C.WORKER_EXIT:
            reason = str(event.metadata.get("reason"))
            reason = reason if reason in WORKER_EXIT_REASONS else "other"
            self.worker_exits[reason] = self.worker_exits.get(reason, 0) + 1
        handler = self._handlers.get(event.name)
        if handler is not None:
            handler(event)
        self.workers.heard(event.ts_ns)  # after: a new pool instance's event clears the table

    def ingest_tasks(self, batch: TaskBatch, *, seq: int | None = None) -> None:
        """Account a batch of finished tasks (the numpy fast path).

        Args:
            batch: Columnar tasks; ValueError when an index column is out of range.
            seq: The endpoint's sequence number of the frame, when known (dedupe).
        """
        if not self.claim(seq, len(batch)):
            return
        if len(batch) == 0:
            return
        now = self.now_ns()
        view = BatchView.of(batch)
        view.validate()
        view = self._dedupe(view)
        if len(view) == 0:
            return
        end_max = int((view.start_ns + view.duration_ns).max())
        self._live_high_ns = max(self._live_high_ns or end_max, end_max)
        for second, rows in view.by_second():
            self.coverage.note(second)
            self.stats.ingest(second, rows, self.workers, now)

    def ingest_rollup(self, rollup: Rollup) -> None:
        """Account one second of history: what it holds beyond what that second already has."""
        second = rollup.second_ns // NS_PER_S
        if not self.stats.tally.remembers(second):
            self.duplicates_ignored += rollup.count  # long past: counted when it was live
            return
        now = self.now_ns()
        self.coverage.cover(second, second)
        added = apply_rollup(self, second, rollup, now)
        self.duplicates_ignored += max(0, rollup.count - max(0, added))

    def set_pool_info(self, info: PoolInfo) -> None:
        """Who the pool is (handshake); another instance (start time) means a restart."""
        if self._other_instance(info.started_at_ns, info.pid):
            self._on_pool_restart()
        self.pool = info

    def _other_instance(self, started_at_ns: int, pid: int) -> bool:
        """Whether (start time, pid) names a pool instance other than the known one.

        The identity is the pair the handshake and `pool.init` both carry: another start
        time (a new pool, even in the same process) or another pid (another process) is
        another instance. A value missing on either side (a stream recorded without it) is
        not compared.
        """
        old = self.pool
        if old.started_at_ns and started_at_ns and started_at_ns != old.started_at_ns:
            return True
        return bool(old.pid and pid and pid != old.pid)

    def mark_gap(self, start_ns: int, end_ns: int) -> None:
        """Data between the two times is missing: show it as a gap; dedupe what is resent."""
        self.coverage.mark_gap(start_ns, end_ns)
        self._resume_until_ns = self._live_high_ns

    def note_link_down(self, last_data_ns: int) -> None:
        """The connection dropped: uptime and task ages freeze at the last data, workers unknown.

        A dead pool must not look like a hung one whose tasks keep ageing. Cleared by
        `note_link_up` (the next handshake).
        """
        if self.data_until_ns is None:
            self.data_until_ns = last_data_ns

    def note_link_up(self) -> None:
        """Connected again: the figures are live."""
        self.data_until_ns = None

    def note_dropped(self, count: int) -> None:
        """Events lost in transport (a sequence gap)."""
        if count < 0:
            raise ValueError(f"dropped count must be >= 0, got {count}")
        self.transport_dropped += count
        if count:
            self.signals.inc(self.now_ns() // NS_PER_S, "dropped", count)

    # ------------------------------------------------------------------------- dedupe
    def _dedupe(self, view: BatchView) -> BatchView:
        if self._resume_until_ns is not None:
            end = view.start_ns + view.duration_ns
            maybe_old = end <= self._resume_until_ns
            if not maybe_old.any():
                self._resume_until_ns = None
            else:
                dup = maybe_old & np.isin(view.task_id, self._recent_ids)
                if dup.any():
                    self.duplicates_ignored += int(dup.sum())
                    view = view.take(np.flatnonzero(~dup))
        ids = view.task_id[-RECENT_IDS:]
        n, pos = len(ids), self._recent_pos
        first = min(n, RECENT_IDS - pos)
        self._recent_ids[pos : pos + first] = ids[:first]
        self._recent_ids[: n - first] = ids[first:]
        self._recent_pos = (pos + n) % RECENT_IDS
        return view

    def _on_pool_restart(self) -> None:
        for key in _TOTALS:
            self._totals_offset[key] += self._totals_last.get(key, 0)
        self._totals_last = {}
        self.pool_restarts += 1
        self.workers.clear()
        self._last_seq = None
        self._recent_ids.fill(-1)
        self._resume_until_ns = None
        self._live_high_ns = None
        self._totals_ts = -(2**62)
        self.stats.tally.clear()
        self.alert_state.reset()
        self.failures.new_instance()

    # ------------------------------------------------------------------------- events
    def _on_pool_init(self, e: Event) -> None:
        md = e.metadata
        pid = int(md.get("pid") or 0)
        started = int(md.get("started_at_ns") or 0)
        if self._other_instance(started, pid):
            self._on_pool_restart()
        if pid:
            self.pool = PoolInfo(
                name=str(md.get("pool", self.pool.name)),
                pid=pid,
                host=str(md.get("host", self.pool.host)),
                started_at_ns=started or self.pool.started_at_ns,
                protocol_version=self.pool.protocol_version,
            )
        self.pool_state = "running"
        size = e.measurements.get("size")
        if size is not None:
            self.gauges.set(e.ts_ns // NS_PER_S, e.ts_ns, {"size": float(size)})

    def _on_pool_terminate(self, e: Event) -> None:
        self.pool_state = "terminated"

    def _on_pool_status(self, e: Event) -> None:
        m = e.measurements
        values = {k: float(v) for k, v in m.items() if k in self.gauges._col}
        self.gauges.set(e.ts_ns // NS_PER_S, e.ts_ns, values)
        if e.ts_ns >= self._totals_ts:  # the latest status holds the pool's totals
            self._totals_ts = e.ts_ns
            self._totals_last.update({k: int(m[k]) for k in _TOTALS if k in m})
        self.pool_state = "running"
        on_pool_status_workers(self, e)

    def _on_alert_state(self, e: Event) -> None:
        self.alert_state.ingest(e.metadata.get("view"), (self.pool.pid, self.pool.started_at_ns))

    def totals(self) -> dict[str, int]:
        """Pool-reported totals since the first pool this monitor saw (restarts added up)."""
        return {k: self._totals_offset[k] + self._totals_last.get(k, 0) for k in _TOTALS}

    # -------------------------------------------------------------------------- reads
    def snapshot(self, window_s: int = 60) -> PoolSnapshot:
        """Everything the overview shows, over the last `window_s` seconds."""
        return queries.snapshot(self, window_s)

    def series(self, metric: str, start_ns: int, end_ns: int, step_s: int) -> Series:
        """One metric over `[start_ns, end_ns)` at `step_s` (or the coarsest kept for that age)."""
        return metric_series.series(self, metric, start_ns, end_ns, step_s)

    def worker(self, worker_id: int, window_s: int = 60) -> WorkerView | None:
        """One worker's row and drill-down, or None if it is unknown or forgotten."""
        return queries.worker(self, worker_id, window_s)

    def error_rates(self, window_s: int) -> ErrorView:
        """Failed / finished over the window, by type and category, with per-type series."""
        return queries.error_rates(self, window_s)

    def summary(self) -> PerformanceSummary:
        """1, 5 and 15-minute figures with every percentile."""
        return queries.summary(self)

    @property
    def nbytes(self) -> int:
        """Bytes held by the fixed arrays (pool-wide, per operation and per worker)."""
        return (
            self.stats.nbytes
            + self.gauges.nbytes
            + self.categories.nbytes
            + self.event_counts.nbytes
            + self.signals.nbytes
            + int(self._recent_ids.nbytes)
            + sum(r.nbytes for r in self.workers.rows.values())
        )
