"""`PoolFeed`: a synthetic pool, second by second, feeding an aggregator as a pool's insight is fed.

Alert rules must be tested (and benchmarked) against the same aggregator a pool's insight
keeps, fed the same way: plain events as they happen (`pool.status` every second, resource
samples, worker spawns and exits) and each second's task *rollup* once the endpoint's history
closes it, `close_grace_s` later (`poolmon.runtime.insight`). `PoolFeed` produces such a pool
from knobs a scenario turns second by second - per-operation rate, latency and error rate,
queue depth, utilization, per-worker RSS, worker crashes, dropped telemetry - and pushes it
through `RollupBuilder` and `Aggregator.ingest_rollup`/`ingest_event` under a `ManualClock`.

Tasks are generated with numpy (log-normal run times around each operation's median), so a
64-worker, 20-operation pool at thousands of tasks a second costs milliseconds per second.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from poolmon.core import catalog as C
from poolmon.core.aggregator import Aggregator
from poolmon.core.events import TASK_ERROR, TASK_OK, Event, TaskBatch
from poolmon.core.rollup import RollupBuilder
from poolmon.testing.clock import ManualClock

NS = 1_000_000_000


@dataclass(slots=True)
class OpKnobs:
    """One operation: tasks per second, median run time (s), log-normal sigma, failure ratio."""

    rate: float
    median_s: float
    sigma: float = 0.3
    error_rate: float = 0.0


@dataclass(slots=True)
class PoolKnobs:
    """What the synthetic pool does this second (change fields between seconds).

    `utilization` None derives busy workers from the tasks' run time; `rss` gives each worker's
    RSS in bytes at second `t`; `exits` lists workers that crash (and are replaced) this second.
    """

    workers: int = 8
    ops: dict[str, OpKnobs] = field(default_factory=lambda: {"work": OpKnobs(100, 0.02)})
    queue_depth: float = 0.0
    utilization: float | None = None
    rss: Callable[[int, int], float] = lambda worker, t: 40 * 2**20
    cpu_percent: float = 20.0
    exits: tuple[int, ...] = ()
    exit_reason: str = "crash"
    dropped_total: int = 0
    status_events: bool = True


class PoolFeed:
    """A synthetic pool feeding an aggregator through the real ingest paths (see module doc).

    Args:
        knobs: The pool's behaviour; mutate it (or its ops) between seconds.
        seed: Random seed (reproducible streams).
        close_grace_s: Seconds after which a second's tasks arrive as a rollup (the endpoint's
            history closes a second 0.5 s after it ends and the next tick follows within ~0.1 s;
            the default 2 s here is a deliberately slower pool, so the rules are tested lagged).
        clock: The clock of the aggregator (a fresh `ManualClock` by default).
    """

    def __init__(
        self,
        knobs: PoolKnobs | None = None,
        *,
        seed: int = 1,
        close_grace_s: int = 2,
        clock: ManualClock | None = None,
        name: str = "test",
    ) -> None:
        self.knobs = knobs or PoolKnobs()
        self.clock = clock or ManualClock()
        self.agg = Aggregator(self.clock)
        self.name = name
        self.t = 0
        self._rng = np.random.default_rng(seed)
        self._builder = RollupBuilder()
        self._grace = close_grace_s
        self._task_id = 0
        self._started = False
        self.start_ns = self.clock.time_ns()

    @property
    def now_ns(self) -> int:
        """The wall clock now (the end of the last generated second)."""
        return self.clock.time_ns()

    def step(self) -> int:
        """Generate one second, feed it, advance the clock to its end; returns the time (ns)."""
        k, agg = self.knobs, self.agg
        base = self.clock.time_ns()
        events: list[Event] = []
        if not self._started:
            self._started = True
            events.append(Event(C.POOL_INIT, base, {"size": k.workers}, self._meta(pid=1000)))
            events += [
                Event(C.WORKER_SPAWN, base + 1, {}, {**self._meta(w), "reason": "initial"})
                for w in range(k.workers)
            ]
        batch, busy_s = self._tasks(base)
        for w in k.exits:
            at = base + NS // 2
            events.append(
                Event(
                    C.WORKER_EXIT,
                    at,
                    {"lifetime_ns": NS},
                    {**self._meta(w), "reason": k.exit_reason},
                )
            )
            events.append(
                Event(C.WORKER_SPAWN, at + 1000, {}, {**self._meta(w), "reason": "replace"})
            )
        end = base + NS - 1
        util = k.utilization if k.utilization is not None else min(1.0, busy_s / max(1, k.workers))
        busy = round(util * k.workers)
        if k.status_events:
            events.append(
                Event(
                    C.POOL_STATUS,
                    end,
                    {
                        "size": k.workers,
                        "busy": busy,
                        "idle": k.workers - busy,
                        "queue_depth": k.queue_depth,
                        "utilization": util,
                    },
                    self._meta(),
                )
            )
            for w in range(k.workers):
                events.append(
                    Event(
                        C.RESOURCE_PROCESS,
                        end,
                        {"rss_bytes": int(k.rss(w, self.t)), "cpu_percent": k.cpu_percent},
                        self._meta(w),
                    )
                )
            events.append(
                Event(C.RESOURCE_INTERNALS, end, {"events_dropped": k.dropped_total}, self._meta())
            )
        for e in sorted(events, key=lambda e: e.ts_ns):
            agg.ingest_event(e)
        if len(batch):
            self._builder.add(batch)
        self.clock.advance(1)
        now = self.clock.time_ns()
        for rollup in self._builder.close_before(now - self._grace * NS):
            agg.ingest_rollup(rollup)
        self.t += 1
        return now

    def _meta(self, worker: int | None = None, pid: int | None = None) -> dict[str, object]:
        meta: dict[str, object] = {"pool": self.name}
        if pid is not None:
            meta["pid"] = pid
        if worker is not None:
            meta["worker_id"] = worker
            meta["pid"] = 2000 + worker
        return meta

    def _tasks(self, base: int) -> tuple[TaskBatch, float]:
        k, rng = self.knobs, self._rng
        names = tuple(k.ops)
        parts = []
        busy_s = 0.0
        for i, name in enumerate(names):
            o = k.ops[name]
            n = int(rng.poisson(o.rate)) if o.rate > 0 else 0
            if n == 0:
                continue
            dur = rng.lognormal(np.log(o.median_s * 1e9), o.sigma, n).astype(np.int64)
            busy_s += float(dur.sum()) / 1e9
            failed = rng.random(n) < o.error_rate
            parts.append((np.full(n, i), dur, failed))
        if not parts:
            return TaskBatch(ops=names), busy_s
        op = np.concatenate([p[0] for p in parts])
        dur = np.concatenate([p[1] for p in parts])
        failed = np.concatenate([p[2] for p in parts])
        n = len(op)
        ids = np.arange(self._task_id + 1, self._task_id + 1 + n)
        self._task_id += n
        end = base + np.sort(rng.integers(0, NS - 1, n))
        status = np.where(failed, TASK_ERROR, TASK_OK)

        def col(a: np.ndarray) -> array[int]:
            return array("q", np.asarray(a, dtype=np.int64).tobytes())

        batch = TaskBatch(
            ops=names,
            error_types=("", "ValueError"),
            task_id=col(ids),
            worker_id=col(rng.integers(0, max(1, k.workers), n)),
            op=col(op),
            start_ns=col(end - dur),
            duration_ns=col(dur),
            wait_ns=col(rng.integers(0, 1_000_000, n)),
            status=col(status),
            error_type=col(failed.astype(np.int64)),
        )
        return batch, busy_s
