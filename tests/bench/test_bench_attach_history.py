"""The `bench app` attach figure's pool really holds 15 minutes at 2,000 tasks/s."""

from __future__ import annotations

import time

from poolmon.bench.attach_frame import HISTORY_S, RATE, _Batches, build_history
from poolmon.core.rollup import Rollup


def test_the_fast_forwarded_history_is_what_a_15_minute_old_pool_holds() -> None:
    now_ns = time.time_ns()
    history = build_history(now_ns, _Batches())
    backfill = history.backfill()
    rollups = [Rollup.from_wire(w) for w in backfill.rollups]
    assert len(rollups) == HISTORY_S
    seconds = [r.second_ns // 1_000_000_000 for r in rollups]
    assert seconds == list(range(now_ns // 1_000_000_000 - HISTORY_S, now_ns // 1_000_000_000))
    assert all(r.count == RATE for r in rollups)  # no row counted late, in another second
    assert backfill.until_s == now_ns // 1_000_000_000
    failed = sum(sum(r.by_status[1:4]) for r in rollups)
    assert 0.01 < failed / (RATE * HISTORY_S) < 0.03  # the 2 % error mix
