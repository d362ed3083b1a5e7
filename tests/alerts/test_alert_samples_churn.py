"""A rate/anomaly rule's samples stay the size of the live instances under worker churn."""

from __future__ import annotations

import numpy as np

from poolmon.core.alerts.metrics import Values
from poolmon.core.alerts.samples import SampleMatrix


def _workers(ids: list[int], t: int) -> Values:
    keys = tuple(((("worker", str(w)),)) for w in ids)
    return Values(keys, np.array([float(w * 1000 + t) for w in ids]))


def test_replaced_workers_give_their_columns_to_new_ones() -> None:
    samples = SampleMatrix(horizon_s=60)  # a sample a second, ~62 rows
    live = [0, 1, 2, 3, 4, 5, 6, 7]
    next_id = 8
    for t in range(20_000):
        if t % 30 == 29:  # a worker is replaced every 30 s, with a fresh id (as a pool does)
            live = [*live[1:], next_id]
            next_id += 1
        assert samples.add(t, _workers(live, t))
    assert next_id > 600
    assert samples.data.shape[1] <= 16  # it used to grow by a column per replacement
    times, data = samples.between(19_990, 19_999)
    for w in live:  # every live worker's newest samples are its own
        col = samples.cols[(("worker", str(w)),)]
        got = data[:, col]
        mine = np.isfinite(got)
        assert mine.any()
        assert (got[mine] == w * 1000 + times[mine]).all()
