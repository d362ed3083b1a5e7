"""A running task's age is exact only when the monitor has heard everything since it started.

The pool gathers a fast-flipping worker's busy/ready flips and sends them at its next tick
(`catalog.STATE_FLIP_DELAY_NS`), so the task a monitor last heard start may be several tasks
old. Before, the worker table then showed `Age 21.4ms` for a worker running 2 ms tasks. Now
a task younger than the stream's horizon by less than the delay is shown as an upper bound.

The simulation drives the pool's real `FlipGate` with a worker whose tasks are known exactly,
ticks that run late, status reports and events that do not flush the gate, and checks what
the aggregator shows against that ground truth at thousands of moments.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass

from poolmon.core import catalog as C
from poolmon.core.aggregator import Aggregator
from poolmon.core.events import Event
from poolmon.runtime.pool.flips import FlipGate, HeldFlip
from poolmon.testing.clock import ManualClock

MS = 1_000_000
MD = {"pool": "p", "worker_id": 1, "pid": 100}


def _busy(ts: int, op: str = "f", flips: int = 1) -> Event:
    meta = {**MD, "from": "ready", "to": "busy", "reason": "checkout", "op": op}
    return Event(C.WORKER_STATE, ts, {"flips": flips}, meta)


def _other(ts: int) -> Event:
    return Event(C.RESOURCE_MACHINE, ts, {"cpu_percent": 10.0}, {"pool": "p"})


def _at(agg: Aggregator, clock: ManualClock, t: int) -> tuple[int | None, bool]:
    clock.advance((t - clock.time_ns()) / 1e9)
    w = agg.worker(1)
    return (None, False) if w is None else (w.current_task_age_ns, w.current_task_age_at_most)


def test_a_young_task_is_a_bound_until_the_stream_passes_it() -> None:
    clock = ManualClock()
    agg = Aggregator(clock)
    t0 = clock.time_ns()
    agg.ingest_event(_busy(t0, flips=12))  # gathered: the worker flips fast
    assert _at(agg, clock, t0 + 21 * MS) == (21 * MS, True)
    agg.ingest_event(_other(t0 + 60 * MS))  # heard 60 ms past it: a held flip could be due
    assert _at(agg, clock, t0 + 61 * MS) == (61 * MS, True)
    agg.ingest_event(_other(t0 + 4 * C.STATE_FLIP_DELAY_NS))  # seen running 40 ms: not a fast one
    assert _at(agg, clock, t0 + 90 * MS) == (90 * MS, False)


def test_the_bound_applies_to_a_status_report_of_a_young_task() -> None:
    clock = ManualClock()
    agg = Aggregator(clock)
    t0 = clock.time_ns()
    row = {"worker_id": 1, "pid": 100, "state": "busy", "op": "f", "task_age_ns": 2 * MS}
    agg.ingest_event(Event(C.POOL_STATUS, t0, {}, {"pool": "p", "workers": [row]}))
    assert _at(agg, clock, t0 + 5 * MS) == (7 * MS, True)
    row = {**row, "task_age_ns": 1_000 * MS}  # a long task: exact at once
    agg.ingest_event(Event(C.POOL_STATUS, t0 + 1_000 * MS, {}, {"pool": "p", "workers": [row]}))
    assert _at(agg, clock, t0 + 1_005 * MS) == (1_005 * MS, False)


def test_a_clock_that_went_back_takes_the_horizon_with_it() -> None:
    clock = ManualClock()
    agg = Aggregator(clock)
    t0 = clock.time_ns()
    agg.ingest_event(_other(t0 + 3_600 * 10**9))  # a bogus time an hour ahead
    agg.ingest_event(_busy(t0))
    assert _at(agg, clock, t0 + MS) == (MS, False)  # the bogus horizon calls it exact...
    clock.jump_wall(-120)
    agg.now_ns()  # ...until the aggregator sees its clock go back
    clock.jump_wall(120)
    assert _at(agg, clock, t0 + 2 * MS)[1]


@dataclass
class Worker:
    """Ground truth: when each of one worker's tasks started and ended (wall ns)."""

    starts: list[int]
    ends: list[int]

    def task_at(self, t: int) -> int | None:
        """Start of the task running at `t`, or None while the worker is ready."""
        i = bisect.bisect_right(self.starts, t) - 1
        return self.starts[i] if i >= 0 and t < self.ends[i] else None

    def end_of(self, start: int) -> int:
        """When the task that started at `start` ended."""
        return self.ends[bisect.bisect_left(self.starts, start)]


def _simulate(seed: int) -> tuple[Worker, list[tuple[int, Event]]]:
    """One worker's tasks, and every event the pool emits with its emission time."""
    rng = random.Random(seed)
    t, starts, ends = 0, [], []
    while t < 20_000 * MS:
        t += rng.choice((20_000, 100_000, 3 * MS, 40 * MS))  # idle gap
        starts.append(t)
        t += rng.choice((500_000, 2 * MS, 2 * MS, 9 * MS, 150 * MS, 700 * MS))
        t += rng.choice((0, 0, rng.randrange(7 * MS, 30 * MS)))  # some of the hold's size
        ends.append(t)
    truth = Worker(starts, ends)
    gate, out = FlipGate(), []
    flips = sorted([(s, "busy") for s in starts] + [(e, "ready") for e in ends])
    tick = C.STATE_FLIP_DELAY_NS
    next_tick = tick + rng.randrange(tick)  # each tick runs up to a whole delay late
    next_other = rng.randrange(1_000 * MS)
    for at, to in flips:
        while min(next_tick, next_other) <= at:
            if next_tick <= next_other:
                out += [(next_tick, _held_event(f)) for f in gate.take(next_tick)]
                next_tick += tick + rng.randrange(tick)
            else:  # a resource sample: it does not flush the gate
                out.append((next_other, _other(next_other)))
                next_other += rng.randrange(200 * MS, 1_000 * MS)
        old = "ready" if to == "busy" else "busy"
        op = "f" if to == "busy" else None
        flip = HeldFlip(old, to, "", 0, op, at, 1, dict(MD))
        if gate.offer(1, at, flip):
            out.append((at, _held_event(flip)))
    return truth, out


def _held_event(f: HeldFlip) -> Event:
    meta = {**MD, "from": f.old, "to": f.new, "reason": f.reason, "op": f.op}
    return Event(C.WORKER_STATE, f.wall_ns, {"flips": f.flips}, meta)


def test_an_exact_age_is_the_task_really_running_and_a_bound_is_never_short() -> None:
    for seed in range(3):
        truth, emitted = _simulate(seed)
        clock = ManualClock(start_ns=0)
        agg = Aggregator(clock)
        rng = random.Random(seed)
        sent, exact, bound = 0, 0, 0
        moment = 5 * MS
        while moment < 19_000 * MS:
            delay = rng.choice((0, 3 * MS, 30 * MS))  # the link's delivery time
            while sent < len(emitted) and emitted[sent][0] <= moment - delay:
                agg.ingest_event(emitted[sent][1])
                sent += 1
            age, at_most = _at(agg, clock, moment)
            if age is not None:
                known_start = moment - age
                horizon = agg.workers.heard_until_ns - 2 * C.STATE_FLIP_DELAY_NS
                if at_most:
                    bound += 1
                    true_start = truth.task_at(moment)
                    # a newer task can only have started after the one last heard of
                    assert true_start is None or true_start >= known_start, (seed, moment)
                else:
                    exact += 1
                    # the task shown ran, from its start, until past the stream's horizon...
                    assert known_start <= horizon - 2 * C.STATE_FLIP_DELAY_NS
                    assert truth.task_at(horizon) == known_start, (seed, moment)
                    # ...and if it has ended since, only within the monitor's lag: its end
                    # leaves within a (late) tick, and the link took `delay`
                    lag = moment - truth.end_of(known_start)
                    assert lag < 2 * C.STATE_FLIP_DELAY_NS + delay, (seed, moment, lag)
            moment += rng.randrange(1 * MS, 7 * MS)
        assert exact > 500, (exact, bound)  # both cases were exercised
        assert bound > 500, (exact, bound)


def test_the_stale_age_of_a_fast_worker_is_always_shown_as_a_bound() -> None:
    """The case seen in the app: 2 ms tasks back to back, flips gathered."""
    gate, clock = FlipGate(), ManualClock(start_ns=0)
    agg = Aggregator(clock)
    t, shown = 0, []
    for task in range(2_000):
        for to, at in (("busy", t), ("ready", t + 2 * MS)):
            flip = HeldFlip("x", to, "", 0, "f" if to == "busy" else None, at, 1, dict(MD))
            if gate.offer(1, at, flip):
                agg.ingest_event(_held_event(flip))
            if at // C.STATE_FLIP_DELAY_NS != (at + 2 * MS) // C.STATE_FLIP_DELAY_NS:
                for held in gate.take(at):  # a tick
                    agg.ingest_event(_held_event(held))
        t += 2 * MS + 10_000
        if task % 7 == 0:
            shown.append(_at(agg, clock, t - 5_000))
    ages = [a for a, _ in shown if a is not None]
    assert max(ages) > 10 * MS  # the monitor's last news is often several tasks old...
    assert all(at_most for a, at_most in shown if a is not None)  # ...and says so
