"""A worker sleeps once per task it waits for, not twice.

A thread blocked in recv() on a Unix stream socket is also woken when the peer reads what
this thread sent (the kernel's write-space wake-up is not filtered by what the sleeper
waits for); it then finds nothing to read and sleeps again. For a worker that meant a
second wake-up on every round trip, preempting the pool's caller on a shared CPU or costing
an inter-processor interrupt on another. The worker now waits for input in poll().
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from poolmon import Pool
from poolmon.bench.tasks import ident

pytestmark = pytest.mark.integration


def sleeps(pid: int) -> int:
    """Voluntary context switches of a process's main thread (each one a sleep)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("voluntary_ctxt_switches:"):
            return int(line.split()[1])
    raise AssertionError("no voluntary_ctxt_switches in /proc status")


def test_a_worker_sleeps_once_per_sequential_round_trip(make_pool: Callable[..., Pool]) -> None:
    pool = make_pool(1)
    for i in range(50):
        assert pool.submit(ident, i).result(timeout=30) == i
    (worker,) = pool.stats().workers
    trips = 400
    before = sleeps(worker.pid)
    for i in range(trips):
        assert pool.submit(ident, i).result(timeout=30) == i
    per_trip = (sleeps(worker.pid) - before) / trips
    # one sleep waiting for each task; with the spurious write-space wake-up it was ~1.9
    assert per_trip < 1.4, f"the worker slept {per_trip:.2f} times per round trip"
