"""The tuning screen at both sizes: settings, an edit refused as you type, a log with an undo."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from poolmon.app.app import PoolmonApp
from poolmon.screens.tuning import TuningScreen
from poolmon.testing.settings_source import SettingsFeedSource, demo_tuning_source

SIZES = {"80x24": (80, 24), "160x50": (160, 50)}

by_size = pytest.mark.parametrize("size", list(SIZES))


def tuning_app(*, read_only: bool = False) -> tuple[PoolmonApp, SettingsFeedSource]:
    """The demo stream through the real aggregator, with a pool that answers tuning."""
    source = demo_tuning_source(read_only=read_only)
    return PoolmonApp(source, refresh_hz=0, read_only=read_only), source


async def open_tuning(app: PoolmonApp, pilot: Pilot[None]) -> None:
    await pilot.press("t")
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.refresh_frame()
    await pilot.pause()
    assert isinstance(app.screen, TuningScreen)


@by_size
def test_tuning_screen(snap_compare: Any, size: str) -> None:
    """Every setting with its value, what it accepts and what it does; the change log below."""
    app, _ = tuning_app()

    async def run_before(pilot: Pilot[None]) -> None:
        await open_tuning(app, pilot)

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@by_size
def test_tuning_edit_refused_as_you_type(snap_compare: Any, size: str) -> None:
    """Editing task_timeout_s: 0.001 is below what the pool accepts, said before enter."""
    app, _ = tuning_app()

    async def run_before(pilot: Pilot[None]) -> None:
        await open_tuning(app, pilot)
        await pilot.press("down", "down", "down", "e")
        box = app.screen.query_one("#value", Input)
        box.value = ""
        await pilot.press(*"0.001")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@by_size
def test_tuning_change_log_with_undo(snap_compare: Any, size: str) -> None:
    """size 4 -> 6 confirmed, a refused queue_bound, then z: the undo is logged as such."""
    app, source = tuning_app()

    async def settle(pilot: Pilot[None]) -> None:
        await app.workers.wait_for_complete()
        await pilot.pause()
        source.clock.advance(7)
        app.refresh_frame()
        await pilot.pause()

    async def run_before(pilot: Pilot[None]) -> None:
        await open_tuning(app, pilot)
        await pilot.press("e")
        box = app.screen.query_one("#value", Input)
        box.value = "6"
        await pilot.press("enter", "y")
        await settle(pilot)
        source.command("set", {"settings": {"queue_bound": 0}})  # another client, refused
        await settle(pilot)
        await pilot.press("z", "y")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)
