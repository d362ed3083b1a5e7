"""Narrow lists keep every word whole: the drill-down's task columns and its history lines."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from poolmon.core.snapshot import TaskRecord
from poolmon.widgets._hanging import hanging_lines
from poolmon.widgets.task_list import column_widths


def task(task_id: int, op: str, status: str = "ok", error: str = "") -> TaskRecord:
    return TaskRecord(task_id, op, 0, 1_000_000, status, error)


def test_task_columns_fit_the_longest_name_and_outcome() -> None:
    widths = column_widths([task(37721, "resize_image"), task(7, "x", "error", "TimeoutError")])
    assert widths["task"] == len("Task") + 1 + 1  # `37721` + a blank
    assert widths["op"] == len("resize_image") + 1
    assert widths["outcome"] == 1 + len("TimeoutError")
    assert sum(widths.values()) <= 49  # the drill-down's lower left at 80 columns


def test_task_columns_without_rows_fit_their_headers() -> None:
    widths = column_widths([])
    assert widths["op"] == len("Operation") + 1
    assert widths["outcome"] == len(" Outcome")


def test_hanging_lines_indent_under_the_text_not_the_time() -> None:
    lines = hanging_lines(Text("00:00:41 "), Text("crashed → starting (replace)"), 25, Console())
    assert [line.plain.rstrip() for line in lines] == [
        "00:00:41 crashed →",
        "         starting",
        "         (replace)",
    ]
    assert all(line.cell_len <= 25 for line in lines)


def test_hanging_lines_keep_a_line_that_fits_whole() -> None:
    lines = hanging_lines(Text("00:00:41 "), Text("starting → ready"), 25, Console())
    assert [line.plain for line in lines] == ["00:00:41 starting → ready"]
