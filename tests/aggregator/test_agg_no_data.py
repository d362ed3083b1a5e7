"""No data is not zero: gauges and rates without data are None; one window per operation row."""

from __future__ import annotations

from poolmon.core.aggregator import Aggregator
from poolmon.core.snapshot import PoolSnapshot
from poolmon.widgets import _format as fmt
from poolmon.widgets.status_bar import gaps_in_window

NS = 1_000_000_000


def test_a_fresh_aggregator_has_no_gauges_and_no_rate(agg: Aggregator) -> None:
    snap = agg.snapshot(60)
    assert (snap.size, snap.busy, snap.idle, snap.queue_depth) == (None, None, None, None)
    assert snap.throughput_per_s is None
    assert all(w.throughput_per_s is None for w in agg.summary().windows)


def test_an_operation_row_is_one_window_with_exact_min_max(
    agg: Aggregator, clock, make_batch
) -> None:
    now = clock.time_ns()
    # 60 quick tasks spread over the last minute and one slow one at its start
    ends = [now - i * NS // 2 for i in range(60)] + [now - 59 * NS]
    durs = [1_000_000 + 1_234 * i for i in range(60)] + [900_000_000]
    agg.ingest_tasks(make_batch(end_ns=ends, duration_ns=durs))
    (op,) = agg.snapshot(60).operations
    assert op.latency.count == op.count
    assert op.latency.min_ns is not None
    assert op.latency.mean_ns is not None
    assert op.latency.max_ns is not None
    assert op.latency.min_ns <= op.latency.mean_ns <= op.latency.max_ns
    assert op.latency.min_ns == 1_000_000
    assert op.latency.max_ns in (900_000_000, max(durs[:60]))


def test_gaps_in_window_counts_only_the_window() -> None:
    now = 10_000 * NS
    snap = PoolSnapshot(
        taken_at_ns=now,
        window_s=60,
        gaps=((now - 3000 * NS, now - 2990 * NS), (now - 30 * NS, now - 20 * NS)),
    )
    assert gaps_in_window(snap) == 1


def test_tiny_samples_show_their_size_not_a_percentile() -> None:
    assert fmt.percentile(2, 3_000_000.0) == "n=2"
    assert fmt.percentile(0, None) == fmt.NO_DATA
    assert fmt.percentile(50, 3_000_000.0) == fmt.duration(3_000_000.0)


def test_zero_queue_waits_read_zero(agg: Aggregator, clock, make_batch) -> None:
    now = clock.time_ns()
    waits = [0] * 10 + [5_000] * 9
    agg.ingest_tasks(make_batch(end_ns=[now] * 19, duration_ns=[1_000] * 19, wait_ns=waits))
    wait = agg.snapshot(60).queue_wait
    assert wait.min_ns == 0
    assert wait.p50_ns == 0
    assert wait.p99_ns is not None
    assert abs(wait.p99_ns - 5_000) <= 50


def test_an_operation_row_says_how_many_seconds_its_count_covers(
    agg: Aggregator, clock, make_batch
) -> None:
    """Per-operation slots are 10 s wide: a minute's row counts 50-60 s, and says which.

    Ground truth computed here: one task every half second for 90 s; the row must count
    exactly those that finished from the first whole 10-s slot inside the minute, its rate
    must be that count over the covered time, and the pool-wide count the whole minute.
    """
    clock.advance(7.25)  # not on a slot boundary: the row must cover 57.25 s, not 60
    now = clock.time_ns()
    ends = [now - i * NS // 2 for i in range(180)]
    agg.ingest_tasks(make_batch(end_ns=ends, duration_ns=[1_000_000] * len(ends)))
    snap = agg.snapshot(60)
    (op,) = snap.operations
    now_s = now // NS
    first_s = now_s - now_s % 10 - 50
    assert op.count == sum(1 for e in ends if e // NS >= first_s)
    assert op.covered_s == (now - first_s * NS) / NS
    assert 50 <= op.covered_s < 60
    assert op.rate_per_s == op.count / op.covered_s
    assert snap.tasks_finished == sum(1 for e in ends if e // NS > now_s - 60)
