"""Snapshot-test setup: SVGs under the top-level snapshots/ folder, and nothing that moves.

* syrupy writes next to the test (`tests/snapshots/__snapshots__/`) and `snap_compare`
  hard-codes its SVG extension, so `SVGImageExtension.dirname` is redirected here to
  `snapshots/<test module>/` (the module stays in the path; syrupy requires that the location
  relates to the test, and it keeps baselines of different modules apart).
* No animations, no cursor blink, no wall clock: the apps are fed generated streams through
  the real aggregator under a `ManualClock`, the theme is fixed by the app, and the refresh
  timer is off (`refresh_hz=0`); tests redraw explicitly.
"""

from __future__ import annotations

import os

os.environ["TEXTUAL_ANIMATIONS"] = "none"  # read by textual.constants at import time

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_textual_snapshot import SVGImageExtension
from syrupy.location import PyTestLocation
from textual.widgets import Input

from poolmon.app.app import PoolmonApp
from poolmon.runtime.source import CommandResult
from poolmon.testing.clock import ManualClock
from poolmon.testing.streams import FeedSource, StreamGenerator, StreamSpec

SNAPSHOT_ROOT = Path(__file__).resolve().parents[2] / "snapshots"


def _dirname(cls: type[SVGImageExtension], *, test_location: PyTestLocation) -> str:
    return str(SNAPSHOT_ROOT / test_location.basename)


SVGImageExtension.dirname = classmethod(_dirname)  # type: ignore[assignment,method-assign]


@pytest.fixture(autouse=True)
def _no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


def resize_ok(name: str, args: Any) -> CommandResult:
    """What a cooperative pool answers to resize: the size it now reports."""
    return CommandResult(True, {"size": int(args["size"])})


AppFactory = Callable[..., tuple[PoolmonApp, FeedSource]]


@pytest.fixture
def make_app() -> AppFactory:
    """Build an app fed `seconds` of the seeded demo stream through the real aggregator.

    Keyword args: seconds (default 90), spec (StreamSpec), read_only, state (live,
    connecting, stale, disconnected), window_s, gap ((after_s, length_s): that stretch is
    lost, as in a disconnection, and marked as a gap).
    """

    def build(
        *,
        seconds: int = 90,
        spec: StreamSpec | None = None,
        read_only: bool = False,
        state: str = "live",
        window_s: int = 60,
        gap: tuple[int, int] | None = None,
    ) -> tuple[PoolmonApp, FeedSource]:
        clock = ManualClock()
        source = FeedSource(clock, read_only=read_only, responder=resize_ok)
        generator = StreamGenerator(spec or StreamSpec(), clock.time_ns())
        if state != "connecting":
            source.attach(generator.pool_info())
            if gap is None:
                source.play(generator, seconds)
            else:  # a disconnection: `gap[1]` seconds lost after `gap[0]`, then reconnected
                source.play(generator, gap[0])
                lost_from = clock.time_ns() - 1  # the last event received, then silence
                for end_ns, _, _ in generator.seconds(gap[1]):
                    clock.advance((end_ns - clock.time_ns()) / 1e9)
                source.engine.mark_gap(lost_from, clock.time_ns())
                source.play(generator, seconds - gap[0] - gap[1])
        if state == "disconnected":
            source.disconnect("connection refused; reconnecting in 2.0s (attempt 3)")
        elif state == "stale":
            source.set_status("stale", "no data for 5s", "warning")
        app = PoolmonApp(source, refresh_hz=0, window_s=window_s, read_only=read_only)
        return app, source

    return build
