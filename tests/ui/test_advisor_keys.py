"""The advisor's keys through Pilot: v, enter, escape, x (apply) and g (auto-tuning), read-only."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any

from poolmon.app.app import PoolmonApp
from poolmon.screens.advisor import AdvisorScreen
from poolmon.screens.confirm import ConfirmScreen
from poolmon.screens.evidence import EvidenceScreen
from poolmon.testing.advisor_app import SETTINGS, struggling_source
from poolmon.widgets.findings_list import FindingsList

SIZE = (120, 40)


def async_test(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test body in a fresh event loop."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return run


def make(read_only: bool = False) -> PoolmonApp:
    app = PoolmonApp(struggling_source(read_only=read_only), refresh_hz=0)
    app.advice.cores = 8
    app.advice.settings = dict(SETTINGS)
    return app


def sent(app: PoolmonApp) -> list[tuple[str, dict[str, Any]]]:
    """Commands sent, leaving out the `settings` reads (the app re-reads after a change)."""
    return [c for c in app.source.commands if c[0] != "settings"]  # type: ignore[attr-defined]


async def settle(app: PoolmonApp, pilot: Any) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


@async_test
async def test_v_opens_the_advisor_with_findings_and_escape_returns() -> None:
    app = make()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, AdvisorScreen)
        kinds = [f.kind for f in app.screen.query_one(FindingsList).findings]
        assert kinds[0] == "grow"
        assert {"leak", "timeout_tight", "timeout_missing"} <= set(kinds)
        assert ("settings", {}) in app.source.commands  # type: ignore[attr-defined]
        await pilot.press("escape")
        assert not isinstance(app.screen, AdvisorScreen)


@async_test
async def test_enter_shows_the_evidence_and_escape_goes_back() -> None:
    app = make()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("v")
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, EvidenceScreen)
        assert app.screen.finding.kind == "leak"
        await pilot.press("escape")
        assert isinstance(app.screen, AdvisorScreen)


@async_test
async def test_x_applies_the_action_after_yes() -> None:
    app = make()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("v")
        await pilot.pause()
        await pilot.press("down", "x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(app, pilot)
        ((name, args),) = sent(app)
        assert name == "set"
        assert list(args["settings"]) == ["recycle_above_rss_mib"]
        assert "pool reports recycle_above_rss_mib" in app.message


@async_test
async def test_x_no_changes_nothing() -> None:
    app = make()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("v")
        await pilot.pause()
        await pilot.press("x", "n")
        await settle(app, pilot)
        assert sent(app) == []


@async_test
async def test_x_on_the_evidence_view_resizes() -> None:
    app = make()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("v")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("x", "y")
        await settle(app, pilot)
        assert sent(app) == [("resize", {"size": 5})]


@async_test
async def test_g_turns_auto_tuning_off_after_yes() -> None:
    app = make()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("v")
        await pilot.pause()
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "OFF" in app.screen.question  # the change log says it is on
        await pilot.press("y")
        await settle(app, pilot)
        assert sent(app) == [("autotune", {"enabled": False})]


@async_test
async def test_read_only_refuses_x_and_g_with_the_reason() -> None:
    app = make(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("v")
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("g")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        notes = [n.message for n in app._notifications]
        assert any("read-only" in m for m in notes)
        assert sent(app) == []
