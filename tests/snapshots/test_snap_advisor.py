"""The advisor screen with findings, the evidence view, and a change log with a rollback."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from poolmon.app.app import PoolmonApp
from poolmon.screens.advisor import AdvisorScreen
from poolmon.screens.evidence import EvidenceScreen
from poolmon.testing.advisor_app import SETTINGS, struggling_source

SIZES = {"80x24": (80, 24), "160x50": (160, 50)}
by_size = pytest.mark.parametrize("size", list(SIZES))


def advisor_app(**kw: Any) -> PoolmonApp:
    app = PoolmonApp(struggling_source(**kw), refresh_hz=0)
    app.advice.cores = 8
    app.advice.settings = dict(SETTINGS)
    return app


@by_size
def test_findings_and_change_log(snap_compare: Any, size: str) -> None:
    """A growing queue, a leak, a tight timeout and a missing one; a kept grow, a rollback."""
    app = advisor_app()

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, AdvisorScreen)

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@by_size
def test_evidence_view(snap_compare: Any, size: str) -> None:
    """Enter on the first finding (grow): its numbers, impact, action and the queue chart."""
    app = advisor_app(decisions=False)

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("v")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, EvidenceScreen)

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@by_size
def test_apply_confirmation(snap_compare: Any, size: str) -> None:
    """x asks before anything changes, naming the pool and the exact change."""
    app = advisor_app()
    assert snap_compare(app, terminal_size=SIZES[size], press=["v", "x"])
