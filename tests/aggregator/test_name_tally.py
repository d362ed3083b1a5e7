"""Events counted by name: exact for the names kept, bounded for a stream of invented names."""

from __future__ import annotations

from poolmon.core.aggregator import Aggregator
from poolmon.core.counters import NameTally
from poolmon.core.events import Event
from poolmon.testing.clock import ManualClock


def test_names_are_counted_exactly_and_the_table_stays_bounded() -> None:
    tally = NameTally(4)
    for i in range(1000):
        tally.inc(f"user.event.{i % 10}")  # ten names, room for three and the overflow
    assert [tally.count(f"user.event.{i}") for i in range(3)] == [100, 100, 100]
    assert tally.count("user.event.7") == 0  # past the bound: counted together, not by name
    assert sum(tally.counts) == 1000
    assert len(tally.counts) == 4
    assert tally.nbytes == 32


def test_the_aggregator_counts_every_event_by_name() -> None:
    clock = ManualClock()
    agg = Aggregator(clock)
    for i in range(7):
        agg.ingest_event(Event("poolmon.resource.internals", clock.time_ns() + i, {}, {}))
    agg.ingest_event(Event("my.app.event", clock.time_ns(), {}, {}))
    assert agg.event_counts.count("poolmon.resource.internals") == 7
    assert agg.event_counts.count("my.app.event") == 1
    assert agg.event_counts.count("never.sent") == 0
