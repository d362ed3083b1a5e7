"""The Errors panel's title and legend: the longest form that fits whole, never a cut figure."""

from __future__ import annotations

from poolmon.widgets._error_captions import error_title, fit_legend

TYPES = [("TimeoutError", "100"), ("ConnectionError", "99"), ("ValueError", "45")]


def test_title_keeps_rate_and_count_when_there_is_room() -> None:
    assert error_title("1.2%", "286", 40) == "Errors 1.2% (286)"


def test_title_at_80_columns_beside_the_alerts_abbreviates_instead_of_cutting_the_count() -> None:
    """16 cells: it read `Errors 1.2% (…`."""
    assert error_title("1.2%", "286", 16) == "Err 1.2% (286)"
    assert error_title("1.2%", "286", 12) == "Errors 1.2%"
    assert error_title("1.2%", "286", 8) == "Err 1.2%"


def test_legend_counts_what_does_not_fit() -> None:
    shown, more = fit_legend(TYPES, 44)
    assert shown == [0, 1]
    assert more == "+1"
    assert fit_legend(TYPES, 80) == ([0, 1, 2], "")


def test_legend_never_cuts_the_first_name() -> None:
    """16 cells: it read `■ TimeoutErro…`; now the types are counted instead."""
    assert fit_legend(TYPES, 16) == ([], "3 types")
    assert fit_legend(TYPES[:1], 18) == ([0], "")
    assert fit_legend(TYPES, 4) == ([], "")
