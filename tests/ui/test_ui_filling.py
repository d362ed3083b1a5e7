"""While the history arrives the app shows no half-filled figures, then draws at once.

poolmon/app/filling.py: a refresh tick during the backfill takes no snapshot (the screen keeps
its frame; only a changed status line is redrawn, over the figures it already had), and the
first complete frame follows within a poll interval of the history's end, not a whole tick.
"""

from __future__ import annotations

import asyncio
import dataclasses

from poolmon.app.app import PoolmonApp
from poolmon.core.snapshot import PoolSnapshot
from poolmon.runtime.source import SourceStatus
from poolmon.testing.clock import ManualClock
from poolmon.testing.feed_source import FeedSource


class FillingSource(FeedSource):
    """A source whose history is arriving until `filled()`; counts the snapshots taken."""

    def __init__(self) -> None:
        super().__init__(ManualClock())
        self.filling = True
        self.snapshots = 0

    def status(self) -> SourceStatus:
        return dataclasses.replace(super().status(), filling=self.filling)

    def snapshot(self, window_s: int) -> PoolSnapshot:
        self.snapshots += 1
        return super().snapshot(window_s)


async def _wait_for(predicate: object, pilot: object, timeout_s: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout_s
    while not predicate():  # type: ignore[operator]
        assert loop.time() < end, "condition not met in time"
        await pilot.pause(0.01)  # type: ignore[attr-defined]


def test_no_snapshot_while_filling_and_the_full_frame_at_once() -> None:
    async def run() -> None:
        source = FillingSource()
        source.set_status("connecting", "attached to demo (pid 1); receiving history")
        app = PoolmonApp(source, refresh_hz=0)
        async with app.run_test(size=(80, 24)) as pilot:
            first = source.snapshots
            assert first == 1  # the first frame is drawn (the status says what is going on)
            for _ in range(5):
                app.refresh_frame()  # ticks while the history arrives
            assert source.snapshots == first
            source.set_status("live")  # a status change is shown, over the same figures
            app.refresh_frame()
            assert source.snapshots == first
            assert app._status.state == "live"
            source.filling = False  # the history is in: drawn within a poll, no tick needed
            await _wait_for(lambda: source.snapshots > first, pilot)
            app.refresh_frame()
            assert source.snapshots == first + 2  # ticks take snapshots again

    asyncio.run(run())
