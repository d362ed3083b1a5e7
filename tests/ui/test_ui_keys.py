"""Every key binding, driven through Pilot against the real aggregator."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from poolmon.app.textdump import screen_text
from poolmon.screens.confirm import ConfirmScreen
from poolmon.screens.help import HelpScreen
from poolmon.screens.operations import OperationsScreen
from poolmon.screens.overview import OverviewScreen
from poolmon.screens.worker_detail import WorkerDetailScreen
from poolmon.widgets.header_bar import HeaderBar
from poolmon.widgets.worker_table import WorkerTable

SIZE = (120, 40)


def async_test(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test body in a fresh event loop (no async pytest plugin is installed)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return run


@pytest.mark.parametrize(
    ("key", "window_s", "label"),
    [("1", 60, "1m"), ("5", 300, "5m"), ("f", 900, "15m"), ("h", 3600, "1h")],
)
@async_test
async def test_window_keys(ui_app: Any, key: str, window_s: int, label: str) -> None:
    app, _ = ui_app()
    async with app.run_test(size=SIZE) as pilot:
        if key == "1":
            await pilot.press("h")
        await pilot.press(key)
        await pilot.pause()
        assert app.window_s == window_s
        assert app.screen.query_one(HeaderBar).window_s == window_s
        assert f"window {label}" in screen_text(app)


@pytest.mark.parametrize("key", ["p", "space"])
@async_test
async def test_pause_freezes_screen_and_resume_catches_up(ui_app: Any, key: str) -> None:
    app, source = ui_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        before = app.screen.query_one(HeaderBar).snapshot
        assert before is not None
        await pilot.press(key)
        source.play_more(10)
        app.refresh_frame()
        await pilot.pause()
        assert app.paused
        assert app.screen.query_one(HeaderBar).snapshot is before
        assert "PAUSED" in screen_text(app)
        await pilot.press(key)
        await pilot.pause()
        after = app.screen.query_one(HeaderBar).snapshot
        assert after is not None
        assert after.taken_at_ns == before.taken_at_ns + 10 * 10**9
        assert "PAUSED" not in screen_text(app)


@async_test
async def test_filter_and_clear(ui_app: Any) -> None:
    app, _ = ui_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.screen.query_one(WorkerTable)
        total = table.row_count
        await pilot.press("slash", "b", "u", "s", "y", "enter")
        await pilot.pause()
        assert table.filter_text == "busy"
        busy = sum(1 for w in app.screen.query_one(HeaderBar).snapshot.workers if w.state == "busy")  # type: ignore[union-attr]
        assert table.row_count == busy < total
        assert "filter: busy" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert table.filter_text == ""
        assert table.row_count == total


@async_test
async def test_inverted_filter(ui_app: Any) -> None:
    app, _ = ui_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", "exclamation_mark", "b", "u", "s", "y", "enter")
        await pilot.pause()
        table = app.screen.query_one(WorkerTable)
        assert table.filter_text == "!busy"
        assert table.row_count > 0
        assert all("busy" not in table.row_cells(i)[2] for i in range(table.row_count))


@async_test
async def test_sort_cycles(ui_app: Any) -> None:
    app, _ = ui_app()
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one(WorkerTable)
        seen = [table.row_order]
        for _ in range(len(WorkerTable.SORT_ORDER)):
            await pilot.press("s")
            seen.append(table.row_order)
        assert seen[0] == seen[-1] == "id"
        assert set(seen) == set(WorkerTable.SORT_ORDER)
        await pilot.press(
            *["s"] * WorkerTable.SORT_ORDER.index("rss")
        )  # rss:: the leaking worker 3 first
        await pilot.pause()
        assert table.row_order == "rss"
        assert table.highlighted_worker is not None
        assert table.row_cells(0)[0] == "3"


@async_test
async def test_enter_drills_down_and_escape_returns(ui_app: Any) -> None:
    app, _ = ui_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, WorkerDetailScreen)
        assert app.screen.worker_id == 1
        text = screen_text(app)
        assert "Worker 1" in text
        assert "exit crash" in text
        assert "SIGKILL (9)" in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, OverviewScreen)


@async_test
async def test_operations_view(ui_app: Any) -> None:
    app, _ = ui_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, OperationsScreen)
        text = screen_text(app)
        # slowest first: render_report (120 ms median) above resize_image (2 ms)
        assert text.index("render_report") < text.index("resize_image")
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)


@pytest.mark.parametrize("close", ["escape", "question_mark", "q"])
@async_test
async def test_help_opens_and_closes(ui_app: Any, close: str) -> None:
    app, _ = ui_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert "window: 1, 5, 15 minutes" in screen_text(app)  # the top of a scrolling list
        await pilot.press(close)
        assert isinstance(app.screen, OverviewScreen)
        assert app.is_running


@async_test
async def test_q_quits(ui_app: Any) -> None:
    app, source = ui_app()
    async with app.run_test(size=SIZE) as pilot:
        assert source.started
        await pilot.press("q")
        await pilot.pause()
    assert not app.is_running
    assert not source.started


@pytest.mark.parametrize(("key", "target"), [("plus", 9), ("minus", 7)])
@async_test
async def test_resize_confirmed_sends_command_and_shows_reported_size(
    ui_app: Any, key: str, target: int
) -> None:
    app, source = ui_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(key)
        assert isinstance(app.screen, ConfirmScreen)
        assert f"from 8 to {target} workers" in app.screen.question
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert source.commands == [("resize", {"size": target})]
        assert f"pool reports size {target}" in screen_text(app)


@async_test
async def test_resize_declined_sends_nothing(ui_app: Any) -> None:
    app, source = ui_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("plus")
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, OverviewScreen)
        await pilot.press("minus", "escape")
        await pilot.pause()
        assert source.commands == []


@async_test
async def test_read_only_disables_tuning_keys(ui_app: Any) -> None:
    app, source = ui_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("plus", "minus")
        await pilot.pause()
        assert isinstance(app.screen, OverviewScreen)
        assert source.commands == []
        assert "READ-ONLY" in screen_text(app)
        assert app.check_action("grow", ()) is None


@async_test
async def test_refused_resize_is_reported(ui_app: Any) -> None:
    from poolmon.runtime.source import CommandResult

    app, source = ui_app()
    source._responder = lambda name, args: CommandResult(False, reason="above max_size 8")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("plus", "y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "refused: above max_size 8" in screen_text(app)


@async_test
async def test_command_palette_lists_every_command(ui_app: Any) -> None:
    app, _ = ui_app()
    async with app.run_test(size=SIZE):
        titles = {c.title for c in app.get_system_commands(app.screen)}
    for expected in (
        "Window: 1 min",
        "Window: 5 min",
        "Window: 15 min",
        "Window: 1 hour",
        "Pause / resume",
        "Operations view",
        "Recent failures",
        "Sort workers",
        "Filter workers",
        "Clear filter",
        "Grow pool",
        "Shrink pool",
        "Help",
    ):
        assert expected in titles


@async_test
async def test_palette_command_runs(ui_app: Any) -> None:
    app, _ = ui_app()
    async with app.run_test(size=SIZE) as pilot:
        command = next(
            c for c in app.get_system_commands(app.screen) if c.title == "Window: 15 min"
        )
        command.callback()
        await pilot.pause()
        assert app.window_s == 900


@async_test
async def test_too_small_terminal_shows_message(ui_app: Any) -> None:
    app, _ = ui_app()
    async with app.run_test(size=(50, 12)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "Terminal too small: 50 x 12" in text
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert "Terminal too small" not in screen_text(app)
