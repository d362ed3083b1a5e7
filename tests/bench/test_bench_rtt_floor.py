"""The round-trip floors (the bare ping-pong and the minimal CPython executor) and the
placements the RTT benches compare pools and floors in."""

from __future__ import annotations

import math
import os
from collections.abc import Callable

import pytest

from poolmon.bench.minimal_executor import rtt_minimal
from poolmon.bench.placement import PLACEMENTS, Trips, cpus_of, rtt_floor, sched_getcpu

TWO_CPUS = len(os.sched_getaffinity(0)) >= 2


@pytest.mark.parametrize("placement", PLACEMENTS)
@pytest.mark.parametrize("trips_of", [rtt_floor, rtt_minimal], ids=["floor", "minimal"])
def test_both_floors_are_measured_where_asked_and_leave_our_affinity_alone(
    trips_of: Callable[[int, str], Trips], placement: str
) -> None:
    before = os.sched_getaffinity(0)
    trips = trips_of(50, placement)
    assert os.sched_getaffinity(0) == before
    if placement == "apart" and not TWO_CPUS:
        assert math.isnan(trips.p50_us)
        assert math.isnan(trips.crossed)
        return
    assert 0 < trips.p50_us < 1e6  # microseconds: a round trip, not seconds
    if sched_getcpu() < 0:
        assert math.isnan(trips.crossed)
    elif placement == "same":
        assert trips.crossed == 0.0  # pinned together: every sampled trip on one CPU
    elif placement == "apart":
        assert trips.crossed == 1.0
    else:
        assert 0.0 <= trips.crossed <= 1.0


def test_placements_name_real_cpus_and_refuse_unknown_ones() -> None:
    ours, theirs = cpus_of("same") or (None, None)
    assert ours == theirs
    assert ours in os.sched_getaffinity(0)
    assert cpus_of("free") == (None, None)
    apart = cpus_of("apart")
    if TWO_CPUS:
        assert apart is not None
        assert apart[0] != apart[1]
    else:
        assert apart is None
    with pytest.raises(ValueError, match="unknown placement"):
        cpus_of("sideways")
