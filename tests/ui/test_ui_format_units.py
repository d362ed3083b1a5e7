"""Units and labels: time labels in one format, CPU in cores, utilization judged on the mean."""

from __future__ import annotations

from poolmon.widgets import _format as fmt
from poolmon.widgets._series import time_ticks
from poolmon.widgets.resource_gauges import utilization_text


def test_span_keeps_every_unit() -> None:
    assert [fmt.span(s) for s in (0, 45, 60, 270, 3600, 5400, 3661)] == [
        "0s",
        "45s",
        "1m",
        "4m30s",
        "1h",
        "1h30m",
        "1h1m1s",
    ]


def test_time_labels_share_one_format() -> None:
    _, labels = time_ticks(300, 12)  # 30 s steps: -5m, -4m30s, ... now
    assert "-4m30s" in labels
    assert "-270s" not in labels
    assert labels[0] == "-5m"
    assert labels[-1] == "now"


def test_cpu_reads_as_cores() -> None:
    assert fmt.cores(138.0) == "1.4 cores"
    assert fmt.cores(100.0) == "1.0 core"
    assert fmt.cores(4.0) == "0.04 cores"
    assert fmt.cores(None) == fmt.NO_DATA


def test_utilization_band_is_judged_on_the_window_mean() -> None:
    # an instant at 95% inside a quiet window is not "high": the mean says how it is sized
    assert utilization_text(0.95, 0.30, narrow=False) == "95% · avg 30% low"
    assert utilization_text(0.10, 0.70, narrow=False) == "10% · avg 70%"
    assert utilization_text(0.10, 0.90, narrow=True) == "avg 90% high"
    assert utilization_text(None, None, narrow=False) == "— · avg —"


def test_an_upper_bound_rounds_up_and_fits_where_a_duration_fits() -> None:
    cases = {
        0: "≤0ns",
        0.4: "≤1ns",
        999.5: "≤1µs",
        1_234: "≤1.3µs",
        1_230_000: "≤1.3ms",
        8_901_000: "≤9ms",
        21_400_000: "≤22ms",
        123_400_000: "≤124ms",
        999_200_000: "≤1s",
        1_050_000_000: "≤1.1s",
        61_200_000_000: "≤1m02s",
    }
    assert {ns: fmt.duration_at_most(ns) for ns in cases} == cases
    assert fmt.duration_at_most(None) == fmt.NO_DATA
    for ns in (*cases, 5_555_555, 99_990_000, 9_999_999_999):
        assert len(fmt.duration_at_most(ns)) <= len(fmt.duration(ns)) + 1
        assert len(fmt.duration_at_most(ns)) <= 6  # the worker table's Age column
