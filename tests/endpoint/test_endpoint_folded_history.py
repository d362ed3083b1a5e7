"""History with deferred rollup folding: rows handed over per flush are counted exactly once,
and a server that nobody watches flushes rarely without dropping a burst."""

from __future__ import annotations

import time
from array import array

from endpoint_fakes import tasks

from poolmon.core.events import TaskBatch
from poolmon.core.rollup import Rollup
from poolmon.runtime.endpoint import EndpointServer, History
from poolmon.runtime.telemetry import Telemetry

S = 1_000_000_000
T0 = 1_800_000_000 * S


def test_rows_committed_per_flush_are_rolled_up_once_when_their_second_closes() -> None:
    history = History(close_grace_s=1)
    sent = 0
    for sec in range(5):
        for _ in range(7):  # several flushes a second, a few small batches each
            for _ in range(3):
                history.add_tasks(tasks(11, start=sent, at_ns=T0 + sec * S + 1000))
                sent += 11
            history.commit()
        history.tick(T0 + sec * S + S // 2)
    history.tick(T0 + 20 * S)
    rolled = [Rollup.from_wire(w) for w in history.backfill().rollups]
    assert [r.second_ns for r in rolled] == [T0 + k * S for k in range(5)]
    assert [r.count for r in rolled] == [7 * 3 * 11] * 5
    assert sum(r.count for r in rolled) == sent
    assert history.recent_totals(T0 + 6 * S, seconds=5)["tasks_done"] == sent


def test_a_batch_with_a_bad_index_is_kept_raw_but_not_rolled_up() -> None:
    history = History(close_grace_s=0)
    good = tasks(4, at_ns=T0)
    bad = TaskBatch(
        good.ops, good.error_types, *(array("q", getattr(good, c)) for c in (
            "task_id", "worker_id")), array("q", [5, 0, 0, 0]),  # op 5: no such name
        *(array("q", getattr(good, c)) for c in (
            "start_ns", "duration_ns", "wait_ns", "status", "error_type")),
    )  # fmt: skip
    history.add_tasks(good)
    history.add_tasks(bad)
    history.commit()
    history.tick(T0 + 2 * S)
    (rollup,) = [Rollup.from_wire(w) for w in history.backfill().rollups]
    assert rollup.count == 4
    assert history.invalid_batches == 1
    assert history.held_events == 2  # both kept raw for resume


def test_an_idle_server_flushes_a_burst_early_instead_of_waiting(
    make_server,  # type: ignore[no-untyped-def]
    telemetry: Telemetry,
) -> None:
    # Nobody is connected and the idle flush interval is far away: only the inbox's early
    # wake-up (a quarter of its limit) makes the server number these records now.
    server: EndpointServer = make_server(
        inbox_limit=400, idle_flush_interval_s=30.0, flush_interval_s=30.0
    )
    telemetry.emit_tasks(tasks(1), {})  # flushed at once: the first flush has no predecessor
    deadline = time.monotonic() + 10
    while server.history.next_seq < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    for i in range(150):  # the next flush is 30 s away unless the inbox wakes the server
        telemetry.emit_tasks(tasks(1, start=1 + i), {})
    while server.history.next_seq < 100 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.history.next_seq >= 100
    assert server.inbox_dropped == 0
