"""A pool the watcher cannot hear exports no present-tense gauges, only its totals and up=0.

Before, a pool that died with an alert firing kept `poolmon_alerts{alertstate="firing"}` at 1
in every scrape (so Alertmanager would keep paging for a pool that is gone), and its size,
queue and workers' memory repeated their last values as if current.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from poolmon.core.aggregator import Aggregator
from poolmon.runtime.watch.collector import WatchCollector
from poolmon.runtime.watch.figures import read_figures
from poolmon.testing.alert_samples import alert_state_event, sample_view
from poolmon.testing.clock import ManualClock
from poolmon.testing.streams import FeedSource, StreamGenerator, StreamSpec

NOW_GAUGES = (
    "poolmon_pool_size{",
    "poolmon_pool_busy_workers{",
    "poolmon_queue_depth{",
    "poolmon_utilization_ratio{",
    "poolmon_worker_rss_bytes{",
    "poolmon_worker_cpu_ratio{",
    "poolmon_alerts{",
)


def exposition(agg: Aggregator, state: str) -> str:
    reg = CollectorRegistry(auto_describe=False)
    figures = read_figures(
        agg, pool="demo", socket="/s/demo.sock", state=state, heard=True, lag_s=7.5
    )
    reg.register(WatchCollector(lambda: [figures]))
    return generate_latest(reg).decode()


def loaded_aggregator() -> Aggregator:
    """60 s of the demo stream (status, resources, tasks) and the sample alert state."""
    source = FeedSource(ManualClock())
    generator = StreamGenerator(StreamSpec(), source.clock.time_ns())
    source.attach(generator.pool_info())
    source.play(generator, 60)
    source.feed([alert_state_event(sample_view(source.clock.time_ns()))])
    return source.read(lambda agg: agg)


def test_live_exports_the_present_and_a_lost_link_only_the_totals() -> None:
    agg = loaded_aggregator()
    live = exposition(agg, "live")
    for name in NOW_GAUGES:
        assert name in live, name
    assert 'poolmon_pool_up{pool="demo"} 1.0' in live
    for state in ("disconnected", "stale"):
        gone = exposition(agg, state)
        for name in NOW_GAUGES:
            assert name not in gone, (state, name)
        assert 'poolmon_pool_up{pool="demo"} 0.0' in gone
        assert 'poolmon_watcher_lag_seconds{pool="demo"} 7.5' in gone
        totals = [line for line in live.splitlines() if line.startswith("poolmon_tasks_total{")]
        assert totals
        assert all(line in gone for line in totals)  # counters keep what was counted
