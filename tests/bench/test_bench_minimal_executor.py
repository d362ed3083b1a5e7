"""The minimal CPython executor: the second floor the RTT benches measure the pool against."""

from __future__ import annotations

import math
import os
import socket
import threading

import pytest

from poolmon.bench.minimal_executor import FUNCTIONS, MinimalExecutor, _serve, rtt_minimal
from poolmon.bench.placement import PLACEMENTS, sched_getcpu

TWO_CPUS = len(os.sched_getaffinity(0)) >= 2


def test_it_keeps_the_executor_contract_futures_complete_with_the_far_ends_answers() -> None:
    ours, theirs = socket.socketpair()
    far = threading.Thread(target=_serve, args=(theirs, socket.socket(), "free"), daemon=True)
    far.start()
    ex = MinimalExecutor(ours)
    first, where = ex.submit(0), ex.submit(1)  # two in flight: answers matched by sequence
    cpu = ex.result(where)  # the far end's own CPU: a real call ran there
    assert isinstance(cpu, int)
    assert -1 <= cpu < (os.cpu_count() or 1)
    assert first.done()  # its answer came first and was completed on the way
    assert first.result() == FUNCTIONS[0]()
    assert ex.waiting == {}  # nothing kept once answered
    ours.close()
    far.join(5)
    assert not far.is_alive()  # the far end ends when the caller closes


@pytest.mark.parametrize("placement", PLACEMENTS)
def test_it_is_timed_where_asked_and_leaves_our_affinity_alone(placement: str) -> None:
    before = os.sched_getaffinity(0)
    trips = rtt_minimal(50, placement)
    assert os.sched_getaffinity(0) == before
    if placement == "apart" and not TWO_CPUS:
        assert math.isnan(trips.p50_us)
        return
    assert 0 < trips.p50_us < 1e6
    if sched_getcpu() >= 0 and placement == "same":
        assert trips.crossed == 0.0
    elif sched_getcpu() >= 0 and placement == "apart":
        assert trips.crossed == 1.0
