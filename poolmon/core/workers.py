"""Per-worker state: identity, lifecycle, resources, recent tasks and windowed latency.

Worker rows come from `worker.spawn/ready/state/exit` events and `resource.process` samples;
their task counts and latency come from TaskBatches. Everything per worker is bounded:
`RECENT_TASKS` recent tasks, `STATE_HISTORY` state changes (busy/ready churn collapsed
into one entry per run, see `WorkerRecord.record_state`), `EXITS` exits, and time series in
the coarse entity tiers (`poolmon.core.ring.ENTITY_TIERS`). A worker that exited is forgotten
`forget_after_s` after its exit; the table also caps the number of rows (`max_workers`),
evicting the longest-gone exited worker first, then the least recently heard one, and keeps
at most `max_exited` exited workers (`MAX_EXITED_WORKERS`, the longest-gone go first, counted
in `evicted_exited`): a poolmon pool gives every replacement a fresh id, so a pool that
replaces workers often (a crash loop, `max_tasks_per_worker=1`) would otherwise hold up to
`max_workers` rows of ~170 KiB each, in the pool's own aggregator and in every monitor.

A spawn for a known id counts as a restart of that row (for sources that reuse ids).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from poolmon.core.catalog import STATE_FLIP_DELAY_NS
from poolmon.core.distring import DistRing
from poolmon.core.ring import ENTITY_TIERS, WORKER_SERIES_TIERS, Tiers
from poolmon.core.snapshot import StateChange, WorkerExit

RECENT_TASKS = 20
"""Recent tasks kept per worker."""
STATE_HISTORY = 32
"""State changes kept per worker."""
EXITS = 8
"""Exits kept per worker."""

CHURN_STATES = frozenset({"ready", "busy"})
"""States a healthy worker flips between once per task; a flip is churn, not history."""
CHURN_PREFIX = "\u00d7"
"""`reason` of a collapsed run of churn: the multiplication sign then the number of flips."""

RecentTask = tuple[int, str, int, int, str, str]
"""`TaskRecord` fields as a plain tuple: cheap to keep, turned into a record when read."""


class WorkerRecord:
    """Everything the monitor knows about one worker id."""

    def __init__(self, worker_id: int, now_ns: int) -> None:
        self.worker_id = worker_id
        self.pid = 0
        self.state = "unknown"
        self.state_since_ns = now_ns
        self.current_op: str | None = None
        self.task_started_ns: int | None = None
        """Wall-clock start of `current_op`, when the pool reported it."""
        self.alive = True
        self.exited_at_ns: int | None = None
        self.last_heard_ns = now_ns
        self.spawns = 0
        self.pool_restarts: int | None = None
        """The pool's own count of replacements in this worker's slot, when it reports one."""
        self.slot: int | None = None
        """The pool's slot this worker runs in (from its spawn or the pool's status rows)."""
        self.tasks_done = 0
        self.tasks_failed = 0
        self.cpu_percent: float | None = None
        self.rss_bytes: int | None = None
        self.fds: int | None = None
        self.threads: int | None = None
        self.recent: deque[RecentTask] = deque(maxlen=RECENT_TASKS)
        self.history: deque[StateChange] = deque(maxlen=STATE_HISTORY)
        self.exits: deque[WorkerExit] = deque(maxlen=EXITS)
        self.latency = DistRing(ENTITY_TIERS)
        self.counts = Tiers(WORKER_SERIES_TIERS, (2,), np.int64)
        """Per slot: tasks finished, tasks failed (5-s slots for a minute: the chart's whole
        minute, see `WORKER_SERIES_TIERS`)."""
        self.rss = Tiers(WORKER_SERIES_TIERS, (2,), np.float64)
        """Per slot: RSS sum and sample count (the same slots as `counts`)."""

    @property
    def restarts(self) -> int:
        """The pool's count for this worker's slot; else spawns after the first (an id reused).

        A poolmon pool gives each replacement a new worker id, so only the pool, which
        counts per slot, knows how often a slot's worker was replaced.
        """
        if self.pool_restarts is not None:
            return self.pool_restarts
        return max(0, self.spawns - 1)

    @property
    def nbytes(self) -> int:
        """Fixed array footprint (deques add at most ~60 small objects)."""
        return self.latency.nbytes + self.counts.nbytes + self.rss.nbytes

    def record_state(self, at_ns: int, to: str, reason: str = "", flips: int = 1) -> None:
        """Move to state `to`, keeping the history meaningful and bounded.

        A worker at low load flips ready -> busy -> ready once per task; kept one by one,
        those flips would push every meaningful change (starting, degraded, stopping,
        recycles) out of the bounded history within seconds. So consecutive flips between
        `CHURN_STATES` collapse into ONE entry, `StateChange(first_flip_ns, from, to,
        CHURN_PREFIX + str(flips))` where from/to are the latest flip's; any other change
        ends the run, and the next flip starts a new one. `flips` > 1: the pool sent several
        flips as one event (runtime.pool.flips), ending in `to`, which may be the state the
        worker was already in (busy -> ready -> busy).
        """
        churn = self.state in CHURN_STATES and to in CHURN_STATES
        if to == self.state and not (churn and flips > 1):
            return
        if churn:
            last = self.history[-1] if self.history else None
            run = churn_count(last) if last is not None and last.to_state == self.state else None
            if last is not None and run is not None:
                self.history[-1] = StateChange(
                    last.at_ns, self.state, to, f"{CHURN_PREFIX}{run + flips}"
                )
            else:
                self.history.append(StateChange(at_ns, self.state, to, f"{CHURN_PREFIX}{flips}"))
        else:
            self.history.append(StateChange(at_ns, self.state, to, reason))
        self.state = to
        self.state_since_ns = at_ns

    def drop_after(self, second: int) -> None:
        """Forget slots after `second` (clock went backwards)."""
        self.latency.drop_after(second)
        self.counts.drop_after(second)
        self.rss.drop_after(second)


def churn_count(change: StateChange) -> int | None:
    """The flips a collapsed busy/ready entry stands for, or None for a real transition."""
    if (
        change.from_state in CHURN_STATES
        and change.to_state in CHURN_STATES
        and change.reason.startswith(CHURN_PREFIX)
        and change.reason[len(CHURN_PREFIX) :].isdigit()
    ):
        return int(change.reason[len(CHURN_PREFIX) :])
    return None


MAX_EXITED_WORKERS = 64
"""Exited workers a table keeps by default (their exits still count in alert windows)."""


class WorkerTable:
    """The bounded set of `WorkerRecord`s (see module doc)."""

    def __init__(
        self, forget_after_s: float, max_workers: int, max_exited: int = MAX_EXITED_WORKERS
    ) -> None:
        if forget_after_s < 0:
            raise ValueError(f"forget_workers_after_s must be >= 0, got {forget_after_s}")
        if max_workers < 1:
            raise ValueError(f"max_workers must be >= 1, got {max_workers}")
        self.forget_after_ns = int(forget_after_s * 1e9)
        self.max_workers = max_workers
        self.max_exited = max(0, max_exited)
        self.rows: dict[int, WorkerRecord] = {}
        self.evicted_exited = 0
        """Exited workers dropped before `forget_after_s` because `max_exited` were held."""
        self.heard_until_ns = 0
        """The newest event time received (wall ns): the stream is complete up to about here.

        Every busy/ready flip that happened `STATE_FLIP_DELAY_NS` (and the pool's tick
        lateness) before it has been heard of, so a task that started well before is known
        to be the worker's current one, and a younger one may not be (`task_age_at_most`).
        """

    def heard(self, ts_ns: int) -> None:
        """An event of this time was received."""
        if ts_ns > self.heard_until_ns:
            self.heard_until_ns = ts_ns

    def rewind(self, now_ns: int) -> None:
        """The wall clock went back: a horizon in the "future" would call young tasks exact."""
        self.heard_until_ns = min(self.heard_until_ns, now_ns)

    def task_age_at_most(self, started_ns: int) -> bool:
        """True: a task that started then may have been followed by others not heard of yet.

        Its age is then an upper bound. A flip leaves within a tick of the pool's supervisor,
        which may run up to a tick late: so every flip up to `2 * STATE_FLIP_DELAY_NS` before
        the horizon has been heard of. A task that started twice that long before it has
        been seen running for at least that long, so it is not one of a fast worker's tasks;
        its age is exact, as of the stream (it may have ended within the monitor's lag, as
        any figure may).
        """
        return started_ns > self.heard_until_ns - 4 * STATE_FLIP_DELAY_NS

    def get(self, worker_id: int, now_ns: int) -> WorkerRecord:
        """The row for `worker_id`, created (evicting if full) on first sight."""
        rec = self.rows.get(worker_id)
        if rec is None:
            if len(self.rows) >= self.max_workers:
                self._evict_one()
            rec = self.rows[worker_id] = WorkerRecord(worker_id, now_ns)
        rec.last_heard_ns = max(rec.last_heard_ns, now_ns)
        return rec

    def forget(self, now_ns: int) -> None:
        """Drop workers that exited more than `forget_after_s` ago, and beyond `max_exited`."""
        dead = [r for r in self.rows.values() if not r.alive]
        if not dead:
            return
        cutoff = now_ns - self.forget_after_ns
        keep = []
        for r in dead:
            if r.exited_at_ns is not None and r.exited_at_ns <= cutoff:
                del self.rows[r.worker_id]
            else:
                keep.append(r)
        if len(keep) > self.max_exited:
            keep.sort(key=lambda r: (r.exited_at_ns or r.last_heard_ns, r.worker_id))
            for rec in keep[: len(keep) - self.max_exited]:
                del self.rows[rec.worker_id]
                self.evicted_exited += 1

    def clear(self) -> None:
        """Forget every worker (the pool process was replaced)."""
        self.rows.clear()
        self.heard_until_ns = 0

    def _evict_one(self) -> None:
        dead = [r for r in self.rows.values() if not r.alive]
        pool = dead or list(self.rows.values())
        victim = min(pool, key=lambda r: (r.exited_at_ns or r.last_heard_ns, r.worker_id))
        del self.rows[victim.worker_id]
