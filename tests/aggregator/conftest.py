"""Shared builders for the aggregator tests: seeded TaskBatches and a ManualClock aggregator."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence

import numpy as np
import pytest

from poolmon.core.aggregator import Aggregator
from poolmon.core.events import TaskBatch
from poolmon.testing.clock import ManualClock

NS = 1_000_000_000

BatchFactory = Callable[..., TaskBatch]


def columns_batch(
    *,
    end_ns: Sequence[int] | np.ndarray,
    duration_ns: Sequence[int] | np.ndarray,
    worker_id: Sequence[int] | np.ndarray | None = None,
    op: Sequence[int] | np.ndarray | None = None,
    wait_ns: Sequence[int] | np.ndarray | None = None,
    status: Sequence[int] | np.ndarray | None = None,
    error_type: Sequence[int] | np.ndarray | None = None,
    task_id: Sequence[int] | np.ndarray | None = None,
    ops: tuple[str, ...] = ("op",),
    error_types: tuple[str, ...] = ("",),
) -> TaskBatch:
    """A batch from columns; tasks *end* at `end_ns` (start = end - duration)."""
    end = np.asarray(end_ns, dtype=np.int64)
    dur = np.asarray(duration_ns, dtype=np.int64)
    n = len(end)

    def col(values: object, default: int = 0) -> array[int]:
        if values is None:
            return array("q", bytes(8 * n))
        return array("q", np.asarray(values, dtype=np.int64).tobytes())

    return TaskBatch(
        ops=ops,
        error_types=error_types,
        task_id=col(task_id if task_id is not None else np.arange(n)),
        worker_id=col(worker_id),
        op=col(op),
        start_ns=col(end - dur),
        duration_ns=col(dur),
        wait_ns=col(wait_ns),
        status=col(status),
        error_type=col(error_type),
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def agg(clock: ManualClock) -> Aggregator:
    return Aggregator(clock)


@pytest.fixture
def make_batch() -> BatchFactory:
    return columns_batch
