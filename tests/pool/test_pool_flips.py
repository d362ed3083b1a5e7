"""Busy/ready flips gathered while they come fast (poolmon/runtime/pool/flips.py).

Ground truth is counted apart from the events: a caller waiting for each task in turn on a
one-worker pool flips its worker exactly twice per task (checkout, checkin). The events must
account for every flip exactly once, be far fewer than the flips, carry the time of the flip
they end with, and never let another event about the worker overtake its state.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

import pool_test_tasks as t
import pytest
from pool_test_helpers import wait_for

from poolmon import Pool
from poolmon.bench.tasks import ident
from poolmon.core import catalog as cat
from poolmon.runtime.pool import WorkerCrashed
from poolmon.runtime.pool.flips import HOLD_NS, FlipGate, HeldFlip
from poolmon.runtime.telemetry import Telemetry
from poolmon.testing import capture_events

pytestmark = pytest.mark.integration

CHURN = {"ready", "busy"}


def flip(new: str = "busy", wall_ns: int = 0) -> HeldFlip:
    old = "ready" if new == "busy" else "busy"
    return HeldFlip(old, new, "checkout", 5, None, wall_ns, 1, {"worker_id": 1})


def test_the_gate_sends_a_lone_flip_at_once_and_gathers_fast_ones_exactly() -> None:
    gate = FlipGate()
    assert gate.offer(1, 0, flip())  # first ever: at once
    assert gate.offer(2, 10, flip())  # another worker has its own clock
    assert not gate.offer(1, 1_000, flip("ready", 1))
    assert not gate.offer(1, 2_000, flip("busy", 2))
    assert not gate.offer(1, 3_000, flip("ready", 3))
    assert gate
    (held,) = gate.take(5_000)
    assert (held.new, held.flips, held.wall_ns) == ("ready", 3, 3)  # the latest, counting all
    assert not gate
    assert not gate.offer(1, 6_000, flip())  # the clock restarted at the take
    assert gate.offer(1, 6_000 + HOLD_NS, flip()) is False  # still one held: joins it
    assert gate.take(6_000 + HOLD_NS)[0].flips == 2
    assert gate.offer(1, 6_000 + 3 * HOLD_NS, flip())  # quiet for a while: at once again
    gate.forget(1)
    assert gate.offer(1, 6_000 + 3 * HOLD_NS + 1, flip())  # forgotten: a fresh worker


def test_a_flip_folds_into_the_workers_held_ones_in_place_and_never_into_anothers() -> None:
    gate = FlipGate()
    assert not gate.fold(1, "ready", "busy", "checkout", 5, "op", 1)  # nothing held: offer it
    assert gate.offer(1, 0, flip())
    assert not gate.fold(1, "busy", "ready", "checkin", 6, None, 2)  # sent, none held yet
    assert not gate.offer(1, 1_000, flip("ready", 2))  # now held
    assert not gate.fold(2, "ready", "busy", "checkout", 7, "op", 3)  # another worker's
    assert gate.fold(1, "ready", "busy", "checkout", 8, "op", 4)
    assert gate.fold(1, "busy", "ready", "checkin", 9, None, 5)
    (held,) = gate.take(6_000)
    assert (held.new, held.reason, held.prev_ns, held.wall_ns, held.flips) == (
        "ready",
        "checkin",
        9,
        5,
        3,
    )
    assert held.meta == {"worker_id": 1}  # the worker's identity, kept from the first held
    assert not gate.fold(1, "ready", "busy", "checkout", 1, "op", 7)  # taken: offer again


def test_every_flip_of_a_sequential_caller_is_counted_once_in_far_fewer_events(
    make_pool: Callable[..., Pool],
) -> None:
    tel = Telemetry()
    with capture_events(cat.WORKER_STATE, telemetry=tel, tasks=False) as cap:
        pool = make_pool(1, telemetry=tel)
        (wid,) = [w.worker_id for w in pool.stats().workers]
        before = sum(
            int(e.measurements["flips"])
            for e in cap.of(cat.WORKER_STATE)
            if e.metadata["from"] in CHURN and e.metadata["to"] in CHURN
        )
        tasks = 3000
        for i in range(tasks):
            assert pool.submit(ident, i).result(30) == i
        pool.shutdown()  # its stopping state lets every held flip out first
    churn = [
        e
        for e in cap.of(cat.WORKER_STATE)
        if e.metadata["worker_id"] == wid
        and e.metadata["from"] in CHURN
        and e.metadata["to"] in CHURN
    ]
    flips = sum(int(e.measurements["flips"]) for e in churn) - before
    assert flips == 2 * tasks  # checkout and checkin of every task, each counted once
    assert len(churn) < tasks // 4, f"{len(churn)} events for {2 * tasks} flips"
    stamps = [e.ts_ns for e in churn]
    assert stamps == sorted(stamps)  # each carries its latest flip's time, in order
    assert churn[-1].metadata["to"] == "ready"  # the last task's checkin


def test_no_event_about_a_worker_overtakes_its_held_state(
    make_pool: Callable[..., Pool],
) -> None:
    tel = Telemetry()
    with capture_events(telemetry=tel, tasks=False) as cap:
        pool = make_pool(1, telemetry=tel)
        for i in range(200):  # fast flips: held
            assert pool.submit(ident, i).result(30) == i
        victim = pool.submit(t.sleep_pid, 30)
        # running on the worker (not merely sent): the earlier tasks' busy events say nothing
        w = wait_for(lambda: next((x for x in pool.stats().workers if x.current_op), None))
        os.kill(w.pid, signal.SIGKILL)
        with pytest.raises(WorkerCrashed):
            victim.result(30)
        cap.wait_for(cat.WORKER_EXIT, timeout=10)
    about = [e for e in cap.events if e.metadata.get("worker_id") == w.worker_id]
    states = [e.metadata["to"] for e in about if e.name == cat.WORKER_STATE]
    ended = next(i for i, to in enumerate(states) if to == "stopped")
    assert states[ended - 1] == "busy"  # it died running the victim, and that came first
    assert not CHURN & set(states[ended:]), states[ended:]  # no held flip after its end
    names = [e.name for e in about]
    assert names.index(cat.WORKER_EXIT) > max(
        i for i, e in enumerate(about) if e.name == cat.WORKER_STATE and e.metadata["to"] in CHURN
    )
