"""The worker table keeps the strips of the rows it draws, not of every value a row ever had.

Issue 17: its strip cache was keyed by a row's text and only emptied at 4,096 strips, so a
live table (done, CPU and RSS change every refresh) held thousands of 160-column strips at its
peak, and the app's RSS kept that peak. These tests refresh a real table in a headless app
many times and count what it holds.
"""

from __future__ import annotations

import asyncio

from textual.app import App, ComposeResult
from textual.strip import Strip

from poolmon.core.snapshot import WorkerView
from poolmon.widgets import _format as fmt
from poolmon.widgets._line_table import RowStrips
from poolmon.widgets.worker_table import WorkerTable

ROWS = 14
"""The bench's steady worker rows (4 alive, 10 exited kept for 600 s)."""
REFRESHES = 80


class _TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield WorkerTable()


def _workers(n: int) -> tuple[WorkerView, ...]:
    """Refresh `n`: the four live workers' figures change, the exited rows do not."""
    alive = tuple(
        WorkerView(
            i,
            pid=1000 + i,
            state="busy",
            tasks_done=10_000 * n + i,
            cpu_percent=float(n % 97),
            rss_bytes=(40 + n) * 2**20,
        )
        for i in range(4)
    )
    exited = tuple(
        WorkerView(i, pid=1000 + i, state="killed", tasks_done=5_000 + i, alive=False)
        for i in range(4, ROWS)
    )
    return alive + exited


def test_live_table_holds_strips_for_the_rows_it_draws() -> None:
    async def body() -> None:
        app = _TableApp()
        async with app.run_test(size=(160, 50)) as pilot:
            table = app.query_one(WorkerTable)
            for n in range(REFRESHES):
                table.show_workers(_workers(n))
                await pilot.pause()
            assert table.row_cells(0)[5] == fmt.count(10_000 * (REFRESHES - 1))
            drawn = min(ROWS, table.size.height - 1) + 1  # the rows in view and the header
            held = len(table._strips)
            # Before: one strip per changed row per refresh (4 x 80 + 11 = 331 here, up to
            # 4,096). Now two data versions of the drawn lines at most.
            assert drawn <= held <= 2 * drawn

    asyncio.run(body())


def test_row_strips_reuse_unchanged_rows_and_drop_the_rest() -> None:
    strips = RowStrips()
    built: list[str] = []

    def build(text: str) -> Strip:
        built.append(text)
        return Strip.blank(len(text))

    for key in ("header", "a", "b"):
        strips.get(key, lambda key=key: build(key))
    strips.new_data()
    for key in ("header", "a", "c"):  # "b" changed to "c"
        strips.get(key, lambda key=key: build(key))
    assert built == ["header", "a", "b", "c"]  # unchanged rows were not built again
    assert len(strips) == 4  # "b" is still held: it was drawn in the last generation
    strips.new_data()
    strips.get("header", lambda: build("header"))
    assert len(strips) == 3  # "b" is gone, "a" and "c" wait one more generation
    strips.clear()
    assert len(strips) == 0
