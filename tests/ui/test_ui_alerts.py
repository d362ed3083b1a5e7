"""The alert keys, driven through Pilot: a, enter, escape, k, S, u, read-only refusals, toasts.

The app is fed a hand-built alert state through the real aggregator; `AlertDesk` answers the
alert commands the way the pool's alert service does and feeds the new state back, so each
test checks the exact command sent and what the screen shows after the pool's reply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from poolmon.app.app import PoolmonApp
from poolmon.app.textdump import screen_text
from poolmon.core.alerts.model import FIRING, Alert, AlertsView
from poolmon.runtime.source import CommandResult
from poolmon.screens.ack_dialog import AckDialog
from poolmon.screens.alert_detail import AlertDetailScreen
from poolmon.screens.alerts import AlertsScreen
from poolmon.screens.confirm import ConfirmScreen
from poolmon.screens.help import HelpScreen
from poolmon.screens.overview import OverviewScreen
from poolmon.screens.silence_dialog import SilenceDialog
from poolmon.testing.alert_desk import AlertDesk
from poolmon.testing.alert_samples import make_alert, sample_view
from poolmon.testing.clock import ManualClock
from poolmon.testing.streams import FeedSource, StreamGenerator, StreamSpec
from tests.ui.test_ui_keys import async_test

SIZE = (120, 40)

Build = Callable[..., tuple[PoolmonApp, FeedSource, AlertDesk | None]]


@pytest.fixture
def alert_app() -> Build:
    """`(app, source, desk)`: 60 s of the demo stream plus the sample alert state."""

    def build(*, read_only: bool = False, alerts: bool = True) -> Any:
        clock = ManualClock()
        source = FeedSource(clock, read_only=read_only)
        generator = StreamGenerator(StreamSpec(), clock.time_ns())
        source.attach(generator.pool_info())
        source.play(generator, 60)
        desk = AlertDesk(source, sample_view(clock.time_ns()), user="alice") if alerts else None
        return PoolmonApp(source, refresh_hz=0, read_only=read_only), source, desk

    return build


def rule(desk: AlertDesk | None, name: str) -> Alert:
    """The sample's active alert of rule `name`."""
    assert desk is not None
    return next(a for a in desk.view.alerts if a.rule == name)


def toasts(app: PoolmonApp) -> list[str]:
    """Titles and messages of the notifications shown."""
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def settle(app: PoolmonApp, pilot: Any) -> None:
    """Wait for command workers, then redraw from the source."""
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.refresh_frame()
    await pilot.pause()


@async_test
async def test_overview_panel_and_header_badge(alert_app: Build) -> None:
    app, _, _ = alert_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "▲ 2 firing: WorkerCrashLoop" in text  # a critical one is named
        assert "1 pending" in text
        assert "1 acked" in text
        assert "Alerts 5" in text
        for shown in ("WorkerCrashLoop", "slot=1", "3 >= 3", "op=fetch_profile", "7.2% > 5.0%"):
            assert shown in text


@async_test
async def test_no_alert_state_is_no_data_not_no_alerts(alert_app: Build) -> None:
    app, _, _ = alert_app(alerts=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "alerting: no data" in text
        assert "no active alerts" not in text
        assert "firing" not in text
        await pilot.press("a")
        assert "alerting: no data" in screen_text(app)


@async_test
async def test_a_opens_the_alerts_screen_and_escape_returns(alert_app: Build) -> None:
    app, _, _ = alert_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, AlertsScreen)
        text = screen_text(app)
        for shown in ("Active 5", "History 2", "Silences 1", "8 rules", "acked by alice"):
            assert shown in text
        # most severe first, then what needs a person before what waits or is handled
        order = ["WorkerCrashLoop", "ErrorRateHigh", "LatencyP99High", "WorkerMemoryGrowth"]
        assert sorted(order, key=text.index) == order
        await pilot.press("tab")
        assert app.screen.active_tab == "history"  # type: ignore[attr-defined]
        assert "QueueBacklogGrowing" in screen_text(app)
        await pilot.press("tab")
        assert "load test until 11:00" in screen_text(app)
        await pilot.press("shift+tab", "shift+tab")
        assert app.screen.active_tab == "active"  # type: ignore[attr-defined]
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)


@async_test
async def test_enter_opens_details_and_escape_goes_back(alert_app: Build) -> None:
    app, _, desk = alert_app()
    assert desk is not None
    errors = rule(desk, "ErrorRateHigh")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", "down", "enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AlertDetailScreen)
        assert screen.alert_id == errors.id
        text = screen_text(app)
        for shown in (
            "error_rate{op} over 5m > 5 %",
            "alertname=ErrorRateHigh op=fetch_profile pool=demo severity=warning",
            "fetch_profile: 7.2 % of tasks failed",
            "threshold 5.0%",
            errors.id,
        ):
            assert shown in text
        await pilot.press("escape")
        assert isinstance(app.screen, AlertsScreen)


@async_test
async def test_k_acknowledges_with_a_comment(alert_app: Build) -> None:
    app, source, desk = alert_app()
    assert desk is not None
    crash = rule(desk, "WorkerCrashLoop")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", "k")
        assert isinstance(app.screen, AckDialog)
        await pilot.press(*"on it", "enter")
        await settle(app, pilot)
        assert source.commands == [("ack_alert", {"alert_id": crash.id, "comment": "on it"})]
        text = screen_text(app)
        assert "ack WorkerCrashLoop slot=1: acknowledged as alice" in text
        # the pool's new state, in the header: the critical alert is handled
        assert "▲ 1 firing " in text
        assert "2 acked" in text
        assert "firing: WorkerCrashLoop" not in text


@async_test
async def test_k_then_escape_sends_nothing(alert_app: Build) -> None:
    app, source, _ = alert_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", "k", "x", "escape")
        await settle(app, pilot)
        assert isinstance(app.screen, AlertsScreen)
        assert source.commands == []


@async_test
async def test_k_on_a_pending_alert_says_why_and_sends_nothing(alert_app: Build) -> None:
    app, source, _ = alert_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", "down", "down", "k")
        await pilot.pause()
        assert isinstance(app.screen, AlertsScreen)
        assert source.commands == []
        assert any("only a firing alert is acknowledged" in t for t in toasts(app))


@async_test
async def test_k_in_details_acknowledges_that_alert(alert_app: Build) -> None:
    app, source, desk = alert_app()
    assert desk is not None
    crash = rule(desk, "WorkerCrashLoop")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", "enter", "k", "enter")
        await settle(app, pilot)
        assert source.commands == [("ack_alert", {"alert_id": crash.id, "comment": ""})]
        assert isinstance(app.screen, AlertDetailScreen)
        assert "by alice" in screen_text(app)


@async_test
async def test_S_silences_with_prefilled_matchers_and_a_typed_duration(alert_app: Build) -> None:
    app, source, _ = alert_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", "S")
        dialog = app.screen
        assert isinstance(dialog, SilenceDialog)
        values = [i.value for i in dialog.query(".matcher").results()]  # type: ignore[attr-defined]
        assert values == ["alertname=WorkerCrashLoop", "pool=demo", "slot=1", ""]
        assert "Selects 1 of 5 active alerts: WorkerCrashLoop" in screen_text(app)
        await pilot.press(*"90m", "enter")  # the duration is focused, its text selected
        await settle(app, pilot)
        assert source.commands == [
            (
                "silence",
                {
                    "matchers": [
                        ["alertname", "=", "WorkerCrashLoop"],
                        ["pool", "=", "demo"],
                        ["slot", "=", "1"],
                    ],
                    "duration_s": 5400.0,
                    "comment": "",
                },
            )
        ]
        text = screen_text(app)
        assert "silence s-2 set, until" in text
        assert "Silences 2" in text
        assert "silence s-2" in text  # the alert's row says which silence mutes it


@async_test
async def test_S_preset_and_edited_matchers(alert_app: Build) -> None:
    app, source, _ = alert_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", "S")
        await pilot.click("#preset-4h")
        dialog = app.screen
        dialog.query_one("#matcher-2").value = ""  # type: ignore[attr-defined]
        dialog.query_one("#matcher-0").value = "alertname=~Worker.*"  # type: ignore[attr-defined]
        dialog.query_one("#comment").value = "deploy"  # type: ignore[attr-defined]
        await pilot.pause()
        await pilot.click("#send")
        await settle(app, pilot)
        assert source.commands == [
            (
                "silence",
                {
                    "matchers": [["alertname", "=~", "Worker.*"], ["pool", "=", "demo"]],
                    "duration_s": 4 * 3600.0,
                    "comment": "deploy",
                },
            )
        ]


@pytest.mark.parametrize(
    ("field", "text", "reason"),
    [
        ("#matcher-0", "alertname~x", "is not label=value"),
        ("#matcher-0", "alertname=~(", "bad regular expression"),
        ("#matcher-1", "host=a", "silences match alertname, pool, worker, slot, op,"),
        ("#duration", "5x", "write a duration like 15m"),
        ("#duration", "0m", "longer than 0s"),
    ],
)
@async_test
async def test_S_refuses_bad_input_as_typed(
    alert_app: Build, field: str, text: str, reason: str
) -> None:
    app, source, _ = alert_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", "S")
        dialog = app.screen
        box = dialog.query_one(field)
        box.value = text  # type: ignore[attr-defined]
        await pilot.pause()
        assert reason in screen_text(app)
        assert box.has_class("-invalid")
        assert dialog.query_one("#send").disabled
        box.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog  # not sent, nothing lost
        await pilot.press("escape")
        await settle(app, pilot)
        assert source.commands == []


@async_test
async def test_u_removes_the_selected_silence_after_confirming(alert_app: Build) -> None:
    app, source, _ = alert_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", "tab", "tab", "u")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Remove silence s-1" in app.screen.question
        await pilot.press("y")
        await settle(app, pilot)
        assert source.commands == [("unsilence", {"silence_id": "s-1"})]
        text = screen_text(app)
        assert "unsilence s-1: removed" in text
        assert "Silences 0" in text


@async_test
async def test_u_on_a_silenced_alert_and_no(alert_app: Build) -> None:
    app, source, _ = alert_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", *["down"] * 4, "u")  # the silenced alert sorts last
        assert isinstance(app.screen, ConfirmScreen)
        assert "s-1" in app.screen.question
        await pilot.press("n")
        await settle(app, pilot)
        assert source.commands == []
        await pilot.press("home", "up", "u")  # back on top: an alert no silence mutes
        await pilot.pause()
        assert isinstance(app.screen, AlertsScreen)
        assert any("Select a silence" in t for t in toasts(app))


@async_test
async def test_read_only_shows_the_keys_disabled_and_says_why(alert_app: Build) -> None:
    app, source, _ = alert_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        bindings = screen.active_bindings
        for key in ("k", "S", "u"):
            assert not bindings[key].enabled, key
        await pilot.press("k", "S", "u")
        await pilot.pause()
        assert app.screen is screen
        assert source.commands == []
        said = [t for t in toasts(app) if t.startswith("Read-only")]
        assert len(said) == 3
        assert "cannot acknowledge alerts" in said[0]
        assert "Attach without --read-only" in said[0]


@async_test
async def test_a_refusal_shows_the_pools_reason(alert_app: Build) -> None:
    app, source, _ = alert_app()
    source._responder = lambda name, args: CommandResult(False, reason="alert resolved meanwhile")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", "k", "enter")
        await settle(app, pilot)
        assert "refused: alert resolved meanwhile" in screen_text(app)
        assert any("alert resolved meanwhile" in t for t in toasts(app))


@async_test
async def test_a_new_firing_alert_is_announced_once(alert_app: Build) -> None:
    app, source, desk = alert_app()
    assert desk is not None
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        fired = [t for t in toasts(app) if "firing:" in t]
        # the unhandled firing alerts, most severe first: the acked and silenced are not news
        assert fired == [
            "CRITICAL firing: WorkerCrashLoop: Workers in slot 1 exited abnormally 3 times in 5m"
            "\nslot=1 · a: alerts",
            "WARNING firing: ErrorRateHigh: fetch_profile: 7.2 % of tasks failed over 5m "
            "(threshold 5 %)\nop=fetch_profile · a: alerts",
        ]
        app.refresh_frame()
        app.refresh_frame()
        assert len([t for t in toasts(app) if "firing:" in t]) == 2
        now = source.clock.time_ns()
        stuck = make_alert("WorkerStuck", now, extra={"worker": "2"}, state=FIRING, age_s=5)
        desk.publish(replace(desk.view, revision=99, alerts=(*desk.view.alerts, stuck)))
        app.refresh_frame()
        await pilot.pause()
        fired = [t for t in toasts(app) if "firing:" in t]
        assert len(fired) == 3
        assert fired[2].startswith("WARNING firing: WorkerStuck")


@async_test
async def test_palette_and_help_list_the_alert_keys(alert_app: Build) -> None:
    app, _, _ = alert_app()
    async with app.run_test(size=SIZE) as pilot:
        assert "Alerts" in {c.title for c in app.get_system_commands(app.screen)}
        await pilot.press("a")
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Acknowledge alert", "Silence alerts", "Remove silence"} <= titles
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for line in (
            "acknowledge the selected alert",
            "silence alerts like",
            "remove the selected",
        ):
            assert line in text


@async_test
async def test_an_alert_resolved_minutes_ago_is_listed_once_in_history() -> None:
    """The engine's view holds a recently resolved alert both among `alerts` and in `history`
    (tests/alerts/test_alert_threshold.py); the History table refused the repeated row key."""
    source, view = demo_with_sample_alerts()
    just_resolved = view.history[0]
    view = replace(view, alerts=(*view.alerts, just_resolved))
    AlertDesk(source, view, user="alice")
    app = PoolmonApp(source, refresh_hz=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("tab")
        await pilot.pause()
        assert app.screen.active_tab == "history"  # type: ignore[attr-defined]
        text = screen_text(app)
        assert "History 2" in text
        assert text.count(just_resolved.rule) == 1


@async_test
async def test_a_history_alert_says_its_chart_values_are_not_kept() -> None:
    """The history keeps an alert without its last values (the engine drops them on resolve)."""
    source, view = demo_with_sample_alerts()
    view = replace(
        view,
        history=tuple(replace(a, recent=()) for a in view.history),
        resolved_retention_s=300.0,  # a pool set to keep them 5 minutes: the words follow it
    )
    AlertDesk(source, view, user="alice")
    app = PoolmonApp(source, refresh_hz=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", "tab")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AlertDetailScreen)
        assert "values are kept 5m after it resolves" in screen_text(app)


def demo_with_sample_alerts() -> tuple[FeedSource, AlertsView]:
    """60 s of the demo stream and the sample alert view at its clock (to be edited, then
    published with an `AlertDesk`)."""
    clock = ManualClock()
    source = FeedSource(clock)
    generator = StreamGenerator(StreamSpec(), clock.time_ns())
    source.attach(generator.pool_info())
    source.play(generator, 60)
    return source, sample_view(clock.time_ns())
