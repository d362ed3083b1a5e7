"""Drill-down, operations, help, resize confirmation and too-small, at both sizes."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from poolmon.screens.worker_detail import WorkerDetailScreen

SIZES = {"80x24": (80, 24), "160x50": (160, 50)}

by_size = pytest.mark.parametrize("size", list(SIZES))


@by_size
def test_drill_down(snap_compare: Any, make_app: Any, size: str) -> None:
    """Worker 1 crashed at second 41 and was replaced: its exit and restart show."""
    app, _ = make_app()

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("down", "enter")
        assert isinstance(app.screen, WorkerDetailScreen)

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@by_size
def test_operations(snap_compare: Any, make_app: Any, size: str) -> None:
    app, _ = make_app()
    assert snap_compare(app, terminal_size=SIZES[size], press=["o"])


@by_size
def test_help(snap_compare: Any, make_app: Any, size: str) -> None:
    app, _ = make_app()
    assert snap_compare(app, terminal_size=SIZES[size], press=["question_mark"])


@by_size
def test_resize_confirmation(snap_compare: Any, make_app: Any, size: str) -> None:
    app, _ = make_app()
    assert snap_compare(app, terminal_size=SIZES[size], press=["plus"])


def test_too_small(snap_compare: Any, make_app: Any) -> None:
    """Below 60x16 a plain message replaces the layout."""
    app, _ = make_app()
    assert snap_compare(app, terminal_size=(50, 12))
