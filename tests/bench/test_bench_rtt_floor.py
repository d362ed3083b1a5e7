"""The round-trip floors (the bare ping-pong and the minimal CPython executor) and the
placements the RTT benches compare pools and floors in."""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Callable

import pytest

from poolmon.bench.minimal_executor import rtt_minimal
from poolmon.bench.placement import (
    PLACEMENTS,
    WAITS,
    Trips,
    cpus_of,
    rtt_floor,
    sched_getcpu,
    waiting_recv,
)
from poolmon.bench.rtt_figures import best_of_waits, floor_figures

TWO_CPUS = len(os.sched_getaffinity(0)) >= 2


@pytest.mark.parametrize("wait", WAITS)
@pytest.mark.parametrize("placement", PLACEMENTS)
@pytest.mark.parametrize("trips_of", [rtt_floor, rtt_minimal], ids=["floor", "minimal"])
def test_both_floors_are_measured_where_asked_and_leave_our_affinity_alone(
    trips_of: Callable[[int, str, str], Trips], placement: str, wait: str
) -> None:
    before = os.sched_getaffinity(0)
    trips = trips_of(50, placement, wait)
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


def test_each_floor_figure_is_the_faster_waits_median_and_both_waits_are_reported() -> None:
    def runs(*p50s: float) -> list[Trips]:
        return [Trips(p, 1.0 if p > 20 else 0.0) for p in p50s]

    figures = floor_figures(
        {
            "recv": {"same": runs(10, 11, 30), "apart": runs(23, 24, 25), "free": runs(9)},
            "poll": {"same": runs(12, 12, 12), "apart": runs(47, 46, 48), "free": []},
        }
    )
    # medians by hand: same recv 11 < poll 12; apart recv 24 < poll 47; free: poll has none
    assert figures["rtt_floor_same_cpu_recv_us"] == 11
    assert figures["rtt_floor_same_cpu_poll_us"] == 12
    assert figures["rtt_floor_same_cpu_us"] == figures["rtt_floor_us"] == 11
    assert figures["rtt_floor_cross_cpu_us"] == 24
    assert figures["rtt_floor_cross_cpu_crossed"] == 1.0
    assert figures["rtt_floor_free_us"] == 9
    assert math.isnan(figures["rtt_floor_free_poll_us"])
    slower_recv = best_of_waits(
        "m", {"recv": {"same": runs(15)}, "poll": {"same": runs(14)}}, "_p50_us"
    )
    assert slower_recv["m_same_cpu_p50_us"] == 14
    assert slower_recv["m_same_cpu_recv_p50_us"] == 15


def test_an_unknown_wait_is_refused_with_the_known_ones() -> None:
    a, b = socket.socketpair()
    with a, b, pytest.raises(ValueError, match="unknown wait 'spin'"):
        waiting_recv(a, "spin")
