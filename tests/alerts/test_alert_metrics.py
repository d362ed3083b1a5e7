"""The metric vocabulary read from a real aggregator: values, units, splits and 'no data'."""

from __future__ import annotations

import pytest

from poolmon.core.alerts.metrics import METRICS, MetricMemory, MetricReader
from poolmon.core.alerts.units import (
    format_duration,
    format_rate,
    format_value,
    parse_duration,
)
from poolmon.testing.pool_feed import OpKnobs, PoolFeed, PoolKnobs


def _read(feed: PoolFeed) -> MetricReader:
    return MetricReader(feed.agg, feed.now_ns, MetricMemory())


def test_every_metric_has_no_data_before_anything_arrived() -> None:
    feed = PoolFeed()
    r = _read(feed)
    for name, spec in METRICS.items():
        assert r.read(name, 60).get(()) is None, name
        for by in spec.by:
            assert len(r.read(name, 60, by).keys) == 0, (name, by)


def test_values_after_a_minute() -> None:
    knobs = PoolKnobs(
        workers=2,
        ops={"a": OpKnobs(100, 0.01, 0.01, 0.1), "b": OpKnobs(50, 0.1, 0.01)},
        queue_depth=4,
        utilization=0.5,
        cpu_percent=30,
        rss=lambda w, t: (w + 1) * 100 * 2**20,
    )
    feed = PoolFeed(knobs)
    memory = MetricMemory()
    for _ in range(60):
        feed.step()
        MetricReader(feed.agg, feed.now_ns, memory).read("worker_cpu_percent", 60, "worker")
    r = MetricReader(feed.agg, feed.now_ns, memory)
    assert r.read("error_rate", 60, "op").get((("op", "a"),)) == pytest.approx(0.1, abs=0.03)
    assert r.read("error_rate", 60, "op").get((("op", "b"),)) == 0.0
    assert r.read("latency_p50", 60, "op").get((("op", "b"),)) == pytest.approx(0.1, rel=0.02)
    assert r.read("throughput", 60).get(()) == pytest.approx(150, rel=0.1)
    assert r.read("queue_depth", 60).get(()) == 4
    assert r.read("utilization", 60).get(()) == 0.5
    assert r.read("pool_size", 60).get(()) == 2
    assert r.read("busy", 60).get(()) == 1
    rss = r.read("worker_rss_bytes", 60, "worker")
    assert (rss.get((("worker", "0"),)), rss.get((("worker", "1"),))) == (100 * 2**20, 200 * 2**20)
    assert r.read("worker_rss_bytes", 60).get(()) == 300 * 2**20
    assert r.read("worker_cpu_percent", 60, "worker").get((("worker", "1"),)) == 30
    assert r.read("worker_exits", 60).get(()) == 0
    assert r.read("telemetry_dropped", 60).get(()) == 0


def test_cpu_is_averaged_over_the_window() -> None:
    feed = PoolFeed(PoolKnobs(workers=1, cpu_percent=10))
    memory = MetricMemory()
    for t in range(120):
        feed.knobs.cpu_percent = 10 if t < 60 else 50
        feed.step()
        MetricReader(feed.agg, feed.now_ns, memory).read("worker_cpu_percent", 60)
    r = MetricReader(feed.agg, feed.now_ns, memory)
    assert r.read("worker_cpu_percent", 40).get(()) == 50
    assert r.read("worker_cpu_percent", 120).get(()) == pytest.approx(30, abs=3)


def test_exits_count_only_abnormal_ones() -> None:
    feed = PoolFeed(PoolKnobs(workers=3))
    for t in range(30):
        feed.knobs.exits = (1,) if t in (5, 10) else ((2,) if t == 20 else ())
        feed.knobs.exit_reason = "recycle_tasks" if t == 20 else "crash"
        feed.step()
    r = _read(feed)
    exits = r.read("worker_exits", 60, "worker")
    assert [exits.get((("worker", str(w)),)) for w in range(3)] == [0, 2, 0]
    assert r.read("worker_exits", 60).get(()) == 2
    assert r.read("worker_exits", 12).get(()) == 0


def test_telemetry_drops_are_an_increase_that_survives_a_reset() -> None:
    feed = PoolFeed()
    memory = MetricMemory()

    def read(w: int) -> float | None:
        return MetricReader(feed.agg, feed.now_ns, memory).read("telemetry_dropped", w).get(())

    for t in range(40):
        feed.knobs.dropped_total = 0 if t < 10 else (30 if t < 20 else 5)  # restart at t=20
        feed.step()
        read(60)
    assert read(60) == 35
    assert read(15) == 0


def test_units_and_durations() -> None:
    assert [parse_duration(x) for x in ("500ms", "30s", "5m", "1h30m", "1d", "2w", "90")] == [
        0.5, 30, 300, 5400, 86400, 1209600, 90,
    ]  # fmt: skip
    for bad in ("5x", "m5", "", "30m1h", "1h 30m", "-1s"):
        with pytest.raises(ValueError, match="duration"):
            parse_duration(bad)
    assert [format_duration(x) for x in (0, 0.5, 45, 300, 5400, 90061)] == [
        "0s", "500ms", "45s", "5m", "1h30m", "1d1h1m1s",
    ]  # fmt: skip
    assert format_value(0.052, "ratio") == "5.2 %"
    assert format_value(0.24, "seconds") == "240 ms"
    assert format_value(38 * 2**20, "bytes") == "38 MiB"
    assert format_value(412.4, "per_second") == "412/s"
    assert format_value(None, "ratio") == "\u2014"
    assert format_rate(0.12, "bytes", 3600, True) == "12 %/h"
    assert format_rate(2**20, "bytes", 60, False) == "1 MiB/min"


def test_latency_reads_match_the_aggregators_own_summaries() -> None:
    from poolmon.core.alerts.metrics import entity_window

    knobs = PoolKnobs(ops={"a": OpKnobs(80, 0.01, 0.6), "b": OpKnobs(30, 0.2, 0.3)})
    feed = PoolFeed(knobs)
    for _ in range(400):
        feed.step()
    r = _read(feed)
    now_s = feed.now_ns // 10**9
    st = feed.agg.stats
    for w in (30, 60, 300):
        pool = st.latency.summary(now_s, w)
        assert r.read("latency_p99", w).get(()) == pytest.approx(pool.p99_ns / 1e9)
        for col, dist in st.op_latency.items():
            want = dist.summary(now_s, entity_window(w))
            key = (("op", st.ops.keys.name(col)),)
            assert r.read("latency_p50", w, "op").get(key) == pytest.approx(want.p50_ns / 1e9)
            assert r.read("latency_p999", w, "op").get(key) == pytest.approx(want.p999_ns / 1e9)


def test_quantile_rows_equal_the_sketch_quantiles_row_by_row() -> None:
    import numpy as np

    from poolmon.core.alerts.metrics import quantile_rows
    from poolmon.core.sketch import QUANTILES, quantiles_from_counts

    rng = np.random.default_rng(11)
    for _ in range(200):
        rows = int(rng.integers(1, 25))
        counts = np.zeros((rows, 1280), dtype=np.int64)
        for i in range(rows):
            a, w = int(rng.integers(0, 1279)), int(rng.integers(1, 80))
            counts[i, a : a + w] = rng.integers(0, 5, len(counts[i, a : a + w]))
            counts[i, a] += 1
        lo = rng.uniform(0, 1e6, rows)
        hi = lo + rng.uniform(0, 1e9, rows)
        want = [quantiles_from_counts(counts[i], QUANTILES, lo[i], hi[i]) for i in range(rows)]
        assert quantile_rows(counts, lo, hi).tolist() == want
