"""`LoadedPool`: a real pool serving its own socket under a steady load, for fleet tests.

Several pools in one test process must not share telemetry (the default registry is process
wide, so every endpoint would serve every pool's tasks); each `LoadedPool` gives its `Pool` its
own `Telemetry`, and a loader thread submits `sleepy(task_s)` at `rate_per_s` with a bounded
number in flight, so a pool with long tasks is visibly slower (higher p99, lower throughput)
than its neighbours, as a slow pool among many would be.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any


def sleepy(seconds: float) -> float:
    """The loaded pools' task: sleep, then return how long (a worker-side function)."""
    time.sleep(seconds)
    return seconds


class LoadedPool:
    """A `poolmon.Pool` at `path` with its own telemetry, loaded by a thread (see module doc).

    Args:
        name: Pool name.
        path: Socket path its endpoint serves.
        workers: Pool size.
        task_s: How long each task sleeps.
        rate_per_s: Target submissions per second.
    """

    def __init__(
        self,
        name: str,
        path: Path,
        *,
        workers: int = 1,
        task_s: float = 0.001,
        rate_per_s: float = 100.0,
    ) -> None:
        self.name = name
        self.path = path
        self.workers = workers
        self.task_s = task_s
        self.rate_per_s = rate_per_s
        self.pool: Any = None
        """The running pool."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> LoadedPool:
        """Start the pool and its loader."""
        from poolmon.runtime.pool import Pool
        from poolmon.runtime.telemetry import Telemetry

        self.pool = Pool(
            self.workers, name=self.name, monitor=str(self.path), telemetry=Telemetry()
        )
        self._thread = threading.Thread(target=self._load, name=f"load-{self.name}", daemon=True)
        self._thread.start()
        return self

    def _load(self) -> None:
        slots = threading.Semaphore(4 * self.workers)
        period = 1.0 / self.rate_per_s
        next_at = time.monotonic()
        while not self._stop.is_set():
            if not slots.acquire(timeout=0.1):
                continue
            try:
                future = self.pool.submit(sleepy, self.task_s)
            except Exception:  # the pool is shutting down
                slots.release()
                return
            future.add_done_callback(lambda _f: slots.release())
            next_at += period
            delay = next_at - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
            else:
                next_at = time.monotonic()

    def stop(self) -> None:
        """Stop the loader, then shut the pool down (its socket goes away)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
