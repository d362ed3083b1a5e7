"""The overview screen in every connection state and mode, at 80x24 and 160x50."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

SIZES = {"80x24": (80, 24), "160x50": (160, 50)}

by_size = pytest.mark.parametrize("size", list(SIZES))


@by_size
def test_live(snap_compare: Any, make_app: Any, size: str) -> None:
    app, _ = make_app()
    assert snap_compare(app, terminal_size=SIZES[size])


@by_size
def test_connecting(snap_compare: Any, make_app: Any, size: str) -> None:
    app, _ = make_app(state="connecting")
    assert snap_compare(app, terminal_size=SIZES[size])


@by_size
def test_stale(snap_compare: Any, make_app: Any, size: str) -> None:
    app, _ = make_app(state="stale")
    assert snap_compare(app, terminal_size=SIZES[size])


@by_size
def test_disconnected_keeps_data(snap_compare: Any, make_app: Any, size: str) -> None:
    app, _ = make_app(state="disconnected")
    assert snap_compare(app, terminal_size=SIZES[size])


@by_size
def test_paused(snap_compare: Any, make_app: Any, size: str) -> None:
    app, source = make_app()

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("p")
        source.play_more(30)  # data keeps arriving underneath; the screen must not change
        app.refresh_frame()

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@by_size
def test_filter_applied(snap_compare: Any, make_app: Any, size: str) -> None:
    app, _ = make_app()

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("slash", "b", "u", "s", "y", "enter")

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@by_size
def test_read_only(snap_compare: Any, make_app: Any, size: str) -> None:
    app, _ = make_app(read_only=True)
    assert snap_compare(app, terminal_size=SIZES[size])


@by_size
def test_window_five_minutes(snap_compare: Any, make_app: Any, size: str) -> None:
    app, _ = make_app(seconds=330)

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("5")

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@by_size
def test_young_pool_with_a_gap(snap_compare: Any, make_app: Any, size: str) -> None:
    """40 s of data in a 1 m window with 8 s lost: blank before the data, a shaded gap inside."""
    app, _ = make_app(seconds=40, gap=(18, 8))
    assert snap_compare(app, terminal_size=SIZES[size])
