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


def test_clip_words_cuts_between_words_never_inside_a_figure() -> None:
    from poolmon.widgets._clip_words import clip_words

    message = "order 10977 has no line items"
    assert clip_words(message, 40) == message
    assert clip_words(message, 16) == "order 10977 …"  # was `order 1097…`
    assert clip_words(message, 10) == "order …"
    assert clip_words("x" * 30, 8) == "xxxxxxx…"  # one long word: nothing whole to show


def test_failure_columns_fit_names_whole() -> None:
    from poolmon.core.failures import TaskFailure
    from poolmon.widgets.failure_table import column_widths as failure_widths

    assert failure_widths([])["op"] == len("Operation")
    failure = TaskFailure(
        at_ns=0,
        task_id=1234567,
        op="reconcile_customer_ledger",
        worker_id=12,
        pid=1,
        error_type="ConnectionRefusedError",
        message="m",
        traceback="",
        duration_ns=None,
    )
    widths = failure_widths([failure])
    assert widths["task"] == len("1234567")
    assert widths["op"] == len("reconcile_customer_ledger")  # was cut at 15
    assert widths["worker"] == len("Worker")
    assert widths["type"] == len("ConnectionRefusedError")


def test_hanging_lines_do_not_paint_the_body_in_the_prefix_style() -> None:
    lines = hanging_lines(Text("WARN ", style="bold red"), Text("leaks 240 MiB/h"), 40, Console())
    assert len(lines) == 1
    assert lines[0].style == ""
    body_styles = {str(span.style) for span in lines[0].spans if span.start >= len("WARN ")}
    assert "bold red" not in body_styles


def test_cursor_within_moves_to_the_nearest_row_in_view() -> None:
    from poolmon.widgets._line_table import cursor_within

    assert cursor_within(39, top=0, visible=5, count=40) == 4  # scrolled to the top
    assert cursor_within(0, top=20, visible=5, count=40) == 20  # scrolled down
    assert cursor_within(22, top=20, visible=5, count=40) == 22  # already in view
    assert cursor_within(3, top=0, visible=5, count=0) == 0


def test_the_pools_cursor_follows_a_wheel_scroll() -> None:
    """A wheel scroll must not leave the pools overview's cursor on a hidden row."""
    import asyncio

    from textual.app import App, ComposeResult

    from poolmon.core.fleet_summary import PoolRow, PoolSummary
    from poolmon.widgets.pool_table import PoolTable

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield PoolTable()

    rows = [PoolRow(f"/tmp/p{i}", f"pool{i:02}", "live", "", PoolSummary()) for i in range(40)]

    async def run() -> None:
        app = Host()
        async with app.run_test(size=(80, 12)) as pilot:
            table = app.query_one(PoolTable)
            table.show_rows(rows)
            await pilot.pause()
            table.cursor_row = 39
            await pilot.pause()
            table.scroll_to(y=0, animate=False, immediate=True)
            await pilot.pause()
            top, visible = round(table.scroll_offset.y), table.size.height - 1
            assert top <= table.cursor_row < top + visible

    asyncio.run(run())


def test_a_data_tables_cursor_follows_a_wheel_scroll() -> None:
    """Operations, alerts, failures, settings: enter must never open a row scrolled away."""
    import asyncio

    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    from poolmon.widgets._cursor_in_view import CursorInView, rows_in_view

    class Table(CursorInView, DataTable[str]):
        pass

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield Table(cursor_type="row")

    async def run(height: int) -> None:
        app = Host()
        async with app.run_test(size=(60, 12)) as pilot:
            table = app.query_one(Table)
            table.add_column("row")
            for i in range(40):
                table.add_row(f"row {i}" + "\nsecond line" * (height - 1), height=height)
            table.focus()
            table.move_cursor(row=39)
            await pilot.pause()
            table.scroll_to(y=0, animate=False, immediate=True)
            await pilot.pause()
            view = rows_in_view(table, round(table.scroll_y))
            assert view is not None
            assert view[0] <= table.cursor_row <= view[1]
            assert table.cursor_row < 39

    asyncio.run(run(1))
    asyncio.run(run(2))  # the alert table's two-line rows
