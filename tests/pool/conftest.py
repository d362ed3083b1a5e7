"""Fixtures for the pool tests: pools that are always shut down, and process helpers."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from poolmon.runtime.pool import Pool
from poolmon.runtime.telemetry import Telemetry


@pytest.fixture
def make_pool() -> Iterator[Callable[..., Pool]]:
    """Build pools (own telemetry registry, no monitor endpoint); all are torn down after."""
    pools: list[Pool] = []

    def factory(*args: Any, **kwargs: Any) -> Pool:
        kwargs.setdefault("monitor", False)
        kwargs.setdefault("telemetry", Telemetry())
        pool = Pool(*args, **kwargs)
        pools.append(pool)
        assert pool.wait_ready(20), "workers did not start"
        return pool

    yield factory
    for pool in pools:
        pids = [w.pid for w in pool.stats().workers]
        pool.shutdown(wait=False, cancel_futures=True)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        pool.shutdown(wait=True)


@pytest.fixture(scope="module")
def shared_pool() -> Iterator[Pool]:
    """One 2-worker pool for tests that only need a working pool."""
    pool = Pool(2, monitor=False, telemetry=Telemetry())
    assert pool.wait_ready(20)
    yield pool
    pool.shutdown(wait=False, cancel_futures=True)
    for w in pool.stats().workers:
        try:
            os.kill(w.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    pool.shutdown(wait=True)
