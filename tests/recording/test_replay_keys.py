"""The replay's timeline keys in the real app (Pilot), on a recording built with the real codec.

The viewer's clock is manual, so "play for 2 s at 10x" is exact; every key is checked by
where the replay is afterwards and by what the screen says.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from recorded_pool import async_test

from poolmon.app.replay import ReplayApp
from poolmon.runtime.recording.replay import ReplaySource
from poolmon.screens.alerts import AlertsScreen
from poolmon.screens.seek_dialog import ReplayHelpScreen, SeekDialog
from poolmon.testing.clock import ManualClock
from poolmon.testing.recordings import NS, synthesize
from poolmon.widgets.header_bar import HeaderBar


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize(tmp_path_factory.mktemp("keys") / "keys.pmrec", 180, gap=(120, 8))


def _app(recording: Path) -> tuple[ReplayApp, ReplaySource, ManualClock]:
    clock = ManualClock()
    source = ReplaySource(recording, clock=clock)
    return ReplayApp(source, refresh_hz=0), source, clock


def _notes(app: ReplayApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def _at_s(source: ReplaySource) -> float:
    """Seconds since the replay's start (a step after the recorder's first backfill ended)."""
    return (source.position_ns() - source.timeline.start_ns) / NS


def _recorded_s(source: ReplaySource) -> float:
    """Seconds since the recorder's first frame, when the synthetic recording's events are."""
    return (source.position_ns() - source.file.first_ns) / NS


@async_test
async def test_play_pause_and_speed(recording: Path) -> None:
    app, source, clock = _app(recording)
    async with app.run_test(size=(160, 50)) as pilot:
        assert app.screen.query_one(HeaderBar).state == "REPLAY 1x paused"
        await pilot.press("greater_than_sign", "greater_than_sign")
        assert source.timeline.speed == 60
        await pilot.press("less_than_sign")
        assert source.timeline.speed == 10
        await pilot.press("space")
        clock.advance(2.0)
        app.refresh_frame()
        await pilot.pause()
        assert _at_s(source) == pytest.approx(20.0)
        assert app.screen.query_one(HeaderBar).state == "REPLAY 10x playing"
        await pilot.press("p")
        clock.advance(5.0)
        assert _at_s(source) == pytest.approx(20.0)  # paused: time stands still
        assert "keys.pmrec 20s of 3m00s" in app._frame_for(app.screen).detail


@async_test
async def test_go_to_a_typed_time_and_step_by_the_window(recording: Path) -> None:
    app, source, _ = _app(recording)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("g")
        assert isinstance(app.screen, SeekDialog)
        await pilot.press(*"+1m3", "enter")  # not a valid step yet: stays open, says why
        assert isinstance(app.screen, SeekDialog)
        assert "cannot seek to '+1m3'" in str(app.screen.query_one("#why").render())
        await pilot.press("backspace", *"30s", "enter")
        assert not isinstance(app.screen, SeekDialog)
        assert _at_s(source) == pytest.approx(90.0)
        await pilot.press("full_stop")  # the window is a minute
        assert _at_s(source) == pytest.approx(150.0)
        await pilot.press("comma", "comma")
        assert _at_s(source) == pytest.approx(30.0)
        await pilot.press("g", *"00:01:10", "enter")  # a time of day (UTC)
        assert _recorded_s(source) == pytest.approx(70.0)  # the first frame is at 00:00:00
        await pilot.press("g", *"end", "enter")
        assert source.position_ns() == source.timeline.end_ns


@async_test
async def test_jump_to_the_next_crash_and_gap(recording: Path) -> None:
    app, source, _ = _app(recording)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("c")  # worker 1 crashes at 41.5 s; the recorder got it at 42.05 s
        assert 42.05 < _recorded_s(source) <= 42.25
        assert any("worker crash at" in n for n in _notes(app))
        crashed = source.worker(1, 60)
        assert crashed is not None
        assert [e.reason for e in crashed.exits] == ["crash"]
        await pilot.press("d")  # the recorder noted the link down at 120.55 s
        assert 120.55 < _recorded_s(source) <= 120.75
        await pilot.press("d")  # back at 128.8 s: the backfill reports what was lost
        assert 128.8 < _recorded_s(source) <= 129.0
        assert source.status().dropped > 0
        await pilot.press("d")
        assert any("no gap after this point" in n for n in _notes(app))
        await pilot.press("n")  # the seeded stream has no alert state
        assert any("no alert firing after this point" in n for n in _notes(app))


@async_test
async def test_control_keys_are_refused_with_the_reason(recording: Path) -> None:
    app, source, _ = _app(recording)
    async with app.run_test(size=(160, 50)) as pilot:
        source.seek(source.timeline.start_ns + 60 * NS)
        app.refresh_frame()
        await pilot.press("plus")
        assert any("a recording cannot be steered" in n for n in _notes(app))
        app.clear_notifications()
        await pilot.press("a")
        assert isinstance(app.screen, AlertsScreen)
        await pilot.press("k")
        assert any("a recording cannot be steered" in n for n in _notes(app))
        await pilot.press("escape", "question_mark")
        assert isinstance(app.screen, ReplayHelpScreen)
