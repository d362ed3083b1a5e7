"""Synthetic pools whose right answer is known: the advisor's test scenarios.

`StreamGenerator` imitates the demo; the advisor needs pools built to show one problem each
(a queue that grows while workers wait on IO, a worker whose memory climbs, an operation whose
timeout is too tight, ...). `Scenario` produces each second's events and task batch from a
`ScenarioSpec` with a seed, through the same catalog events a real pool emits, so the real
aggregator (and from it the advisor, the app and the snapshot tests) sees exactly what it
would see from such a pool.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from poolmon.core import catalog as cat
from poolmon.core.aggregator import Aggregator
from poolmon.core.events import TASK_ERROR, TASK_OK, TASK_TIMEOUT, Event, TaskBatch
from poolmon.core.snapshot import PoolInfo
from poolmon.testing.clock import ManualClock

NS = 1_000_000_000
MIB = 2**20


@dataclass(frozen=True, slots=True)
class ScenarioOp:
    """One operation: log-normal durations around `median_ms`, failures, an optional timeout.

    A task longer than `timeout_ms` times out (status timeout, a `poolmon.task.timeout` event,
    duration = the limit); `tail_share` of the tasks take `tail_ms` instead (a long tail).
    """

    name: str
    weight: float = 1.0
    median_ms: float = 20.0
    sigma: float = 0.2
    error_rate: float = 0.0
    timeout_ms: float | None = None
    tail_share: float = 0.0
    tail_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class ScenarioSpec:
    """A pool showing chosen problems (every field's default is healthy)."""

    size: int = 4
    tasks_per_s: int = 50
    ops: tuple[ScenarioOp, ...] = (ScenarioOp("work"),)
    utilization: float = 0.7
    queue_start: float = 0.0
    queue_growth_per_s: float = 0.0
    cpu_per_busy: float = 30.0
    runnable_share: float = 0.1
    leak_worker: int = -1
    leak_mib_per_h: float = 0.0
    crash_worker: int = -1
    crash_every_s: int = 0
    bad_worker: int = -1
    bad_worker_error_rate: float = 0.0
    affinity_hits_per_s: int = 0
    affinity_misses_per_s: int = 0
    drops_per_s: int = 0
    seed: int = 1
    name: str = "scenario"
    pid: int = 5151
    extra: dict[str, Any] = field(default_factory=dict)


class Scenario:
    """Each second's events and finished tasks for a `ScenarioSpec` (see module doc)."""

    def __init__(self, spec: ScenarioSpec, start_ns: int) -> None:
        self.spec = spec
        self.start_ns = start_ns
        self.second = 0
        self._rng = random.Random(spec.seed)
        self._task_id = 0
        self._done = 0
        self._failed = 0
        self._dropped = 0
        self._pids = {w: spec.pid + 1 + w for w in range(spec.size)}
        total = sum(op.weight for op in spec.ops)
        self._cum = [sum(o.weight for o in spec.ops[: i + 1]) / total for i in range(len(spec.ops))]

    def pool_info(self) -> PoolInfo:
        """The handshake identity."""
        return PoolInfo(self.spec.name, self.spec.pid, "testhost", self.start_ns, 1)

    def seconds(self, n: int) -> Iterator[tuple[int, list[Event], TaskBatch]]:
        """The next `n` seconds as `(second_end_ns, events, batch)`."""
        for _ in range(n):
            t = self.second
            self.second += 1
            base = self.start_ns + t * NS
            events: list[Event] = [] if t else self._startup(base)
            rows = self._tasks(base, events)
            events.extend(self._periodic(t, base + NS - 1))
            if self.spec.crash_every_s and t and t % self.spec.crash_every_s == 0:
                events.extend(self._crash(base + NS // 2))
            events.sort(key=lambda e: e.ts_ns)
            yield base + NS, events, TaskBatch.from_rows(rows)

    def _meta(self, wid: int | None = None) -> dict[str, Any]:
        meta: dict[str, Any] = {"pool": self.spec.name}
        if wid is not None:
            meta["worker_id"] = wid
            meta["pid"] = self._pids.get(wid, self.spec.pid) if wid >= 0 else self.spec.pid
        return meta

    def _startup(self, ts: int) -> list[Event]:
        spec = self.spec
        out = [
            Event(
                cat.POOL_INIT,
                ts,
                {"size": spec.size, "min_size": 1, "max_size": 64},
                {"pool": spec.name, "pid": spec.pid, "host": "testhost"},
            )
        ]
        for w in range(spec.size):
            out.append(Event(cat.WORKER_SPAWN, ts + 1, {}, {**self._meta(w), "reason": "initial"}))
            out.append(Event(cat.WORKER_READY, ts + 2, {"startup_ns": 30_000_000}, self._meta(w)))
        return out

    def _tasks(self, base: int, events: list[Event]) -> list[tuple[Any, ...]]:
        spec, rng = self.spec, self._rng
        rows: list[tuple[Any, ...]] = []
        n = spec.tasks_per_s
        for k in range(n):
            r = rng.random()
            op = spec.ops[next(i for i, c in enumerate(self._cum) if r <= c)]
            if op.tail_share and rng.random() < op.tail_share:
                dur = op.tail_ms * 1e6 * rng.uniform(0.9, 1.1)
            else:
                dur = rng.lognormvariate(math.log(op.median_ms * 1e6), op.sigma)
            wid = rng.randrange(spec.size)
            status, error = TASK_OK, ""
            self._task_id += 1
            if op.timeout_ms is not None and dur >= op.timeout_ms * 1e6:
                dur, status, error = op.timeout_ms * 1e6, TASK_TIMEOUT, ""
                events.append(
                    Event(
                        cat.TASK_TIMEOUT,
                        base + int(k / n * NS),
                        {"duration_ns": int(dur), "timeout_ns": int(op.timeout_ms * 1e6)},
                        {**self._meta(wid), "task_id": self._task_id, "op": op.name},
                    )
                )
            elif rng.random() < op.error_rate or (
                wid == spec.bad_worker and rng.random() < spec.bad_worker_error_rate
            ):
                status, error = TASK_ERROR, "ValueError"
            start = base + int(k / n * NS) - int(dur)
            rows.append((self._task_id, wid, op.name, start, int(dur), 100_000, status, error))
            self._done += 1
            self._failed += status != TASK_OK
        return rows

    def _periodic(self, t: int, ts: int) -> list[Event]:
        spec, rng = self.spec, self._rng
        busy = min(spec.size, max(0, round(spec.utilization * spec.size + rng.gauss(0, 0.3))))
        queue = max(0, round(spec.queue_start + spec.queue_growth_per_s * t + rng.gauss(0, 0.5)))
        out = [
            Event(
                cat.POOL_STATUS,
                ts,
                {
                    "size": spec.size,
                    "busy": busy,
                    "idle": spec.size - busy,
                    "queue_depth": queue,
                    "utilization": busy / spec.size,
                    "tasks_submitted": self._done + queue,
                    "tasks_done": self._done,
                    "tasks_failed": self._failed,
                },
                self._meta(),
            )
        ]
        for w in range(spec.size):
            leak = spec.leak_mib_per_h * MIB * t / 3600 if w == spec.leak_worker else 0.0
            cpu = spec.cpu_per_busy * busy / spec.size * rng.uniform(0.9, 1.1)
            out.append(
                Event(
                    cat.RESOURCE_PROCESS,
                    ts,
                    {"cpu_percent": round(cpu, 1), "rss_bytes": int(40 * MIB + leak)},
                    {
                        **self._meta(w),
                        "status": "running"
                        if rng.random() < spec.runnable_share * busy / spec.size
                        else "sleeping",
                    },
                )
            )
        if spec.affinity_hits_per_s or spec.affinity_misses_per_s:
            out.append(
                Event(
                    cat.SESSION_AFFINITY,
                    ts,
                    {
                        "hits": spec.affinity_hits_per_s,
                        "misses": spec.affinity_misses_per_s,
                        "expired": 0,
                    },
                    self._meta(),
                )
            )
        self._dropped += spec.drops_per_s
        out.append(
            Event(cat.RESOURCE_INTERNALS, ts, {"events_dropped": self._dropped}, self._meta())
        )
        return out

    def _crash(self, ts: int) -> list[Event]:
        wid = self.spec.crash_worker
        meta = self._meta(wid)
        out = [
            Event(
                cat.WORKER_EXIT,
                ts,
                {"lifetime_ns": 5 * NS, "tasks_done": 10},
                {**meta, "reason": "crash", "exit_code": None, "signal": 11},
            )
        ]
        self._pids[wid] += 100
        new = self._meta(wid)
        out.append(Event(cat.WORKER_SPAWN, ts + 1_000_000, {}, {**new, "reason": "replace"}))
        out.append(Event(cat.WORKER_READY, ts + 2_000_000, {"startup_ns": 1_000_000}, new))
        return out


def play(spec: ScenarioSpec, seconds: int, clock: ManualClock | None = None) -> Aggregator:
    """Run `seconds` of the scenario through a real aggregator under a manual clock."""
    clock = clock or ManualClock()
    agg = Aggregator(clock)
    feed(agg, clock, Scenario(spec, clock.time_ns()), seconds)
    return agg


def feed(agg: Aggregator, clock: ManualClock, scenario: Scenario, seconds: int) -> None:
    """Continue `scenario` into `agg` for `seconds`, moving the clock to each second's end."""
    if scenario.second == 0:
        agg.set_pool_info(scenario.pool_info())
    for end_ns, events, batch in scenario.seconds(seconds):
        step = end_ns - clock.time_ns()
        if step > 0:
            clock.advance(step / 1e9)
        for e in events:
            agg.ingest_event(e)
        if len(batch):
            agg.ingest_tasks(batch)
