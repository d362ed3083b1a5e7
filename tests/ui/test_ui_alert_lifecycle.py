"""The app while the pool's alert state moves under it: an alert leaves, the pool restarts."""

from __future__ import annotations

from dataclasses import replace

from poolmon.app.app import PoolmonApp
from poolmon.app.textdump import screen_text
from poolmon.core.snapshot import PoolInfo
from poolmon.screens.alert_detail import AlertDetailScreen
from poolmon.testing.alert_desk import AlertDesk
from poolmon.testing.alert_samples import sample_view
from poolmon.testing.clock import ManualClock
from poolmon.testing.streams import FeedSource, StreamGenerator, StreamSpec
from tests.ui.test_ui_keys import async_test

SIZE = (120, 40)


def build() -> tuple[PoolmonApp, FeedSource, AlertDesk, PoolInfo]:
    clock = ManualClock()
    source = FeedSource(clock)
    generator = StreamGenerator(StreamSpec(), clock.time_ns())
    info = generator.pool_info()
    source.attach(info)
    source.play(generator, 30)
    desk = AlertDesk(source, sample_view(clock.time_ns()), user="alice")
    return PoolmonApp(source, refresh_hz=0), source, desk, info


@async_test
async def test_details_keep_the_last_known_state_when_the_alert_leaves() -> None:
    app, source, desk, _ = build()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", "enter")
        screen = app.screen
        assert isinstance(screen, AlertDetailScreen)
        gone = screen.alert_id
        desk.publish(
            replace(
                desk.view,
                revision=desk.view.revision + 1,
                alerts=tuple(a for a in desk.view.alerts if a.id != gone),
            )
        )
        app.refresh_frame()
        await pilot.pause()
        text = screen_text(app)
        assert "no longer in the pool's alert state" in text
        assert "WorkerCrashLoop" in text  # the last known details stay
        await pilot.press("k")  # nothing to acknowledge any more
        await pilot.pause()
        assert app.screen is screen
        assert source.commands == []


@async_test
async def test_a_pool_restart_forgets_the_old_alerts_until_the_new_pool_reports() -> None:
    app, source, desk, info = build()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "firing: WorkerCrashLoop" in screen_text(app)
        source.engine.set_pool_info(replace(info, pid=info.pid + 1000))  # a new instance
        app.refresh_frame()
        await pilot.pause()
        text = screen_text(app)
        assert "alerting: no data" in text
        assert "firing" not in text
        desk.publish(replace(desk.view, revision=1))  # its first state, a low revision
        app.refresh_frame()
        await pilot.pause()
        assert "firing: WorkerCrashLoop" in screen_text(app)
