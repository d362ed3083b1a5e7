"""The pool bench's round-trip floor: a real ping-pong between two processes, both placements."""

from __future__ import annotations

import math
import os

import pytest

from poolmon.bench.pool import rtt_floor


@pytest.mark.parametrize("cross_cpu", [False, True])
def test_the_floor_is_measured_and_leaves_our_affinity_alone(cross_cpu: bool) -> None:
    before = os.sched_getaffinity(0)
    p50 = rtt_floor(50, cross_cpu=cross_cpu)
    assert os.sched_getaffinity(0) == before
    if cross_cpu and len(before) < 2:
        assert math.isnan(p50)
    else:
        assert 0 < p50 < 1e6  # microseconds: a round trip, not seconds
