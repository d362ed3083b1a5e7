"""`capture_events()`: record telemetry for assertions in tests.

Why: every part of poolmon (and code built on it) needs to assert "this event fired with these
fields". Attaching a handler by hand in each test is repetitive and easy to leak; this context
manager attaches a per-event handler and a batch handler under unique ids, collects everything
thread-safely (pool events arrive from the pool's IO thread), lets a test wait for an event
that is still on its way, and always detaches on exit.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

from poolmon.core.events import STATUS_NAMES, Event, TaskBatch
from poolmon.runtime.telemetry.registry import DEFAULT_TELEMETRY, Telemetry

_ids = itertools.count(1)


class TaskRow(NamedTuple):
    """One finished task from a captured `TaskBatch`, with names resolved."""

    pool: Any
    task_id: int
    worker_id: int
    op: str
    start_ns: int
    duration_ns: int
    wait_ns: int
    status: str
    error_type: str


class Captured:
    """What a `capture_events` block saw: `events` (in arrival order), `tasks`, `batches`."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.events: list[Event] = []
        self.tasks: list[TaskRow] = []
        self.batches: list[tuple[TaskBatch, Mapping[str, Any]]] = []

    def _on_event(
        self, name: str, measurements: Mapping[str, int | float], metadata: Mapping[str, Any]
    ) -> None:
        ts = metadata.get("ts_ns")
        event = Event(
            name,
            ts if isinstance(ts, int) else time.time_ns(),
            dict(measurements),
            dict(metadata),
        )
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def _on_batch(self, batch: TaskBatch, metadata: Mapping[str, Any]) -> None:
        pool = metadata.get("pool")
        rows = [
            TaskRow(pool, tid, wid, op, start, dur, wait, STATUS_NAMES[status], err)
            for tid, wid, op, start, dur, wait, status, err in batch.rows()
        ]
        with self._cond:
            self.batches.append((batch, dict(metadata)))
            self.tasks.extend(rows)
            self._cond.notify_all()

    def names(self) -> list[str]:
        """Names of the captured events, in order."""
        with self._cond:
            return [e.name for e in self.events]

    def of(self, name: str) -> list[Event]:
        """Every captured event called `name` (exactly), in order."""
        with self._cond:
            return [e for e in self.events if e.name == name]

    def wait_for(
        self,
        name: str,
        predicate: Callable[[Event], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 10.0,
    ) -> list[Event]:
        """Block until `count` events called `name` (matching `predicate`) have arrived.

        Returns them. Raises TimeoutError naming what did arrive, so a failing test explains
        itself.
        """

        def matching() -> list[Event]:
            return [
                e for e in self.events if e.name == name and (predicate is None or predicate(e))
            ]

        deadline = time.monotonic() + timeout
        with self._cond:
            while len(found := matching()) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = sorted({e.name for e in self.events})
                    raise TimeoutError(
                        f"waited {timeout}s for {count} x {name!r}, got {len(found)}; "
                        f"captured names: {seen}"
                    )
                self._cond.wait(left)
            return found

    def wait_for_tasks(self, count: int, *, timeout: float = 10.0) -> list[TaskRow]:
        """Block until at least `count` task rows have arrived; return them all."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.tasks) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"waited {timeout}s for {count} task rows, got {len(self.tasks)}"
                    )
                self._cond.wait(left)
            return list(self.tasks)


@contextmanager
def capture_events(
    prefixes: str | Sequence[str] = "",
    *,
    telemetry: Telemetry | None = None,
    tasks: bool = True,
) -> Iterator[Captured]:
    """Collect events matching `prefixes` ('' = all) and, if `tasks`, every task batch.

    Example::

        with capture_events("poolmon.worker") as captured:
            ...
        assert captured.of("poolmon.worker.exit")[0].metadata["reason"] == "crash"

    Events re-emitted from workers keep the worker's time (metadata ``ts_ns``) as `Event.ts_ns`.
    """
    tel = DEFAULT_TELEMETRY if telemetry is None else telemetry
    captured = Captured()
    base = f"poolmon.testing.capture-{next(_ids)}"
    tel.attach(base, prefixes, captured._on_event)
    try:
        if tasks:
            tel.attach_batch(base + ".tasks", captured._on_batch)
        yield captured
    finally:
        tel.detach(base)
        tel.detach(base + ".tasks")
