"""Importable task functions for benchmarks and tests (workers import them by reference)."""

from __future__ import annotations

import os
import time
from typing import Any


def ident(x: Any) -> Any:
    """Return the argument: the trivial task that measures pool overhead alone."""
    return x


def burn(n: int) -> int:
    """A pure-Python CPU loop; `n` is calibrated so one call takes about 1 ms."""
    total = 0
    for i in range(n):
        total += i
    return total


def sleepy(seconds: float) -> float:
    """Sleep (releasing the CPU) and return the seconds slept."""
    time.sleep(seconds)
    return seconds


def getpid(_: Any = None) -> int:
    """The worker's pid: shows which worker ran a task."""
    return os.getpid()


def sleep_then_pid(seconds: float) -> int:
    """Sleep, then return the worker's pid (affinity and crash tests)."""
    time.sleep(seconds)
    return os.getpid()


def fail(message: str) -> None:
    """Raise ValueError(message): the failing task."""
    raise ValueError(message)


def allocate(mb: int) -> int:
    """Grow this worker's RSS by about `mb` MiB and keep it (memory recycling tests)."""
    global _hoard
    _hoard = bytearray(mb << 20)
    for i in range(0, len(_hoard), 4096):
        _hoard[i] = 1
    return os.getpid()


_hoard = bytearray()


def stamp(_: Any = None) -> int:
    """`time.perf_counter_ns()` in the worker: when the task ran, on the machine-wide clock.

    `perf_counter` is CLOCK_MONOTONIC on Linux, the same clock in every process, so the round
    trip profile (`poolmon.bench rtt`) can split a round trip at the moment the task ran.
    """
    return time.perf_counter_ns()


def where(_: Any = None) -> int:
    """The CPU the worker runs this task on (`sched_getcpu`, -1 where unknown).

    The RTT benches ask it every few round trips to measure where the two ends ran
    (poolmon.bench.placement).
    """
    from poolmon.bench.placement import sched_getcpu

    return sched_getcpu()
