"""What a monitor receives, counted per frame: records, newest time, losses, reconnects."""

from __future__ import annotations

from array import array

from poolmon.core import catalog as C
from poolmon.core.events import Event, TaskBatch
from poolmon.core.protocol import Batch, Heartbeat, HistoryEnd, Welcome
from poolmon.runtime.intake import IntakeMeter
from poolmon.runtime.reconnecting import Disconnected
from poolmon.testing.clock import ManualClock

S = 1_000_000_000


def welcome(now: int) -> Welcome:
    return Welcome(pool="p", pid=1, host="h", started_at_ns=now)


def tasks(start_ns: int, durations: list[int]) -> TaskBatch:
    n = len(durations)

    def col(values: list[int]) -> array[int]:
        return array("q", values)

    return TaskBatch(
        ("op",), ("",), col(list(range(n))), col([0] * n), col([0] * n),
        col([start_ns + i for i in range(n)]), col(durations), col([0] * n),
        col([0] * n), col([0] * n),
    )  # fmt: skip


def test_records_newest_time_and_lag() -> None:
    clock = ManualClock()
    meter = IntakeMeter(clock)
    assert meter.lag_s() is None  # nothing received: no lag to speak of
    now = clock.time_ns()
    internals = Event(C.RESOURCE_INTERNALS, now - 2 * S, {"monitors": 1, "events_dropped": 3})
    batch = tasks(now - 3 * S, [S, 500, 2 * S])  # the last row ends at now - 1 s
    meter.note(Batch(1, 3, ((1, internals),), ((2, batch),)))
    assert meter.records == 4  # one event and three task rows
    assert meter.frames == 1
    assert meter.newest_ts_ns == now - 3 * S + 2 + 2 * S  # the newest: a task's end
    assert meter.internals == (("monitors", 1.0), ("events_dropped", 3.0))
    assert meter.internals_at_ns == now - 2 * S
    clock.advance(2)
    assert abs((meter.lag_s() or 0) - 3.0) < 0.01
    meter.note(Heartbeat(ts_ns=clock.time_ns()))
    assert meter.lag_s() == 0.0
    meter.note(Disconnected("gone", 0.1, 1))  # the monitor's own note is not a frame
    assert meter.frames == 2


def test_losses_add_up_across_connections() -> None:
    clock = ManualClock()
    meter = IntakeMeter(clock)
    meter.note(welcome(clock.time_ns()))
    meter.note(Heartbeat(ts_ns=clock.time_ns(), dropped_records=5))
    meter.note(Heartbeat(ts_ns=clock.time_ns(), dropped_records=9))  # a running count
    assert meter.server_lost == 9
    assert meter.reconnects == 0
    meter.note(welcome(clock.time_ns()))  # reconnected: the server's count starts over
    meter.note(HistoryEnd(live_seq=10, resumed=True, lost=4))
    meter.note(Heartbeat(ts_ns=clock.time_ns(), dropped_records=2))
    assert meter.server_lost == 11
    assert meter.server_dropped == 2
    assert meter.history_lost == 4
    assert meter.reconnects == 1
