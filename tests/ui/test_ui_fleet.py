"""Several pools in one app, end to end: real pools, real sockets, the app headless.

The pools overview lists every pool with its figures, sorts both ways, enter opens a pool's
own overview (whose header names it), `[`/`]` switch, `P` comes back; with `--all` a pool that
starts later appears and a pool that goes away stays, marked.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.app import ScreenStackError
from textual.pilot import Pilot

from poolmon.app.app import PoolmonApp
from poolmon.app.textdump import screen_text
from poolmon.core.fleet_summary import PoolRow
from poolmon.runtime.fleet import Fleet, FleetSource, local_target
from poolmon.runtime.monitor import Monitor
from poolmon.screens.overview import OverviewScreen
from poolmon.screens.pools import PoolsScreen
from poolmon.testing.fleet_pools import LoadedPool
from poolmon.widgets.pool_table import PoolTable

pytestmark = pytest.mark.integration


@pytest.fixture
def folder() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="fl", dir="/tmp"))  # socket paths must stay short
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def pools(folder: Path) -> Iterator[list[LoadedPool]]:
    started: list[LoadedPool] = []
    yield started
    for pool in started:
        pool.stop()


async def until(pilot: Pilot[None], condition: Callable[[], bool], timeout_s: float = 30) -> None:
    """Let the app run until `condition()` holds.

    A condition asked before the app's `on_mount` has pushed its first screen (a loaded
    machine can delay it past the pilot's start) finds no screen: not yet, not a failure.
    """
    deadline = time.monotonic() + timeout_s
    while not _holds(condition):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.2)


def _holds(condition: Callable[[], bool]) -> bool:
    try:
        return condition()
    except ScreenStackError:
        return False


def rows(app: PoolmonApp) -> tuple[PoolRow, ...]:
    screen = app.screen
    assert isinstance(screen, PoolsScreen)
    assert screen.frame is not None
    return screen.frame.pools


def test_overview_sort_open_and_switch(folder: Path, pools: list[LoadedPool]) -> None:
    for name, task_s in (("alpha", 0.001), ("slow", 0.05), ("gamma", 0.001)):
        pools.append(LoadedPool(name, folder / f"{name}.sock", task_s=task_s).start())
    fleet = Fleet([local_target(p.path) for p in pools], lambda path: Monitor(path))
    app = PoolmonApp(FleetSource(fleet), refresh_hz=4)

    async def scenario() -> None:
        async with app.run_test(size=(160, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, PoolsScreen))
            await until(
                pilot,
                lambda: all(r.condition == "live" and r.summary.p99_ns for r in rows(app)),
            )
            text = screen_text(app)
            assert "pools overview (3)" in text
            for name in ("alpha", "slow", "gamma"):
                assert name in text
            table = app.screen.query_one(PoolTable)
            assert table.keys == sorted(table.keys)  # by name, a to z
            for _ in range(5):  # pool -> host -> state -> busy/size -> tasks/s -> p99
                await pilot.press("s")
            assert table.sort_column == "p99"
            assert table.descending
            await until(pilot, lambda: Path(table.keys[0]).name == "slow.sock")
            assert "p99 ▼" in screen_text(app)
            await pilot.press("r")
            assert Path(table.keys[-1]).name == "slow.sock"
            assert "p99 ▲" in screen_text(app)

            await pilot.press("end")  # the slow pool is last now
            assert table.highlighted_key == str(pools[1].path)
            assert str(pools[1].path) in screen_text(app)  # the line below names where it is
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, OverviewScreen))
            await until(pilot, lambda: "slow" in screen_text(app).splitlines()[0])
            header = screen_text(app).splitlines()[0]
            assert "2/3" in header
            assert "● live" in header

            await pilot.press("right_square_bracket")
            await until(pilot, lambda: "gamma" in screen_text(app).splitlines()[0])
            assert "3/3" in screen_text(app).splitlines()[0]
            await pilot.press("right_square_bracket")  # wraps around
            await until(pilot, lambda: "alpha" in screen_text(app).splitlines()[0])
            await pilot.press("left_square_bracket")
            await until(pilot, lambda: "gamma" in screen_text(app).splitlines()[0])
            assert app.source.status().state == "live"
            snap = app.source.snapshot(60)
            assert snap.pool.name == "gamma"  # every screen reads the selected pool

            await pilot.press("P")
            await until(pilot, lambda: isinstance(app.screen, PoolsScreen))
            assert "pools overview (3)" in screen_text(app).splitlines()[0]
            await pilot.press("enter")  # the cursor follows the pool shown last: gamma
            await until(pilot, lambda: "gamma" in screen_text(app).splitlines()[0])
            await pilot.press("escape")  # escape leaves a pool's overview for the list too
            await until(pilot, lambda: isinstance(app.screen, PoolsScreen))

    asyncio.run(scenario())


def test_all_finds_new_pools_and_marks_gone_ones(folder: Path, pools: list[LoadedPool]) -> None:
    pools.append(LoadedPool("first", folder / "first.sock").start())
    fleet = Fleet([], lambda path: Monitor(path), discover=True, directory=folder, scan_s=0.2)
    app = PoolmonApp(FleetSource(fleet), refresh_hz=4)

    def condition(name: str) -> str | None:
        found = [r for r in rows(app) if r.label == name]
        return None if not found else found[0].condition

    async def scenario() -> None:
        async with app.run_test(size=(160, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, PoolsScreen))
            await until(pilot, lambda: condition("first") == "live")
            assert condition("second") is None
            pools.append(LoadedPool("second", folder / "second.sock").start())
            await until(pilot, lambda: condition("second") == "live")
            assert "pools overview (2)" in screen_text(app)

            pools[0].stop()
            await until(pilot, lambda: condition("first") == "exited")
            # its socket went away: marked (and when), not removed
            await until(pilot, lambda: any(r.gone_at_ns for r in rows(app) if r.label == "first"))
            text = screen_text(app)
            assert "✕ gone" in text
            assert "first" in text
            assert condition("second") == "live"

    asyncio.run(scenario())
