"""The memory bench's slope and warm-up criterion (issue #17): a fit that starts while a bounded
part is still filling must say so, or its slope reads as a leak."""

from __future__ import annotations

from typing import Any

import pytest

from poolmon.bench.memory import slope_per_h, warmup_state


def _sample(t_s: float, rows: int, app_rows: int, rollups: int = 60, raw: float = 16.0) -> Any:
    pool = {"rollups": rollups, "rollups_max": 60, "raw_mib": raw, "raw_max_mib": 16.0}
    return {"t_s": t_s, "pool": {**pool, "worker_rows": rows}, "app_worker_rows": app_rows}


def test_the_slope_is_a_least_squares_fit_in_mib_an_hour() -> None:
    samples = [
        (t, 100.0 + t / 3600.0 * 3.0 + (0.2 if i % 2 else -0.2))
        for i, t in enumerate(range(0, 601, 15))
    ]
    assert slope_per_h(samples) == pytest.approx(3.0, abs=1.0)
    assert slope_per_h([(0.0, 1.0), (15.0, 2.0)]) is None  # too few to fit


def test_warm_up_is_steady_only_when_history_is_full_and_worker_rows_stopped_growing() -> None:
    steady = [_sample(720 + 15 * i, 14, 14) for i in range(10)]
    assert warmup_state(steady)["steady_at_warmup"]
    filling = [_sample(120 + 60 * i, 5 + i, 5 + i) for i in range(10)]
    state = warmup_state(filling)
    assert not state["steady_at_warmup"]
    assert state["worker_rows_max_after"] == {"pool": 14, "app": 14}
    assert not warmup_state([_sample(60, 4, 4, rollups=30)] * 3)["steady_at_warmup"]
    assert not warmup_state([_sample(60, 4, 4, raw=3.0)] * 3)["steady_at_warmup"]
    assert not warmup_state([])["steady_at_warmup"]
