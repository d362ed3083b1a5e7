"""Short tasks beside a long one: no task should wait behind a busy worker while one idles.

Why: a pool that sends tasks ahead to a worker parks them behind whatever it runs. With
LLM-style work (most calls short, a few very long) that made a batch of 5 ms tasks wait
for a 1 s call on the one worker that had a task parked behind it, while
ProcessPoolExecutor's shared call queue let the free worker take them all. Two figures
for `python -m poolmon.bench pool`, each for poolmon and ProcessPoolExecutor on the same
tasks, as contenders of its round robin:

* `mixed_batch_p99_ms`: a caller submits batches of short sleeps and waits for each batch,
  while one long sleep always runs beside them (resubmitted as it ends); the p99 time of a
  batch. With nothing parked it is about the batch's work over the free workers.
* `sleep_5ms_per_s`: throughput of 5 ms sleeps, what not sending ahead may cost (one round
  trip between two tasks on a worker).
"""

from __future__ import annotations

import concurrent.futures as cf
import time
from typing import Any

from poolmon.bench.tasks import sleepy
from poolmon.runtime.pool import Pool
from poolmon.runtime.telemetry import Telemetry

LONG_S = 1.0
"""The long task beside the batches."""
SHORT_S = 0.005
"""Each short task."""
BATCH = 4
"""Short tasks a batch submits before waiting for them all."""


def _batch_p99_ms(executor: Any, seconds: float) -> float:
    executor.submit(sleepy, 0.001).result()  # started (ProcessPoolExecutor: a first worker)
    long = executor.submit(sleepy, LONG_S)
    end = time.perf_counter() + seconds
    times = []
    while time.perf_counter() < end:
        if long.done():
            long = executor.submit(sleepy, LONG_S)
        t0 = time.perf_counter()
        for f in [executor.submit(sleepy, SHORT_S) for _ in range(BATCH)]:
            f.result()
        times.append(time.perf_counter() - t0)
    long.result()
    times.sort()
    return 1e3 * times[min(len(times) - 1, int(len(times) * 0.99))]


def _sleep_rate(executor: Any, n: int) -> float:
    [f.result() for f in [executor.submit(sleepy, SHORT_S) for _ in range(20)]]
    t0 = time.perf_counter()
    [f.result() for f in [executor.submit(sleepy, SHORT_S) for _ in range(n)]]
    return n / (time.perf_counter() - t0)


def _executor(kind: str, workers: int) -> Any:
    """A fresh poolmon pool (`kind` "poolmon", workers started) or ProcessPoolExecutor."""
    if kind != "poolmon":
        return cf.ProcessPoolExecutor(workers)
    pool = Pool(workers, monitor=False, telemetry=Telemetry())
    pool.wait_ready(30)
    return pool


def batch_p99_ms(kind: str, workers: int, seconds: float) -> float:
    """p99 time (ms) of a batch of short tasks beside a long task, in a fresh executor."""
    with _executor(kind, workers) as executor:
        return _batch_p99_ms(executor, seconds)


def sleep_rate(kind: str, workers: int, n: int) -> float:
    """5 ms sleeps a second through a fresh executor."""
    with _executor(kind, workers) as executor:
        return _sleep_rate(executor, n)
