"""Windows slide by whole slots, across slot boundaries and across clock jumps both ways."""

from __future__ import annotations

import numpy as np
import pytest

from poolmon.core.aggregator import Aggregator
from poolmon.core.errors import ConfigError
from poolmon.core.ring import Ring, Tiers
from poolmon.testing.clock import ManualClock

NS = 1_000_000_000


def test_ring_refuses_slots_older_than_it_holds() -> None:
    ring = Ring(1, 4)
    assert ring.claim(100) >= 0
    assert ring.claim(104) == ring.claim(100 + 4)  # same row, now holding 104
    assert ring.claim(100) == -1  # overwritten: too old
    assert ring.claim(101) >= 0  # still newer than what that row held


def test_row_reused_for_a_new_slot_is_cleared() -> None:
    tiers = Tiers([(1, 3)])
    tiers.add(10, 5)
    tiers.add(13, 1)  # same row as 10
    assert tiers.window_sum(13, 3) == 1


def test_window_covers_exactly_the_last_k_slots() -> None:
    tiers = Tiers([(1, 60)])
    for s in range(1000, 1060):
        tiers.add(s, 1)
    assert tiers.window_sum(1059, 60) == 60
    assert tiers.window_sum(1059, 10) == 10
    assert tiers.window_sum(1060, 10) == 9  # slid by one slot
    assert tiers.window_sum(1200, 60) == 0  # everything aged out


def test_coarse_tier_is_used_for_long_windows() -> None:
    tiers = Tiers([(1, 60), (10, 90), (60, 60)])
    for s in range(0, 3600, 5):
        tiers.add(s, 1)
    now = 3599
    assert tiers.window_sum(now, 60) == 12
    assert tiers.window_sum(now, 300) == 60
    assert tiers.window_sum(now, 900) == 180
    assert tiers.window_sum(now, 3600) == 720


def test_tasks_slide_out_of_the_window_one_second_at_a_time(
    agg: Aggregator, clock: ManualClock, make_batch
) -> None:
    t0 = clock.time_ns()
    # one task finishing in each of 10 consecutive seconds
    for i in range(10):
        agg.ingest_tasks(make_batch(end_ns=[t0 + i * NS + NS // 2], duration_ns=[1_000_000]))
    clock.advance(9.9)
    assert agg.snapshot(60).tasks_finished == 10
    assert agg.snapshot(5).tasks_finished == 5
    clock.advance(0.2)  # crosses a slot boundary: the 5 s window slides by one
    assert agg.snapshot(5).tasks_finished == 4
    clock.advance(55)  # now t0 + 65.1 s: the 60 s window holds seconds 6..65
    assert agg.snapshot(60).tasks_finished == 4
    clock.advance(10)
    assert agg.snapshot(60).tasks_finished == 0
    assert agg.snapshot(300).tasks_finished == 10


def test_forward_jump_empties_the_window_without_zero_filling(
    agg: Aggregator, clock: ManualClock, make_batch
) -> None:
    t0 = clock.time_ns()
    agg.ingest_tasks(make_batch(end_ns=[t0] * 3, duration_ns=[5_000_000] * 3))
    clock.jump_wall(3 * 3600)
    snap = agg.snapshot(60)
    assert snap.tasks_finished == 0
    assert snap.latency.count == 0
    assert snap.latency.p50_ns is None
    assert all(v is None for v in snap.throughput.values)


def test_backward_jump_drops_future_slots_and_counts_new_data_cleanly(
    agg: Aggregator, clock: ManualClock, make_batch
) -> None:
    t0 = clock.time_ns()
    for i in range(30):
        agg.ingest_tasks(make_batch(end_ns=[t0 + i * NS], duration_ns=[1_000_000]))
    clock.advance(30)
    assert agg.snapshot(60).tasks_finished == 30
    clock.jump_wall(-20)  # NTP step back: seconds t0+10 .. t0+29 are "the future" now
    now = clock.time_ns()
    assert agg.snapshot(60).tasks_finished == 11  # t0 .. t0+10
    agg.ingest_tasks(make_batch(end_ns=[now], duration_ns=[1_000_000], task_id=[999]))
    assert agg.snapshot(60).tasks_finished == 12
    clock.advance(20)  # the dropped seconds do not come back
    assert agg.snapshot(60).tasks_finished == 12


@pytest.mark.parametrize("window", [0, -1, 3601])
def test_bad_window_is_a_config_error(agg: Aggregator, window: int) -> None:
    with pytest.raises(ConfigError):
        agg.snapshot(window)


def test_throughput_rate_uses_covered_time_only(
    agg: Aggregator, clock: ManualClock, make_batch
) -> None:
    t0 = clock.time_ns()
    for i in range(10):  # 10 s of 100 tasks/s, then the window is read
        ends = np.full(100, t0 + i * NS + NS // 2)
        agg.ingest_tasks(make_batch(end_ns=ends, duration_ns=np.full(100, 1000)))
    clock.advance(10)
    snap = agg.snapshot(60)
    assert snap.throughput_per_s == pytest.approx(100, rel=0.02)
    assert snap.covered_s == 10
