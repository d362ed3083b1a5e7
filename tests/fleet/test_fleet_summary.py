"""A pool's summary says what its full snapshot says, at a fraction of the work."""

from __future__ import annotations

from poolmon.core.aggregator import Aggregator
from poolmon.core.fleet_summary import summarize_pool
from poolmon.testing.alert_samples import alert_state_event, sample_view
from poolmon.testing.clock import ManualClock
from poolmon.testing.streams import FeedSource, StreamGenerator, StreamSpec


def fed(seconds: int) -> tuple[Aggregator, ManualClock]:
    clock = ManualClock()
    agg = Aggregator(clock)
    source = FeedSource(clock, agg)
    generator = StreamGenerator(StreamSpec(), clock.time_ns())
    source.attach(generator.pool_info())
    source.play(generator, seconds)
    return agg, clock


def test_summary_matches_the_snapshot() -> None:
    agg, _ = fed(90)
    for window in (60, 300):
        snap = agg.snapshot(window)
        summary = summarize_pool(agg, window)
        assert summary.tasks_finished == snap.tasks_finished > 0
        assert summary.throughput_per_s == snap.throughput_per_s
        assert summary.p99_ns == snap.latency.p99_ns
        assert summary.error_rate == snap.error_rate
        assert (summary.size, summary.busy) == (snap.size, snap.busy)
        assert summary.throughput == snap.throughput  # the same series as the chart's
        assert summary.pool == snap.pool


def test_no_data_is_none_never_zero() -> None:
    agg, _ = fed(0)
    summary = summarize_pool(agg, 60)
    assert summary.throughput_per_s is None
    assert summary.p99_ns is None
    assert summary.error_rate is None
    assert summary.size is None
    assert summary.alerts_firing is None  # no alert state received is not "no alerts"


def test_alerts_firing_are_counted() -> None:
    agg, clock = fed(30)
    view = sample_view(clock.time_ns())
    agg.ingest_event(alert_state_event(view))
    summary = summarize_pool(agg, 60)
    firing = [a for a in view.alerts if a.display_state == "firing"]
    assert summary.alerts_firing == len(firing) > 0
    assert summary.critical_firing == any(a.severity == "critical" for a in firing)
