"""A worker's state history keeps meaningful transitions and collapses busy/ready churn.

At low load a worker flips ready -> busy -> ready once per task. Kept one by one, those flips
filled the bounded history within seconds and pushed out what a person opens the drill-down
for: when the worker started, degraded, was recycled, exited.
"""

from __future__ import annotations

from poolmon.core import catalog as C
from poolmon.core.aggregator import Aggregator
from poolmon.core.events import Event
from poolmon.core.workers import CHURN_PREFIX, STATE_HISTORY, churn_count
from poolmon.testing.clock import ManualClock

MD = {"pool": "p", "worker_id": 1, "pid": 100}


def _state(agg: Aggregator, ts: int, frm: str, to: str, reason: str) -> None:
    agg.ingest_event(Event(C.WORKER_STATE, ts, {}, {**MD, "from": frm, "to": to, "reason": reason}))


def _flip(agg: Aggregator, t: int, tasks: int) -> int:
    """`tasks` checkout/checkin pairs starting at `t`; returns the time after the last one."""
    for _ in range(tasks):
        _state(agg, t, "ready", "busy", "checkout")
        _state(agg, t + 1, "busy", "ready", "checkin")
        t += 10
    return t


def _history(agg: Aggregator) -> list[tuple[str, str, str]]:
    w = agg.worker(1)
    assert w is not None
    return [(c.from_state, c.to_state, c.reason) for c in w.state_history]


def test_busy_ready_churn_collapses_into_one_counted_entry(
    agg: Aggregator, clock: ManualClock
) -> None:
    t = clock.time_ns()
    agg.ingest_event(Event(C.WORKER_SPAWN, t, {}, {**MD, "reason": "initial"}))
    agg.ingest_event(Event(C.WORKER_READY, t + 1, {"startup_ns": 1}, MD))
    _flip(agg, t + 100, 1234)
    history = _history(agg)
    assert history == [
        ("unknown", "starting", "initial"),
        ("starting", "ready", ""),
        ("busy", "ready", f"{CHURN_PREFIX}2468"),
    ]
    w = agg.worker(1)
    assert w is not None
    run = w.state_history[-1]
    assert run.at_ns == t + 100, "the entry says when the run began"
    assert churn_count(run) == 2468
    assert w.state == "ready"


def test_meaningful_changes_end_a_run_and_survive_any_amount_of_churn(
    agg: Aggregator, clock: ManualClock
) -> None:
    t = clock.time_ns()
    agg.ingest_event(Event(C.WORKER_SPAWN, t, {}, {**MD, "reason": "initial"}))
    agg.ingest_event(Event(C.WORKER_READY, t + 1, {"startup_ns": 1}, MD))
    t = _flip(agg, t + 10, 50)
    _state(agg, t, "ready", "degraded", "slow heartbeat")
    _state(agg, t + 1, "degraded", "ready", "recovered")
    t = _flip(agg, t + 10, 3)
    _state(agg, t, "ready", "busy", "checkout")  # a run may end busy
    _state(agg, t + 1, "busy", "stopping", "recycle")
    agg.ingest_event(
        Event(
            C.WORKER_EXIT,
            t + 2,
            {"lifetime_ns": 5, "tasks_done": 54},
            {**MD, "reason": "recycle", "exit_code": 0},
        )
    )
    assert _history(agg) == [
        ("unknown", "starting", "initial"),
        ("starting", "ready", ""),
        ("busy", "ready", f"{CHURN_PREFIX}100"),
        ("ready", "degraded", "slow heartbeat"),
        ("degraded", "ready", "recovered"),
        ("ready", "busy", f"{CHURN_PREFIX}7"),
        ("busy", "stopping", "recycle"),
        ("stopping", "recycled", "recycle"),
    ]


def test_history_stays_bounded_and_keeps_the_newest_meaningful_changes(
    clock: ManualClock,
) -> None:
    agg = Aggregator(clock)
    t = clock.time_ns()
    agg.ingest_event(Event(C.WORKER_SPAWN, t, {}, {**MD, "reason": "initial"}))
    for i in range(STATE_HISTORY * 3):
        t = _flip(agg, t + 10, 20)
        _state(agg, t, "ready", "degraded", f"episode {i}")
        _state(agg, t + 1, "degraded", "ready", "")
    history = _history(agg)
    assert len(history) == STATE_HISTORY
    assert ("ready", "degraded", f"episode {STATE_HISTORY * 3 - 1}") == history[-2]
    assert all(churn_count(c) in (None, 40) for c in agg.worker(1).state_history)  # type: ignore[union-attr]


def test_a_real_reason_is_never_read_as_a_count() -> None:
    from poolmon.core.snapshot import StateChange

    assert churn_count(StateChange(0, "busy", "ready", "checkin")) is None
    assert churn_count(StateChange(0, "ready", "degraded", f"{CHURN_PREFIX}3")) is None
    assert churn_count(StateChange(0, "ready", "busy", f"{CHURN_PREFIX}3")) == 3


def test_a_lost_link_makes_live_workers_unknown_but_an_exit_stays_an_exit(
    agg: Aggregator, clock: ManualClock
) -> None:
    """Seen live: after a pool's clean exit one worker read `unknown` beside `exit 0`."""
    t = clock.time_ns()
    for wid, pid in ((1, 100), (2, 200)):
        md = {"pool": "p", "worker_id": wid, "pid": pid}
        agg.ingest_event(Event(C.WORKER_SPAWN, t, {}, {**md, "reason": "initial"}))
        agg.ingest_event(Event(C.WORKER_READY, t + 1, {"startup_ns": 1}, md))
    gone = {"pool": "p", "worker_id": 2, "pid": 200, "reason": "shutdown", "exit_code": 0}
    agg.ingest_event(Event(C.WORKER_EXIT, t + 5, {"lifetime_ns": 4, "tasks_done": 0}, gone))
    agg.note_link_down(t + 6)
    states = {w.worker_id: w.state for w in agg.snapshot(60).workers}
    assert states == {1: "unknown", 2: "stopped"}


def _gathered(agg: Aggregator, ts: int, frm: str, to: str, flips: int) -> None:
    """One event standing for `flips` flips, the latest `frm` -> `to` (runtime.pool.flips)."""
    md = {**MD, "from": frm, "to": to, "reason": "checkin" if to == "ready" else "checkout"}
    agg.ingest_event(Event(C.WORKER_STATE, ts, {"flips": flips}, md))


def test_gathered_flips_count_every_flip_even_back_to_the_same_state(
    agg: Aggregator, clock: ManualClock
) -> None:
    _state(agg, 100, "starting", "ready", "")
    _gathered(agg, 200, "ready", "busy", 1)  # the first flip, sent at once
    _gathered(agg, 300, "ready", "busy", 6)  # busy -> ready -> ... -> busy: 6 flips, ends busy
    _gathered(agg, 400, "busy", "ready", 3)
    w = agg.worker(1)
    assert w is not None
    assert w.state == "ready"
    (start, run) = w.state_history
    assert (start.from_state, start.to_state) == ("unknown", "ready")  # first sight
    assert churn_count(run) == 1 + 6 + 3  # ground truth: the flips the pool sent, summed
    assert run.at_ns == 200  # the run began at its first flip
    _gathered(agg, 500, "ready", "busy", 0)  # a peer's garbage count: read as one flip
    w = agg.worker(1)
    assert w is not None
    assert churn_count(w.state_history[-1]) == 11
