"""The pure pieces behind the widgets: formatting, series shaping, histogram, gauges, tables."""

from __future__ import annotations

import math
from array import array

import numpy as np
import pytest

from poolmon.core.batchmerge import merge_batches
from poolmon.core.events import TaskBatch
from poolmon.core.snapshot import Histogram, LatencySummary, Series, WorkerView
from poolmon.testing.clock import ManualClock
from poolmon.testing.streams import StreamGenerator, StreamSpec
from poolmon.widgets import _format as fmt
from poolmon.widgets._gauge import Thresholds, gauge_bar
from poolmon.widgets._histogram_render import axis_ticks, nice_range, rebin, render_histogram
from poolmon.widgets._series import (
    bridge,
    gap_spans,
    gauge_range,
    nice_max,
    relative_points,
    segments,
    time_ticks,
)
from poolmon.widgets._worker_rows import matches, visible_workers
from poolmon.widgets.operations_table import slowest_first
from poolmon.widgets.worker_table import age_colour, column_widths

NS = 1_000_000_000


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (None, "—"),
        (850, "850ns"),
        (12_300, "12.3µs"),
        (4_560_000, "4.56ms"),
        (1.5e9, "1.50s"),
        (125e9, "2m05s"),
    ],
)
def test_duration(ns: float | None, text: str) -> None:
    assert fmt.duration(ns) == text


def test_other_formats() -> None:
    assert fmt.size_bytes(512) == "512B"
    assert fmt.size_bytes(40 * 1024 * 1024) == "40.0MiB"
    assert fmt.count(12_345) == "12.3k"
    assert fmt.rate(0) == "0/s"
    assert fmt.rate(1234) == "1.23k/s"
    assert fmt.percent(0.004) == "0.4%"
    assert fmt.percent(None) == "—"
    assert fmt.window(900) == "15m"
    assert fmt.window(3600) == "1h"
    assert fmt.age(3 * 86400 * NS + 4 * 3600 * NS) == "3d04h"
    assert fmt.clock(1_767_225_600 * NS) == "00:00:00"


def test_relative_points_drops_the_filling_slot_and_averages() -> None:
    now = 100 * NS
    series = Series(start_ns=40 * NS, step_ns=NS, values=tuple(float(i) for i in range(61)))
    points = relative_points(series, now, max_points=1000)
    assert len(points.x) == 60  # slot [100, 101) is still filling
    assert points.x[-1] == pytest.approx(-0.5)
    halved = relative_points(series, now, max_points=30)
    assert len(halved.x) == 30
    assert halved.y[0] == pytest.approx(0.5)


def test_gaps_stay_gaps() -> None:
    series = Series(0, NS, (1.0, 2.0, None, None, 5.0, 6.0))
    points = relative_points(series, 6 * NS, 100)
    runs = segments(points)
    assert [ys for _, ys in runs] == [[1.0, 2.0], [5.0, 6.0]]
    # the span covers the two missing one-second slots edge to edge: [-4 s, -2 s]
    assert gap_spans(points) == [(pytest.approx(-4.0), pytest.approx(-2.0))]
    averaged = relative_points(Series(0, NS, (None, None, 3.0, None)), 4 * NS, 2)
    assert averaged.y == (None, 3.0)


def test_time_ticks_end_at_now_and_fit() -> None:
    ticks, labels = time_ticks(3600, 8)
    assert labels[-1] == "now"
    assert ticks[0] == -3600
    assert len(ticks) <= 8
    assert time_ticks(60, 3)[1] == ["-1m", "-30s", "now"]


def test_nice_max() -> None:
    assert nice_max([None, 0.0]) == 1.0
    assert nice_max([560.0]) == 600.0
    assert nice_max([1001.0]) == 1500.0


def test_rebin_conserves_counts_and_render_marks_percentiles() -> None:
    rng = np.random.default_rng(3)
    data = rng.lognormal(math.log(2e6), 0.5, 10_000)
    edges = [1000 * 1.02**i for i in range(1200)]
    counts = np.histogram(data, bins=edges)[0]
    lo, hi = nice_range(
        edges[int(np.flatnonzero(counts)[0])], edges[int(np.flatnonzero(counts)[-1]) + 1]
    )
    assert sum(rebin(edges, counts.tolist(), lo, hi, 50)) == pytest.approx(counts.sum())
    assert all(lo <= t <= hi * 1.0001 for t in axis_ticks(lo, hi))
    p50, p95, p99 = np.percentile(data, [50, 95, 99])
    rows = render_histogram(
        Histogram(tuple(edges), tuple(int(c) for c in counts)),
        LatencySummary(len(data), p50_ns=p50, p95_ns=p95, p99_ns=p99),
        60,
        10,
    )
    assert len(rows) == 10
    assert all(r.cell_len == 60 for r in rows)
    markers = rows[-2].plain
    assert markers.index("p50") < markers.index("p95") < markers.index("p99")
    assert "ms" in rows[-1].plain


def test_empty_histogram_says_so() -> None:
    rows = render_histogram(Histogram(), LatencySummary(), 40, 6)
    assert any("no finished tasks" in r.plain for r in rows)


def test_gauge() -> None:
    from rich.style import Style

    assert gauge_bar(None, 5, Style()).plain == "·····"
    assert gauge_bar(0.5, 10, Style()).plain.startswith("█████")
    assert gauge_bar(2.0, 4, Style()).plain == "████"
    assert Thresholds(0.75, 0.9).level(0.8) == "warning"


def _worker(i: int, state: str = "ready", **kw: object) -> WorkerView:
    return WorkerView(i, pid=1000 + i, state=state, **kw)  # type: ignore[arg-type]


def test_worker_filter_and_sort() -> None:
    workers = [
        _worker(0),
        _worker(1, "busy", current_op="resize_image"),
        _worker(2, "busy", rss_bytes=99),
        _worker(3, alive=False),
    ]
    assert matches(workers[1], "resize")
    assert matches(workers[1], "1001")
    assert not matches(workers[1], "!busy")
    assert [w.worker_id for w in visible_workers(workers, "busy", "id")] == [1, 2]
    assert next(w.worker_id for w in visible_workers(workers, "", "rss")) == 2
    assert visible_workers(workers, "", "id")[-1].worker_id == 3  # dead workers last


def test_time_before_the_first_data_is_not_a_gap() -> None:
    """A young pool: blank before its first second, gaps only between data."""
    young = relative_points(Series(0, NS, (None,) * 40 + (3.0, 4.0)), 42 * NS, 100)
    assert gap_spans(young) == []
    lost = relative_points(Series(0, NS, (None,) * 5 + (3.0, None, 4.0)), 8 * NS, 100)
    assert gap_spans(lost) == [(pytest.approx(-2.0), pytest.approx(-1.0))]
    assert gap_spans(relative_points(Series(0, NS, (None, None)), 2 * NS, 100)) == []


def test_a_short_silence_at_the_right_edge_is_not_yet_a_gap() -> None:
    short = relative_points(Series(0, NS, (1.0, 2.0, None, None)), 4 * NS, 100)
    assert gap_spans(short) == []
    long = relative_points(Series(0, NS, (1.0,) + (None,) * 6), 7 * NS, 100)
    assert gap_spans(long) == [(pytest.approx(-6.0), pytest.approx(0.0))]


def test_gauges_bridge_a_missing_sample_and_span_their_own_range() -> None:
    points = relative_points(
        Series(0, NS, (None, 10.0, None, 12.0, None, None, None, 9.0)), 8 * NS, 100
    )
    bridged = bridge(points, 2)
    assert bridged.y == (None, 10.0, 10.0, 12.0, None, None, None, 9.0)
    lo, hi = gauge_range([None, 100.0, 104.0])
    assert 90.0 < lo < 100.0 < 104.0 < hi < 110.0
    assert gauge_range([None]) == (0.0, 1.0)


def test_age_colour_marks_slow_current_tasks() -> None:
    assert age_colour(None) == ""
    assert age_colour(900_000_000) == ""
    assert age_colour(2_000_000_000) == "warning"
    assert age_colour(20_000_000_000) == "error"


def test_column_widths_fit_80_columns_and_grow_the_task_column() -> None:
    narrow = column_widths(76)
    assert sum(narrow) <= 76
    wide = column_widths(156)
    assert wide[3] > narrow[3]
    assert sum(wide) <= 156
    assert narrow[3] - 1 >= len("fetch_profile"), "an operation name fits whole at 80 columns"


def test_operations_slowest_first() -> None:
    from poolmon.core.snapshot import OperationView

    ops = [
        OperationView("a", latency=LatencySummary(1, p99_ns=1.0)),
        OperationView("b", latency=LatencySummary(1, p99_ns=5.0)),
        OperationView("c"),
    ]
    assert [o.name for o in slowest_first(ops)] == ["b", "a", "c"]


def test_merge_batches_remaps_names() -> None:
    first = TaskBatch.from_rows([(1, 0, "x", 10, 5, 1, 0, ""), (2, 1, "y", 11, 6, 1, 1, "E")])
    second = TaskBatch.from_rows([(3, 2, "y", 12, 7, 1, 1, "F"), (4, 2, "z", 13, 8, 1, 0, "")])
    merged = merge_batches([first, TaskBatch(), second])
    assert list(merged.rows()) == list(first.rows()) + list(second.rows())
    assert merged.task_id == array("q", [1, 2, 3, 4])


def test_stream_is_reproducible() -> None:
    def run() -> list[object]:
        clock = ManualClock()
        gen = StreamGenerator(StreamSpec(seed=11, workers=4), clock.time_ns())
        return [(tuple(e), tuple(b.rows())) for _, e, b in gen.seconds(50)]

    first, second = run(), run()
    assert first == second
    names = {e.name for events, _ in first for e in events}  # type: ignore[attr-defined]
    assert "poolmon.worker.exit" in names
