"""The monitor watching itself: the `m` view, and the header that says when the app is behind."""

from __future__ import annotations

import asyncio

from textual.pilot import Pilot

from poolmon.app.app import PoolmonApp
from poolmon.app.textdump import screen_text
from poolmon.core.protocol import Heartbeat
from poolmon.runtime.selfwatch import SelfWatch
from poolmon.screens.self_view import SelfScreen
from poolmon.testing.clock import ManualClock
from poolmon.testing.fleet_feed import FeedMonitor
from poolmon.testing.streams import StreamGenerator, StreamSpec
from poolmon.widgets import _format as fmt
from poolmon.widgets.header_bar import HeaderBar


def fed() -> tuple[PoolmonApp, FeedMonitor, ManualClock]:
    clock = ManualClock()
    source = FeedMonitor(clock)
    generator = StreamGenerator(StreamSpec(), clock.time_ns())
    source.attach(generator.pool_info())
    source.play(generator, 30)
    app = PoolmonApp(source, refresh_hz=0)
    app.self_watch = SelfWatch(clock=clock)  # rates and recent losses on the frozen clock
    return app, source, clock


def header(app: PoolmonApp) -> str:
    return screen_text(app).splitlines()[0]


async def redraw(app: PoolmonApp, pilot: Pilot[None]) -> None:
    """One refresh, then wait until the header shows its frame (a loaded machine renders late)."""
    app.refresh_frame()
    bar = app.screen.query_one(HeaderBar)
    want = fmt.clock(app.source.snapshot(60).taken_at_ns)
    for _ in range(100):
        await pilot.pause(0.02)
        if want in header(app) and bar.behind in header(app):
            return


def test_header_says_behind_when_the_lag_passes_two_seconds() -> None:
    app, source, clock = fed()

    async def scenario() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            source.intake.note(Heartbeat(ts_ns=clock.time_ns()))  # the newest data: now
            clock.advance(1.5)
            await redraw(app, pilot)
            assert "● live" in header(app)  # 1.5 s behind: within the 2 s allowance
            assert "BEHIND" not in header(app)

            clock.advance(1.7)  # nothing newer arrived: now 3.2 s behind the newest data
            await redraw(app, pilot)
            assert "BEHIND 3.2s" in header(app)
            assert "● live" not in header(app)  # a monitor that is behind never looks live

            source.intake.note(Heartbeat(ts_ns=clock.time_ns()))  # caught up
            await redraw(app, pilot)
            assert "● live" in header(app)
            assert "BEHIND" not in header(app)

    asyncio.run(scenario())


def test_header_says_behind_while_records_are_being_lost() -> None:
    app, source, clock = fed()

    async def scenario() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            source.intake.note(Heartbeat(ts_ns=clock.time_ns()))
            await redraw(app, pilot)
            assert "BEHIND" not in header(app)
            source.set_status("live", dropped=120)  # 120 records lost in transport
            clock.advance(1)
            source.intake.note(Heartbeat(ts_ns=clock.time_ns()))
            await redraw(app, pilot)
            assert "BEHIND 120 lost" in header(app)
            clock.advance(11)  # no new losses for longer than the 10 s memory
            source.intake.note(Heartbeat(ts_ns=clock.time_ns()))
            await redraw(app, pilot)
            assert "BEHIND" not in header(app)

    asyncio.run(scenario())


def test_m_opens_the_self_view_with_true_figures() -> None:
    app, source, clock = fed()

    async def scenario() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            source.intake.note(Heartbeat(ts_ns=clock.time_ns(), dropped_records=7))
            await pilot.press("m")
            await pilot.pause()
            assert isinstance(app.screen, SelfScreen)
            await redraw(app, pilot)
            text = screen_text(app)
            assert "frame time" in text
            assert "snapshot build" in text
            assert "memory (RSS)" in text
            assert "No client queue" in text
            assert app.self_watch.frames >= 1  # frames were really timed
            # the heartbeat's count: 7 records the pool's endpoint could not deliver
            row = next(line for line in text.splitlines() if "demo" in line and "live" in line)
            assert row.strip("│ ").split()[-2] == "7"
            assert "no report received yet" in text  # no internals event: said, not zero
            await pilot.press("escape")
            assert not isinstance(app.screen, SelfScreen)

    asyncio.run(scenario())


def test_the_self_view_names_skipped_frames_and_why() -> None:
    app, source, _clock = fed()
    source.intake.frames_skipped = 2
    source.intake.last_skip = "Rollups: ProtocolError: malformed rollup: status counts"

    async def scenario() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.press("m")
            await redraw(app, pilot)
            text = screen_text(app)
            assert "demo: 2 frames skipped, their data missing" in text
            words = " ".join(text.replace("│", " ").split())  # the caption wraps to the table
            assert "(last: Rollups: ProtocolError: malformed rollup: status counts)" in words

    asyncio.run(scenario())
