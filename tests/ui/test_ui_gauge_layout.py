"""The Resources panel's form chosen by width: every value whole, the bar shrinking first."""

from __future__ import annotations

from poolmon.widgets._gauge_layout import MIN_BAR, GaugeRow, gauge_layout, host_caption

ROWS = [
    GaugeRow("CPU", "CPU", "3.6 cores of 8", "3.6 cores"),
    GaugeRow("Memory", "Mem", "381MiB", "381MiB"),
    GaugeRow("FDs", "FDs", "24 open", "24"),
    GaugeRow("Queue", "Queue", "0 waiting", "0"),
    GaugeRow("Util", "Util", "44% · avg 57% low", "avg 57% low"),
]


def line_width(layout: object, index: int) -> int:
    from poolmon.widgets._gauge_layout import GaugeLayout

    assert isinstance(layout, GaugeLayout)
    bar = layout.bar_width + 1 if layout.bar_width else 0
    return layout.label_width + bar + len(layout.values[index])


def test_wide_panel_keeps_long_labels_and_unit_words() -> None:
    layout = gauge_layout(ROWS, 44)
    assert layout.values == tuple(row.wide for row in ROWS)
    assert layout.labels[1] == "Memory"
    assert layout.bar_width >= MIN_BAR


def test_middle_width_drops_unit_words_before_cutting_anything() -> None:
    """40 cells (80 columns, no alerts): the latest reading goes, the average stays."""
    layout = gauge_layout(ROWS, 30)
    assert layout.values[4] == "avg 57% low"
    assert layout.labels[1] == "Memory"
    assert all(line_width(layout, i) <= 30 for i in range(len(ROWS)))


def test_beside_the_alerts_at_80_columns_labels_shorten_and_util_stays_whole() -> None:
    """21 cells: `avg 57% l` was drawn here; now `Mem` makes room and `low` stays."""
    layout = gauge_layout(ROWS, 21)
    assert layout.labels[1] == "Mem"
    assert layout.values[4] == "avg 57% low"
    assert layout.bar_width >= MIN_BAR
    assert all(line_width(layout, i) <= 21 for i in range(len(ROWS)))


def test_too_narrow_for_a_bar_keeps_the_values_whole() -> None:
    layout = gauge_layout(ROWS, 17)
    assert layout.bar_width == 0
    assert layout.values[4] == "avg 57% low"


def test_host_caption_takes_the_longest_form_that_fits_whole() -> None:
    assert host_caption("46%", "1.72", "0%", 40) == "host cpu 46% · load 1.72 · swap 0%"
    assert host_caption("46%", "1.72", "0%", 30) == "host cpu 46% load 1.72 swap 0%"
    assert host_caption("46%", "1.72", "0%", 26) == "host 46% load 1.72 swap 0%"
    assert host_caption("46%", "1.72", "0%", 20) == ""
