"""Stand-ins shared by the endpoint tests (a uniquely named module, unlike conftest)."""

from __future__ import annotations

import time
from typing import Any

from poolmon.core.events import TaskBatch


class FakePool:
    """The smallest `PoolControl`: records what monitors asked of it."""

    def __init__(self, name: str = "testpool") -> None:
        self.name = name
        self.started_at_ns = time.time_ns()
        self.size = 2
        self.task_timeout: float | None = None
        self.health_interval = 1.0
        self.recycled: list[int] = []

    def stats(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "busy": 1,
            "idle": self.size - 1,
            "queue_depth": 3,
            "tasks_done": 10,
            "workers": [{"worker_id": i, "pid": 100 + i, "state": "ready"} for i in range(2)],
        }

    def resize(self, size: int) -> None:
        self.size = size

    def set_task_timeout(self, seconds: float | None) -> None:
        self.task_timeout = seconds

    def set_health_check_interval(self, seconds: float) -> None:
        self.health_interval = seconds

    def recycle_worker(self, worker_id: int) -> None:
        if worker_id > 10:
            raise KeyError(f"no worker {worker_id}")
        self.recycled.append(worker_id)


def tasks(n: int, *, start: int = 0, at_ns: int | None = None, status: int = 0) -> TaskBatch:
    """A batch of `n` finished tasks with ids start..start+n-1, finishing around `at_ns`."""
    t = time.time_ns() if at_ns is None else at_ns
    return TaskBatch.from_rows(
        [
            (start + i, i % 2, "op", t, 1_000, 10, status, "" if status == 0 else "E")
            for i in range(n)
        ]
    )


def frames_until(client: Any, done: Any) -> list[Any]:
    """Frames a `MonitorClient` receives up to the first for which `done(frame)` holds."""
    got: list[Any] = []
    deadline = time.monotonic() + 15
    while not got or not done(got[-1]):
        assert time.monotonic() < deadline, f"gave up after {[type(f).__name__ for f in got]}"
        frame = client.recv(0.5)
        if frame is not None:
            got.append(frame)
    return got
