"""The minimal CPython executor keeps the executor contract (its placements are tested with
the floor's, tests/bench/test_bench_rtt_floor.py)."""

from __future__ import annotations

import os
import socket
import threading

import pytest

from poolmon.bench.minimal_executor import FUNCTIONS, MinimalExecutor, _serve
from poolmon.bench.placement import WAITS


@pytest.mark.parametrize("wait", WAITS)
def test_it_keeps_the_executor_contract_futures_complete_with_the_far_ends_answers(
    wait: str,
) -> None:
    ours, theirs = socket.socketpair()
    far = threading.Thread(target=_serve, args=(theirs, socket.socket(), "free", wait), daemon=True)
    far.start()
    ex = MinimalExecutor(ours, wait)
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
