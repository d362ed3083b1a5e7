"""Every tuning key through Pilot: t, e/enter, escape, z, r and K, and their read-only refusals."""

from __future__ import annotations

from dataclasses import replace

from test_ui_keys import async_test  # one event-loop runner for every Pilot test
from textual.pilot import Pilot
from textual.widgets import Input

from poolmon.app.app import PoolmonApp
from poolmon.app.textdump import screen_text
from poolmon.screens.confirm import ConfirmScreen
from poolmon.screens.operation_detail import OperationDetailScreen
from poolmon.screens.overview import OverviewScreen
from poolmon.screens.tuning import TuningScreen
from poolmon.screens.worker_detail import WorkerDetailScreen
from poolmon.testing.settings_source import SettingsFeedSource, demo_tuning_source
from poolmon.widgets.settings_table import SettingsTable

SIZE = (120, 40)


def build(read_only: bool = False) -> tuple[PoolmonApp, SettingsFeedSource]:
    source = demo_tuning_source(read_only=read_only)
    return PoolmonApp(source, refresh_hz=0, read_only=read_only), source


async def settle(app: PoolmonApp, pilot: Pilot[None]) -> None:
    """Let command threads answer, then redraw."""
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.refresh_frame()
    await pilot.pause()


async def open_tuning(app: PoolmonApp, pilot: Pilot[None]) -> TuningScreen:
    await pilot.press("t")
    await settle(app, pilot)
    assert isinstance(app.screen, TuningScreen)
    return app.screen


async def type_value(app: PoolmonApp, pilot: Pilot[None], text: str) -> None:
    box = app.screen.query_one("#value", Input)
    box.value = ""
    await pilot.press(*text)
    await pilot.pause()


def notes(app: PoolmonApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


@async_test
async def test_t_lists_every_setting_from_the_pool() -> None:
    app, source = build()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_tuning(app, pilot)
        assert ("settings", {}) in source.commands
        table = screen.query_one(SettingsTable)
        assert table.row_count == len(source.specs)
        text = screen_text(app)
        assert "task_timeout_s" in text
        assert "1..16 workers" in text  # the range the pool reported
        assert "poolmon tune (812)" in text  # the earlier change, in the change log
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)


@async_test
async def test_edit_checks_as_you_type_and_escape_cancels() -> None:
    app, source = build()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_tuning(app, pilot)
        await pilot.press("e")
        assert screen.editing
        await type_value(app, pilot, "99")
        assert "size=99 is outside 1..16 workers" in screen_text(app)
        await pilot.press("enter")  # invalid: nothing is proposed
        assert not isinstance(app.screen, ConfirmScreen)
        await type_value(app, pilot, "6")
        assert "4 workers → 6 workers" in screen_text(app)
        await pilot.press("escape")
        assert not screen.editing
        assert isinstance(app.screen, TuningScreen)
        await pilot.press("enter")  # enter on a row edits too
        assert screen.editing
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, OverviewScreen)
        assert [c for c, _ in source.commands if c == "set"] == []


@async_test
async def test_confirmed_change_then_undo() -> None:
    app, source = build()
    async with app.run_test(size=SIZE) as pilot:
        await open_tuning(app, pilot)
        await pilot.press("e")
        await type_value(app, pilot, "6")
        await pilot.press("enter")
        assert isinstance(app.screen, ConfirmScreen)
        assert "size 4 → 6" in app.screen.question
        await pilot.press("n")  # declined: nothing sent
        await settle(app, pilot)
        assert source.specs["size"].value == 4
        await pilot.press("e")
        await type_value(app, pilot, "6")
        await pilot.press("enter", "y")
        await settle(app, pilot)
        assert source.specs["size"].value == 6
        assert app.message == "changed: size 4 → 6"
        assert "z undoes size 4 → 6" in screen_text(app)
        assert "6 workers" in screen_text(app)  # settings fetched again
        await pilot.press("z")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Undo on pool" in app.screen.question
        await pilot.press("y")
        await settle(app, pilot)
        assert source.specs["size"].value == 4
        assert source.commands[-2] == ("set", {"settings": {"size": 4}, "note": "undo"})
        assert app.message == "undone: size 6 → 4"
        assert "undo: size 6 → 4" in screen_text(app)  # the change log says it was an undo
        await pilot.press("z")  # nothing left to undo: said, not sent
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        # not "no change yet": it made one, and undid it
        assert notes(app)[-1] == "nothing left to undo: its change is undone already"


@async_test
async def test_refused_change_shows_the_pools_reason() -> None:
    app, source = build()
    # the screen allows 20 (its range says so); the pool's end-state check refuses it
    source.specs["size"] = replace(source.specs["size"], max=64)
    async with app.run_test(size=SIZE) as pilot:
        await open_tuning(app, pilot)
        await pilot.press("e")
        await type_value(app, pilot, "20")
        await pilot.press("enter", "y")
        await settle(app, pilot)
        assert source.specs["size"].value == 4
        reason = "set refused, nothing changed: size 20 would be above max_size 16"
        assert app.message == f"set refused: {reason}"
        assert notes(app) == [f"set refused: {reason}"]
        assert reason in screen_text(app)  # the change log shows the refusal too


@async_test
async def test_worker_recycle_and_kill_keys() -> None:
    app, source = build()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "enter")
        screen = app.screen
        assert isinstance(screen, WorkerDetailScreen)
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmScreen)
        assert "finishes its current task" in app.screen.question
        await pilot.press("y")
        await settle(app, pilot)
        assert source.recycled == [screen.worker_id]
        await pilot.press("K")
        assert isinstance(app.screen, ConfirmScreen)
        assert "fails with WorkerKilled" in app.screen.question
        await pilot.press("n")
        await settle(app, pilot)
        assert source.killed == []
        await pilot.press("K", "y")
        await settle(app, pilot)
        assert source.killed == [screen.worker_id]
        assert app.message == f"worker {screen.worker_id}: killed, the pool replaces it"


@async_test
async def test_read_only_greys_out_change_keys_and_says_why() -> None:
    app, source = build(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_tuning(app, pilot)
        assert screen.query_one(SettingsTable).row_count > 0  # reading is allowed
        assert screen.check_action("edit", ()) is None
        assert screen.check_action("undo", ()) is None
        for key in ("e", "enter", "z"):
            app.clear_notifications()
            await pilot.press(key)
            await pilot.pause()
            assert not screen.editing
            assert any("attached with --read-only" in n for n in notes(app)), key
        await pilot.press("escape", "down", "enter")
        assert isinstance(app.screen, WorkerDetailScreen)
        for key in ("r", "K"):
            app.clear_notifications()
            await pilot.press(key)
            await pilot.pause()
            assert not isinstance(app.screen, ConfirmScreen)
            assert any("read-only" in n for n in notes(app)), key
        await pilot.press("escape", "o")
        app.clear_notifications()
        await pilot.press("e")  # enter drills down into the operation: nothing to refuse
        await pilot.pause()
        assert not isinstance(app.screen, TuningScreen)
        assert any("read-only" in n for n in notes(app))
        assert [c for c, _ in source.commands if c != "settings"] == []


@async_test
async def test_palette_lists_the_tuning_commands() -> None:
    app, _ = build()
    async with app.run_test(size=SIZE) as pilot:
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Tuning" in titles
        screen = await open_tuning(app, pilot)
        titles = [c.title for c in app.get_system_commands(screen)]
        assert {"Edit setting", "Undo last change"} <= set(titles)
        await pilot.press("escape", "down", "enter")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Recycle worker", "Kill worker"} <= set(titles)


@async_test
async def test_operations_view_sets_an_operations_timeout() -> None:
    app, source = build()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("o")
        table = app.screen.query_one("OperationsTable")
        op = str(table.coordinate_to_cell_key(table.cursor_coordinate)[0].value)
        await pilot.press("e")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TuningScreen)
        assert screen.editing
        assert f"Edit op_timeout_s.{op}" in screen_text(app)
        await type_value(app, pilot, "5")
        await pilot.press("enter", "y")
        await settle(app, pilot)
        assert source.specs[f"op_timeout_s.{op}"].value == 5.0
        assert app.message == f"changed: op_timeout_s.{op} none → 5"
        await pilot.press("escape", "enter")  # enter on a row drills down instead
        await settle(app, pilot)
        assert isinstance(app.screen, OperationDetailScreen)
