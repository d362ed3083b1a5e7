"""Alerting in the app: the overview's panel and badge, the alerts screen, details, dialogs.

The pool's alert state is `sample_view` (a critical and a warning alert firing, one pending,
one acked, one silenced, two resolved, one silence), fed as a `poolmon.alert.state` event
through the real aggregator next to 90 s of the seeded demo stream. The toasts announcing the
firing alerts are cleared before each picture (the pilot tests check them), so the layout
under them shows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from poolmon.app.app import PoolmonApp
from poolmon.testing.alert_desk import AlertDesk
from poolmon.testing.alert_samples import sample_view

SIZES = {"80x24": (80, 24), "160x50": (160, 50)}

by_size = pytest.mark.parametrize("size", list(SIZES))


def alerting_app(make_app: Any, **kwargs: Any) -> PoolmonApp:
    """The demo stream plus the sample alert state."""
    app, source = make_app(**kwargs)
    AlertDesk(source, sample_view(source.clock.time_ns()), user="alice")
    return app  # type: ignore[no-any-return]


def pressing(*keys: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    """A run_before that clears the toasts, then presses `keys`."""

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        pilot.app.clear_notifications()
        await pilot.press(*keys)
        await pilot.pause()

    return run_before


@by_size
def test_overview_alerting(snap_compare: Any, make_app: Any, size: str) -> None:
    """Firing (the critical one named in the header), pending, acked and silenced alerts."""
    app = alerting_app(make_app)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=pressing())


@by_size
def test_alerts_screen(snap_compare: Any, make_app: Any, size: str) -> None:
    app = alerting_app(make_app)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=pressing("a"))


def test_alerts_history(snap_compare: Any, make_app: Any) -> None:
    app = alerting_app(make_app)
    assert snap_compare(app, terminal_size=(80, 24), run_before=pressing("a", "tab"))


def test_alerts_silences(snap_compare: Any, make_app: Any) -> None:
    app = alerting_app(make_app)
    assert snap_compare(app, terminal_size=(80, 24), run_before=pressing("a", "tab", "tab"))


@by_size
def test_alert_details(snap_compare: Any, make_app: Any, size: str) -> None:
    app = alerting_app(make_app)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=pressing("a", "enter"))


@by_size
def test_silence_dialog(snap_compare: Any, make_app: Any, size: str) -> None:
    app = alerting_app(make_app)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=pressing("a", "S"))


def test_silence_dialog_bad_matcher(snap_compare: Any, make_app: Any) -> None:
    """A matcher that does not parse is marked and explained; Silence is disabled."""
    app = alerting_app(make_app)

    async def run_before(pilot: Pilot[None]) -> None:
        await pressing("a", "S")(pilot)
        pilot.app.screen.query_one("#matcher-2").value = "op~fetch"  # type: ignore[attr-defined]
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_ack_dialog(snap_compare: Any, make_app: Any) -> None:
    app = alerting_app(make_app)
    assert snap_compare(app, terminal_size=(80, 24), run_before=pressing("a", "k"))


@by_size
def test_alerts_read_only(snap_compare: Any, make_app: Any, size: str) -> None:
    """k, S and u greyed out in the footer; the header says READ-ONLY."""
    app = alerting_app(make_app, read_only=True)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=pressing("a"))
