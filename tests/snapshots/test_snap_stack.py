"""The stack modal at 80x24: producer, limits, task line and frames from a hand-built reply."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from poolmon.app.app import PoolmonApp
from poolmon.screens.stack import StackScreen
from poolmon.testing.clock import ManualClock
from poolmon.testing.stack_reply import stack_responder
from poolmon.testing.streams import FeedSource, StreamGenerator, StreamSpec


def test_stack_modal(snap_compare: Any) -> None:
    """A worker stuck on a lock for 93.4 s: the stuck line first, the in-worker dumper's limits."""
    clock = ManualClock()
    source = FeedSource(clock, responder=stack_responder)
    generator = StreamGenerator(StreamSpec(), clock.time_ns())
    source.attach(generator.pool_info())
    source.play(generator, 60)
    app = PoolmonApp(source, refresh_hz=0)

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("down", "enter", "x")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, StackScreen)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
