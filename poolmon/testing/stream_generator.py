"""`StreamGenerator`: a seeded, reproducible imitation of the demo pool's telemetry, per second.

Snapshot tests, pilot tests and the app benchmark need a pool that behaves like the demo (fast
and slow operations, latency spikes, failing tasks of a few error types, a leaking worker, a
crash and its replacement) but is byte-for-byte reproducible: the events and task batch of each
second follow from the seed and the stream's own start time alone.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from poolmon.core import catalog as cat
from poolmon.core.events import (
    TASK_CRASHED,
    TASK_ERROR,
    TASK_OK,
    TASK_TIMEOUT,
    Event,
    TaskBatch,
)
from poolmon.core.snapshot import PoolInfo

NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Operation:
    """One kind of task: log-normal latency around `median_ms`, and how often it fails."""

    name: str
    weight: float
    median_ms: float
    sigma: float = 0.4
    error_rate: float = 0.0
    error_types: tuple[str, ...] = ()


DEMO_OPERATIONS: tuple[Operation, ...] = (
    Operation("resize_image", 5.0, 2.0, 0.35),
    Operation("score_model", 2.0, 18.0, 0.45, 0.01, ("ValueError",)),
    Operation("fetch_profile", 3.0, 0.6, 0.8, 0.03, ("TimeoutError", "ConnectionError")),
    Operation("render_report", 0.5, 120.0, 0.3, 0.02, ("KeyError",)),
)
"""The demo's operations: fast, medium, flaky IO, slow."""


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """What the generated pool looks like.

    Attributes:
        seed: Random seed; the same seed and start time give the same stream.
        workers: Pool size.
        tasks_per_s: Tasks finished per second (before spikes).
        operations: The mix of operations.
        spike_every_s: Every this many seconds, one second of 8x latency (0: never).
        leaking_worker: Worker whose memory grows ~200 KiB/s (-1: none).
        crash_at_s: Second at which worker 1 crashes and is replaced (-1: never).
        name, pid, host: The pool's identity.
    """

    seed: int = 7
    workers: int = 8
    tasks_per_s: int = 400
    operations: tuple[Operation, ...] = DEMO_OPERATIONS
    spike_every_s: int = 23
    leaking_worker: int = 3
    crash_at_s: int = 41
    name: str = "demo"
    pid: int = 4242
    host: str = "testhost"


class StreamGenerator:
    """Produces each second's events and task batch for a `StreamSpec`, in order.

    Args:
        spec: The pool to imitate.
        start_ns: Wall-clock time of second 0 (the pool's start).
    """

    def __init__(self, spec: StreamSpec, start_ns: int) -> None:
        self.spec = spec
        self.start_ns = start_ns
        self.second = 0
        """The next second to generate."""
        self._rng = random.Random(spec.seed)
        self._task_id = 0
        self._pids = {w: spec.pid + 1 + w for w in range(spec.workers)}
        self._restarts = dict.fromkeys(range(spec.workers), 0)
        self._done = 0
        self._failed = 0
        self._states = dict.fromkeys(range(spec.workers), "ready")
        self._last_start: dict[int, int] = {}
        """Per worker: when its latest task started (a worker turns busy when a task starts)."""
        weights = [op.weight for op in spec.operations]
        total = sum(weights)
        self._cumulative = [sum(weights[: i + 1]) / total for i in range(len(weights))]

    def pool_info(self) -> PoolInfo:
        """The identity a handshake would report."""
        spec = self.spec
        return PoolInfo(spec.name, spec.pid, spec.host, self.start_ns, protocol_version=1)

    def next_second(self) -> tuple[list[Event], TaskBatch]:
        """Generate the next second: its events (in time order) and its finished tasks."""
        t = self.second
        self.second += 1
        base = self.start_ns + t * NS
        events: list[Event] = []
        if t == 0:
            events.extend(self._startup(base))
        rows, busy_ns = self._tasks(t, base)
        if t == self.spec.crash_at_s and self.spec.workers > 1:
            events.extend(self._crash(base + NS // 2, rows))
        events.extend(self._periodic(t, base + NS - 1, busy_ns, len(rows)))
        events.sort(key=lambda e: e.ts_ns)
        return events, TaskBatch.from_rows(rows)

    def seconds(self, n: int) -> Iterator[tuple[int, list[Event], TaskBatch]]:
        """Generate `n` seconds, yielding `(second_end_ns, events, batch)`."""
        for _ in range(n):
            t = self.second
            events, batch = self.next_second()
            yield self.start_ns + (t + 1) * NS, events, batch

    # -- pieces ------------------------------------------------------------------------------

    def _meta(self, worker_id: int | None = None) -> dict[str, Any]:
        meta: dict[str, Any] = {"pool": self.spec.name}
        if worker_id is not None:
            meta["worker_id"] = worker_id
            meta["pid"] = (
                self._pids.get(worker_id, self.spec.pid) if worker_id >= 0 else self.spec.pid
            )
        return meta

    def _startup(self, ts: int) -> list[Event]:
        spec = self.spec
        out = [
            Event(
                cat.POOL_INIT,
                ts,
                {"size": spec.workers, "min_size": 1, "max_size": 64, "startup_ns": 40_000_000},
                {
                    "pool": spec.name,
                    "pid": spec.pid,
                    "host": spec.host,
                    "start_method": "forkserver",
                    "started_at_ns": self.start_ns,
                },
            )
        ]
        for w in range(spec.workers):
            out.append(Event(cat.WORKER_SPAWN, ts + 1, {}, {**self._meta(w), "reason": "initial"}))
            out.append(Event(cat.WORKER_READY, ts + 2, {"startup_ns": 30_000_000}, self._meta(w)))
            out.append(
                Event(
                    cat.WORKER_STATE,
                    ts + 3,
                    {"previous_state_ns": 30_000_000},
                    {**self._meta(w), "from": "starting", "to": "ready", "reason": "started"},
                )
            )
        return out

    def _pick_op(self) -> int:
        r = self._rng.random()
        return next(i for i, c in enumerate(self._cumulative) if r <= c)

    def _tasks(
        self, t: int, base: int
    ) -> tuple[list[tuple[int, int, str, int, int, int, int, str]], dict[int, int]]:
        spec = self.spec
        rng = self._rng
        spike = spec.spike_every_s > 0 and t % spec.spike_every_s == spec.spike_every_s - 1
        wave = 1.0 + 0.35 * math.sin(t / 9.0)
        n = max(1, int(spec.tasks_per_s * wave * (0.55 if spike else 1.0)))
        rows: list[tuple[int, int, str, int, int, int, int, str]] = []
        busy_ns = dict.fromkeys(range(spec.workers), 0)
        for k in range(n):
            op = spec.operations[self._pick_op()]
            duration = int(rng.lognormvariate(math.log(op.median_ms * 1e6), op.sigma))
            if spike:
                duration *= 8
            status, error = TASK_OK, ""
            if op.error_rate and rng.random() < op.error_rate:
                error = rng.choice(op.error_types)
                status = (
                    TASK_TIMEOUT if error == "TimeoutError" and rng.random() < 0.3 else TASK_ERROR
                )
            worker = rng.randrange(spec.workers)
            start = base + int(k / n * NS)
            wait = int(rng.expovariate(1 / 200_000) * (6 if spike else 1))
            self._task_id += 1
            rows.append((self._task_id, worker, op.name, start, duration, wait, status, error))
            self._last_start[worker] = start
            busy_ns[worker] += duration
            self._done += 1
            self._failed += status != TASK_OK
        return rows, busy_ns

    def _crash(
        self, ts: int, rows: list[tuple[int, int, str, int, int, int, int, str]]
    ) -> list[Event]:
        victim = 1
        old_pid = self._pids[victim]
        self._task_id += 1
        rows.append(
            (
                self._task_id,
                victim,
                "render_report",
                ts - 300_000_000,
                300_000_000,
                0,
                TASK_CRASHED,
                "WorkerCrashed",
            )
        )
        self._failed += 1
        self._done += 1
        meta = self._meta(victim)
        out = [
            Event(
                cat.WORKER_EXIT,
                ts,
                {"lifetime_ns": ts - self.start_ns, "tasks_done": 1000},
                {**meta, "reason": "crash", "exit_code": None, "signal": 9},
            )
        ]
        self._pids[victim] = old_pid + 100
        self._restarts[victim] += 1
        new = self._meta(victim)
        out.append(Event(cat.WORKER_SPAWN, ts + 1_000_000, {}, {**new, "reason": "replace"}))
        out.append(Event(cat.WORKER_READY, ts + 40_000_000, {"startup_ns": 39_000_000}, new))
        return out

    def _periodic(self, t: int, ts: int, busy_ns: dict[int, int], finished: int) -> list[Event]:
        spec = self.spec
        busy = sum(1 for w in range(spec.workers) if busy_ns[w] > NS * 0.5)
        utilization = min(1.0, sum(busy_ns.values()) / (spec.workers * NS))
        queue = max(0, int(self._rng.gauss(3, 2)))
        out = []
        for w in range(spec.workers):
            state = "busy" if busy_ns[w] > NS * 0.5 else "ready"
            if state != self._states[w]:
                meta = {**self._meta(w), "from": self._states[w], "to": state, "reason": "load"}
                at = ts - 1
                if state == "busy":  # stamped when its task started, as a pool reports it
                    meta["op"] = spec.operations[w % len(spec.operations)].name
                    at = min(at, self._last_start.get(w, at))
                out.append(Event(cat.WORKER_STATE, at, {"previous_state_ns": NS}, meta))
                self._states[w] = state
        out += [
            Event(
                cat.POOL_STATUS,
                ts,
                {
                    "size": spec.workers,
                    "busy": busy,
                    "idle": spec.workers - busy,
                    "queue_depth": queue,
                    "utilization": utilization,
                    "sessions": 12,
                    "tasks_submitted": self._done + queue,
                    "tasks_done": self._done,
                    "tasks_failed": self._failed,
                },
                self._meta(),
            )
        ]
        for w in range(-1, spec.workers):
            leak = (t * 200 * 1024) if w == spec.leaking_worker else 0
            cpu = 3.0 if w < 0 else min(100.0, busy_ns.get(w, 0) / NS * 100)
            out.append(
                Event(
                    cat.RESOURCE_PROCESS,
                    ts,
                    {
                        "cpu_percent": round(cpu, 1),
                        "rss_bytes": (60 if w < 0 else 38) * 1024 * 1024 + leak,
                        "fds": 24 if w < 0 else 9,
                        "threads": 4 if w < 0 else 1,
                    },
                    {**self._meta(w), "status": "running"},
                )
            )
        out.append(
            Event(
                cat.RESOURCE_MACHINE,
                ts,
                {"cpu_percent": 46.0, "load1": 1.72, "memory_percent": 41.0, "swap_percent": 0.0},
                self._meta(),
            )
        )
        return out
