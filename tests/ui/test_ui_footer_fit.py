"""The footer's choice of keys when they do not all fit (pure), and on every screen at 80x24."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from textual.widgets._footer import FooterKey

from poolmon.widgets._footer_fit import FooterItem, fit_keys, item_width, palette_fits
from poolmon.widgets.key_footer import KeyFooter

DRILL_DOWN = [
    FooterItem("r", "Recycle", "recycle"),
    FooterItem("K", "Kill", "kill"),
    FooterItem("x", "Stack", "stack"),
    FooterItem("esc", "Back", "app.pop_screen"),
    FooterItem("p", "Pause", "pause"),
    FooterItem("o", "Ops", "operations"),
    FooterItem("a", "Alerts", "alerts"),
    FooterItem("t", "Tune", "tuning"),
    FooterItem("v", "Advise", "advisor"),
    FooterItem("?", "Help", "help"),
    FooterItem("q", "Quit", "quit"),
]


def labels(items: list[FooterItem], kept: list[int]) -> list[str]:
    return [items[i].description for i in kept]


def test_widths_follow_textuals_footer_styles() -> None:
    quit_key = FooterItem("q", "Quit", "quit")
    assert item_width(quit_key, compact=True) == len("q Quit ")
    assert item_width(quit_key, compact=False) == len(" q Quit ")
    assert item_width(FooterItem("␣", "", "play"), compact=True) == 2


def test_everything_fits_when_wide() -> None:
    assert fit_keys(DRILL_DOWN, 160, compact=False) == list(range(len(DRILL_DOWN)))


def test_at_80_columns_app_wide_keys_go_first_from_the_right() -> None:
    """The drill-down's keys need 86 cells: Advise goes, Quit and Help stay."""
    kept = fit_keys(DRILL_DOWN, 80, compact=True)
    assert labels(DRILL_DOWN, kept) == [
        "Recycle",
        "Kill",
        "Stack",
        "Back",
        "Pause",
        "Ops",
        "Alerts",
        "Tune",
        "Help",
        "Quit",
    ]


def test_screen_keys_go_only_after_every_app_wide_key() -> None:
    kept = fit_keys(DRILL_DOWN, 40, compact=True)
    assert labels(DRILL_DOWN, kept) == ["Recycle", "Kill", "Stack", "Help", "Quit"]
    assert sum(item_width(DRILL_DOWN[i], compact=True) for i in kept) <= 40


def test_quit_and_help_go_last_of_all() -> None:
    assert labels(DRILL_DOWN, fit_keys(DRILL_DOWN, 14, compact=True)) == ["Help", "Quit"]
    assert labels(DRILL_DOWN, fit_keys(DRILL_DOWN, 8, compact=True)) == ["Quit"]


def test_palette_hint_never_costs_a_key() -> None:
    palette = FooterItem("^p", "palette", "command_palette")
    everything = list(range(len(DRILL_DOWN)))
    assert palette_fits(DRILL_DOWN, everything, palette, 160, compact=False)
    kept = fit_keys(DRILL_DOWN, 100, compact=False)
    assert not palette_fits(DRILL_DOWN, kept, palette, 100, compact=False)


SCREEN_KEYS = {
    "overview": [],
    "worker drill-down": ["down", "enter"],
    "operations": ["o"],
    "operation drill-down": ["o", "enter"],
    "failures": ["E"],
    "alerts": ["a"],
    "tuning": ["t"],
    "advisor": ["v"],
    "self-monitoring": ["m"],
}


@pytest.mark.parametrize("screen", list(SCREEN_KEYS))
@pytest.mark.parametrize("size", [(80, 24), (60, 16)])
def test_every_screen_keeps_help_and_quit_in_view(
    ui_app: Any, screen: str, size: tuple[int, int]
) -> None:
    """At the smallest sizes every screen's footer fits, ending in `? Help` and `q Quit`."""
    app, _ = ui_app()

    async def run() -> None:
        async with app.run_test(size=size) as pilot:
            await pilot.press(*SCREEN_KEYS[screen])
            await pilot.pause()
            await pilot.pause()
            keys = list(app.screen.query_one(KeyFooter).query(FooterKey))
            actions = [key.action for key in keys]
            assert actions[-2:] == ["help", "quit"], actions
            right = max(key.region.right for key in keys)
            assert right <= size[0], actions

    asyncio.run(run())


def test_help_and_quit_move_to_the_right_end() -> None:
    """A replay's own keys come after the app's: Help and Quit still end the line."""
    items = [
        FooterItem("s", "Sort", "sort"),
        FooterItem("?", "Help", "help"),
        FooterItem("q", "Quit", "quit"),
        FooterItem(">", "Speed", "speed(1)"),
    ]
    assert labels(items, fit_keys(items, 80, compact=True)) == ["Sort", "Speed", "Help", "Quit"]


def test_the_last_keys_margin_may_fall_off_the_edge() -> None:
    items = [FooterItem("?", "Help", "help"), FooterItem("q", "Quit", "quit")]
    assert fit_keys(items, len("? Help q Quit"), compact=True) == [0, 1]
    assert fit_keys(items, len("? Help q Quit") - 1, compact=True) == [1]


def test_while_typing_in_a_field_the_footer_says_how_to_quit() -> None:
    """In the tuning edit line `q` types a q: the footer shows ctrl+q instead of hiding Quit."""
    from poolmon.app.app import PoolmonApp
    from poolmon.screens.tuning import TuningScreen
    from poolmon.testing.settings_source import demo_tuning_source

    app = PoolmonApp(demo_tuning_source(), refresh_hz=0)

    async def run() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            app.edit_setting("task_timeout_s")  # what `e` on the operations view does
            for _ in range(3):
                await app.workers.wait_for_complete()
                app.refresh_frame()
                await pilot.pause()
            assert isinstance(app.screen, TuningScreen)
            keys = {key.action: key for key in app.screen.query_one(KeyFooter).query(FooterKey)}
            assert "quit" in keys
            assert keys["quit"].key == "ctrl+q"
            await pilot.press("q")  # typed into the field, not a quit
            assert app.is_running

    asyncio.run(run())
