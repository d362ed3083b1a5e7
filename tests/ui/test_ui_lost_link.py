"""A monitor that lost its pool shows what it last knew, and says so.

The pool's state lives in the pool: once the connection is down, an alert is not "pending
1m15s" because the monitor's clock moved on, and the rate or the queue in a title is what the
pool did while it was heard. Found attaching to a pool and SIGKILLing it: the alert panel kept
counting its pending alert up and the resource gauges looked current. These tests run the
demo stream and the sample alert state through the real aggregator, cut the link, move the
frozen clock on, and read the screen.
"""

from __future__ import annotations

import re

from poolmon.app.app import PoolmonApp
from poolmon.app.textdump import screen_text
from poolmon.testing.alert_desk import AlertDesk
from poolmon.testing.streams import FeedSource
from tests.ui.test_ui_alerts import demo_with_sample_alerts
from tests.ui.test_ui_keys import async_test

SIZE = (160, 50)
RULES = ("WorkerCrashLoop", "ErrorRateHigh")


def alerting_demo() -> tuple[PoolmonApp, FeedSource]:
    """60 s of the demo stream and the sample alert state, live."""
    source, view = demo_with_sample_alerts()
    AlertDesk(source, view, user="alice")
    return PoolmonApp(source, refresh_hz=0), source


def alert_lines(text: str) -> list[str]:
    """The panel or table rows that name a sample rule (state and duration included)."""
    return [
        line.split("││")[-1]
        for line in text.splitlines()
        if line.startswith("│") and any(r in line for r in RULES)
    ]


def title_line(text: str, word: str) -> str:
    """The first line holding a panel title that starts with `word`."""
    return next(line for line in text.splitlines() if f"─ {word}" in line)


async def before_and_after_the_loss(keys: tuple[str, ...], later_s: float) -> tuple[str, str]:
    """The screen live after pressing `keys`, and `later_s` after the link dropped."""
    app, source = alerting_demo()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.clear_notifications()
        await pilot.press(*keys)
        await pilot.pause()
        live = screen_text(app)
        source.disconnect("pool exited (nothing listens on its socket)")
        source.clock.advance(later_s)
        app.refresh_frame()
        await pilot.pause()
        return live, screen_text(app)


@async_test
async def test_the_overview_freezes_alert_durations_and_says_last_seen() -> None:
    live, gone = await before_and_after_the_loss((), 30.0)  # the window still holds data
    assert "Alerts 5 (last seen)" not in live
    assert "last seen" not in title_line(live, "Resources")
    assert "(last seen)" not in title_line(live, "Throughput")
    before, after = alert_lines(live), alert_lines(gone)
    assert len(before) >= 2
    assert before == after
    assert any("firing 1m15s" in line for line in after)
    assert "Alerts 5 (last seen)" in gone
    assert "Resources (last seen)" in title_line(gone, "Resources")
    assert re.search(r"Throughput [\d.,k]+/s \(last seen\)", title_line(gone, "Throughput"))


@async_test
async def test_the_alerts_screen_freezes_durations_but_not_the_evaluation_age() -> None:
    live, gone = await before_and_after_the_loss(("a",), 125.0)
    assert "Active 5" in live
    rows = [
        [line for line in t.splitlines()[1:] if any(r in line for r in RULES)] for t in (live, gone)
    ]
    assert len(rows[0]) >= 2
    assert rows[0] == rows[1]
    assert any("firing     1m15s" in line for line in rows[1])
    # how old the pool's last evaluation is keeps growing: that is the honest staleness
    evaluated = [re.search(r"evaluated (\S+) ago", t) for t in (live, gone)]
    assert evaluated[0]
    assert evaluated[1]
    assert evaluated[0].group(1) != evaluated[1].group(1)
