"""The render probe names who holds the app's strips (issue 17's fix was found with it)."""

from __future__ import annotations

import asyncio

from textual.app import App, ComposeResult

from poolmon.bench.memory_load import render_objects
from poolmon.bench.memory_render import holders
from poolmon.core.snapshot import WorkerView
from poolmon.widgets.worker_table import WorkerTable


class _TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield WorkerTable()


def test_holders_finds_the_worker_tables_own_strips() -> None:
    async def body() -> None:
        app = _TableApp()
        async with app.run_test(size=(160, 50)) as pilot:
            table = app.query_one(WorkerTable)
            for n in range(3):
                table.show_workers(tuple(WorkerView(i, tasks_done=n + i) for i in range(6)))
                await pilot.pause()
            held = holders(app)
            assert held["WorkerTable.strips"] >= len(table._strips) > 0
            assert held["WorkerTable.styles_cache"] > 0  # Textual's own line cache
            assert sum(held.values()) <= render_objects()["Strip"]

    asyncio.run(body())
