"""Pictures of several pools and of the monitor watching itself (80x24 and 160x50).

Five pools fed generated streams through real aggregators under one frozen clock, never a
socket: one slow (its tasks four times longer), one with alerts firing, one whose pool exited
(its socket gone), one whose connection was lost, one restarted. The self-monitoring view gets
hand-recorded frame times, a fixed memory figure and CPU that advances with the frozen clock,
and one pool's feed stops two seconds before the picture, so it reads 2.4 s behind.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from poolmon.app.app import PoolmonApp
from poolmon.core import catalog as C
from poolmon.core.events import Event
from poolmon.runtime.fleet import Fleet, FleetSource, FleetTarget
from poolmon.runtime.selfwatch import SelfWatch
from poolmon.testing.alert_samples import alert_state_event, sample_view
from poolmon.testing.clock import ManualClock
from poolmon.testing.fleet_feed import FeedMonitor
from poolmon.testing.streams import StreamGenerator, StreamSpec

SIZES = [(80, 24), (160, 50)]
POOLS = (
    ("etl", 1.0, 400),
    ("search", 4.0, 150),
    ("billing", 1.0, 300),
    ("reports", 1.0, 120),
    ("thumbs", 1.0, 250),
)
"""Name, latency factor (the slow pool's tasks take 4x as long), tasks per second."""


class Scene:
    """The five pools' feeds under one clock; `second()` plays one more second of each."""

    def __init__(self, clock: ManualClock, behind: str) -> None:
        self.clock = clock
        self.behind = behind
        """The pool whose data stops arriving two seconds before the picture."""
        self.feeds: dict[Path, FeedMonitor] = {}
        self.gens: dict[Path, StreamGenerator] = {}
        self.stopped: set[str] = set()

    def second(self) -> None:
        """Advance the clock by a second; every pool still sending sends that second."""
        for path, gen in self.gens.items():
            if path.stem not in self.stopped:
                for _, events, batch in gen.seconds(1):
                    self.feeds[path].feed(events, batch)
        self.clock.advance(1)


def fleet_app(seconds: int = 75, behind: str = "") -> tuple[PoolmonApp, Scene]:
    """The five pools, played together second by second, and the app on them (timer off)."""
    clock = ManualClock()
    scene = Scene(clock, behind)
    feeds, gens = scene.feeds, scene.gens
    targets = []
    for i, (name, slow, rate) in enumerate(POOLS):
        spec = StreamSpec(seed=11 + i, workers=4 + i, tasks_per_s=rate, name=name, pid=4000 + i)
        if slow > 1:
            ops = tuple(replace(op, median_ms=op.median_ms * slow) for op in spec.operations)
            spec = replace(spec, operations=ops)
        path = Path(f"/run/poolmon/{name}.sock")
        feeds[path] = FeedMonitor(clock)
        gens[path] = StreamGenerator(spec, clock.time_ns())
        feeds[path].attach(gens[path].pool_info())
        targets.append(FleetTarget(path, name, f"ssh://db{i + 1}/{name}"))
    for second in range(seconds):
        if second == seconds - 2:
            scene.stopped.add(behind)  # its data stops arriving: the app falls behind on it
        scene.second()
        if second == 30:
            feeds[Path("/run/poolmon/billing.sock")].feed(
                [alert_state_event(sample_view(clock.time_ns(), pool="billing"))]
            )
    clock.advance(0.5)
    now = clock.time_ns()
    internals = {
        "monitors": 2,
        "socket_buffer_bytes": 0,
        "history_events": 48_112,
        "history_bytes": 3_512_020,
        "telemetry_buffer_events": 12,
        "events_dropped": 0,
    }
    for path in feeds:
        feeds[path].feed([Event(C.RESOURCE_INTERNALS, now - 400_000_000, internals, {})])
    scene.stopped.update({"reports", "thumbs"})
    for name in ("reports", "thumbs"):  # as a monitor does when its link drops: ages freeze
        feeds[Path(f"/run/poolmon/{name}.sock")].aggregator.note_link_down(now)
    feeds[Path("/run/poolmon/reports.sock")].disconnect(
        "pool exited (clean shutdown) · last data 00:01:10 UTC, 5s ago · retrying in 2.0s"
    )
    feeds[Path("/run/poolmon/thumbs.sock")].disconnect(
        "connection lost (pool process 4004 still running) · retrying in 1.0s (attempt 2)"
    )
    feeds[Path("/run/poolmon/search.sock")].set_status(
        "live", "pool restarted: new pid 5151 (was 4001)", "warning"
    )
    fleet = Fleet(targets, lambda path: feeds[path])
    fleet.members[3].gone_at_ns = now - 5_000_000_000  # its socket went away 5 s ago
    app = PoolmonApp(FleetSource(fleet), refresh_hz=0)
    watch = SelfWatch(
        clock=clock,
        rss=lambda: 131_072_000,
        cpu_time=lambda: clock.monotonic_ns() / 1e9 * 0.18,  # 18 % of a core, steadily
        threads=lambda: 9,
        recording=False,
    )
    for ms, cpu in ((21.4, 12.8), (18.9, 11.7), (24.0, 13.1), (19.7, 12.2), (61.3, 15.0)):
        watch.record_frame(ms, cpu)
    for ms in (3.1, 2.9, 3.4):
        watch.snapshot_ms.append(ms)
    app.self_watch = watch
    return app, scene


async def _settle(app: PoolmonApp, scene: Scene, pilot: Pilot[None]) -> None:
    """Two refreshes a second apart (rates need two looks), then draw."""
    app.refresh_frame()
    scene.second()
    app.refresh_frame()
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_pools_overview(snap_compare: Any, size: tuple[int, int]) -> None:
    """Five pools by name: the slow one's p99, alerts firing, exited and gone, lost, restarted."""
    app, scene = fleet_app()

    async def run_before(pilot: Pilot[None]) -> None:
        await _settle(app, scene, pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_pools_overview_sorted_by_p99(snap_compare: Any) -> None:
    """`s` four times (no host column at 80): slowest p99 first, the arrow says which way."""
    app, scene = fleet_app()

    async def run_before(pilot: Pilot[None]) -> None:
        await _settle(app, scene, pilot)
        await pilot.press(*"ssss")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_one_pool_among_several(snap_compare: Any) -> None:
    """Enter on the last pool (thumbs, connection lost): its overview names it (5/5)."""
    app, scene = fleet_app()

    async def run_before(pilot: Pilot[None]) -> None:
        await _settle(app, scene, pilot)
        await pilot.press("end", "enter")  # by name: billing, etl, reports, search, thumbs
        await _settle(app, scene, pilot)

    assert snap_compare(app, terminal_size=(160, 50), run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_self_view(snap_compare: Any, size: tuple[int, int]) -> None:
    """`m` on etl, whose feed stopped: its lag (2.4 s) in red, the header says BEHIND."""
    app, scene = fleet_app(behind="etl")

    async def run_before(pilot: Pilot[None]) -> None:
        await _settle(app, scene, pilot)
        await pilot.press("down", "enter", "m")  # etl is second by name
        await _settle(app, scene, pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
