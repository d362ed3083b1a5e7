"""Keys typed right after a field-opening key land in the field, even when they arrive together.

The driver posts every key it parsed from one read straight to the app; posting them back to
back here does the same. Before `TypeaheadMixin`, `/busy` in one read opened the filter empty
and ran `s` (sort) and `y` as commands, and `g+5s` in a replay left `s` in the Go-to field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import events
from textual.widgets import Input

from poolmon.app.app import PoolmonApp
from poolmon.app.replay import ReplayApp
from poolmon.runtime.recording.replay import ReplaySource
from poolmon.screens.seek_dialog import SeekDialog
from poolmon.screens.tuning import TuningScreen
from poolmon.testing.clock import ManualClock
from poolmon.testing.recordings import NS, synthesize
from poolmon.testing.settings_source import demo_tuning_source
from poolmon.widgets.setting_editor import SettingEditor
from poolmon.widgets.settings_table import SettingsTable
from poolmon.widgets.worker_table import WorkerTable
from tests.ui.test_ui_keys import SIZE, async_test

NAMES = {"/": "slash", "+": "plus", " ": "space", "!": "exclamation_mark", "\r": "enter"}


def post_together(app: PoolmonApp, text: str) -> None:
    """Post `text` as one read's keys, as the driver does."""
    for ch in text:
        app.post_message(events.Key(NAMES.get(ch, ch), None if ch == "\r" else ch))


async def settle(pilot: Any) -> None:
    """Let the held keys go through (the hold polls every 20 ms)."""
    for _ in range(4):
        await pilot.pause(0.05)


@async_test
async def test_filter_typed_in_one_read_filters_and_runs_no_command(ui_app: Any) -> None:
    app, _ = ui_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.screen.query_one(WorkerTable)
        post_together(app, "/busy\r")
        await settle(pilot)
        assert table.filter_text == "busy"
        assert table.row_order == "id"  # `s` did not sort
        assert app.screen is app.screen_stack[1]  # `y` and `u` opened nothing
        assert table.has_focus


@async_test
async def test_slash_inside_the_filter_is_text(ui_app: Any) -> None:
    app, _ = ui_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        post_together(app, "a/b")
        await settle(pilot)
        assert app.screen.query_one("#filter").value == "a/b"  # type: ignore[attr-defined]


@async_test
async def test_keys_after_the_field_closes_go_where_the_focus_went(ui_app: Any) -> None:
    """`/ab`, escape, `s` in one read: the filter opens, takes `ab`, closes, and `s` sorts."""
    app, _ = ui_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.screen.query_one(WorkerTable)
        post_together(app, "/ab")
        app.post_message(events.Key("escape", None))
        post_together(app, "s")
        await settle(pilot)
        assert table.filter_text == ""
        assert table.row_order == WorkerTable.SORT_ORDER[1]


@async_test
async def test_go_to_typed_in_one_read(tmp_path: Path) -> None:
    clock = ManualClock()
    source = ReplaySource(synthesize(tmp_path / "r.pmrec", 180), clock=clock)
    app = ReplayApp(source, refresh_hz=0)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        post_together(app, "g+90s")
        await settle(pilot)
        assert isinstance(app.screen, SeekDialog)
        assert app.screen.query_one("#when").value == "+90s"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause()
        assert (source.position_ns() - source.timeline.start_ns) / NS == 90.0


@async_test
async def test_an_operation_timeout_typed_in_one_read() -> None:
    """`e15` in the operations view: the edit line gets 15; `1` and `5` are not window keys."""
    source = demo_tuning_source()
    app = PoolmonApp(source, refresh_hz=0)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("o")
        await pilot.pause()
        post_together(app, "e15")
        await settle(pilot)
        assert app.window_s == 60
        assert isinstance(app.screen, TuningScreen)
        assert app.screen.query_one(SettingEditor).query_one(Input).value == "15"


@async_test
async def test_enter_on_a_setting_then_its_value_in_one_read() -> None:
    source = demo_tuning_source()
    app = PoolmonApp(source, refresh_hz=0)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("t")
        await pilot.pause(0.2)
        app.screen.query_one(SettingsTable).move_cursor(row=0)
        await pilot.pause()
        post_together(app, "\r7")
        await settle(pilot)
        assert app.screen.query_one(SettingEditor).query_one(Input).value == "7"
