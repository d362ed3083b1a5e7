"""Drive a pool with the demo's mixed load: rates, spikes, sessions, the occasional crash.

`DemoLoad` is a thread that submits at a target rate with a mix of operations, doubles
latency for a few seconds every so often (a "spike"), pins `warm_cache` to one session (so one
worker leaks), and sends a crashing task about once a minute. It keeps a bounded number of
tasks outstanding, so a slow pool queues a little instead of growing memory without bound.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from poolmon.demo import workload

MIX: tuple[tuple[Callable[..., Any], float], ...] = (
    (workload.resize_image, 0.55),
    (workload.fetch_profile, 0.25),
    (workload.score_model, 0.15),
    (workload.render_report, 0.02),
)
"""Operations and their share of the load (the rest of the mix is warm_cache)."""

SPIKE_EVERY_S = 20.0
"""A latency spike starts this often."""
SPIKE_LENGTH_S = 3.0
"""How long a spike lasts."""
CRASH_EVERY_S = 60.0
"""About this often a task kills its worker."""


class DemoLoad:
    """Submits the demo workload to `pool` from a background thread.

    Args:
        pool: A `poolmon.Pool` (anything with `submit` and `options`).
        rate_per_s: Target submissions per second.
        max_outstanding: Submitted but unfinished tasks allowed at once.
        seed: Random seed of the mix.
        slowdown: Every task takes this many times longer (a slow dependency, to rehearse
            "one slow pool among many").
    """

    def __init__(
        self,
        pool: Any,
        rate_per_s: float = 300.0,
        max_outstanding: int = 256,
        seed: int = 1,
        slowdown: float = 1.0,
    ) -> None:
        self.pool = pool
        self.slowdown = slowdown
        self.rate_per_s = rate_per_s
        self.max_outstanding = max_outstanding
        self.submitted = 0
        """Tasks submitted so far."""
        self.errors = 0
        """Submissions the pool refused (queue full, closing)."""
        self._rng = random.Random(seed)
        self._stop = threading.Event()
        self._outstanding = threading.Semaphore(max_outstanding)
        self._thread = threading.Thread(target=self._run, name="poolmon-demo-load", daemon=True)

    def start(self) -> DemoLoad:
        """Start submitting."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop submitting (tasks already submitted still finish)."""
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        started = time.monotonic()
        next_crash = started + CRASH_EVERY_S / 2
        interval = 1.0 / self.rate_per_s
        due = started
        while not self._stop.is_set():
            now = time.monotonic()
            if due > now:
                self._stop.wait(due - now)
                continue
            due += interval
            if due < now - 1.0:  # fell behind by more than a second: do not burst to catch up
                due = now
            elapsed = now - started
            slow = 4.0 if elapsed % SPIKE_EVERY_S < SPIKE_LENGTH_S and elapsed > 5 else 1.0
            if now >= next_crash:
                next_crash = now + CRASH_EVERY_S * self._rng.uniform(0.7, 1.3)
                self._submit(self.pool, workload.flaky_native, 0)
                continue
            self._submit_one(slow * self.slowdown)

    def _submit_one(self, slow: float) -> None:
        r = self._rng.random()
        for fn, share in MIX:
            if r < share:
                self._submit(self.pool, fn, self._rng.randrange(1, 1000), slow)
                return
            r -= share
        bound = self.pool.options(session="cache-warmer")
        self._submit(bound, workload.warm_cache, self._rng.randrange(1000))

    def _submit(self, target: Any, fn: Callable[..., Any], *args: Any) -> None:
        if not self._outstanding.acquire(timeout=0.5):
            return
        try:
            future: Future[Any] = target.submit(fn, *args)
        except Exception:
            self._outstanding.release()
            self.errors += 1
            return
        self.submitted += 1
        future.add_done_callback(lambda _: self._outstanding.release())
