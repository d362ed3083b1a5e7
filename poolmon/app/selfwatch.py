"""The app's side of watching itself: frame timing, the "BEHIND" header, the `m` view.

Why a mixin of the app: the frame's time is only known to the app (its refresh tick starts
it; Textual's after-refresh callback ends it once the screen is rendered), and the header's
"BEHIND" must be decided every tick for whichever pool is shown, not only while the view is
open. The figures themselves come from `poolmon.runtime.selfwatch` and each monitor's
`IntakeMeter`; a source without one (a test feed) simply has no intake rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from poolmon.core.self_figures import SelfFigures
from poolmon.core.snapshot import PoolSnapshot
from poolmon.runtime.fleet import FleetSource
from poolmon.runtime.intake import IntakeMeter
from poolmon.runtime.selfwatch import FrameStart, SelfWatch, Watched
from poolmon.runtime.source import SnapshotSource
from poolmon.screens.base import PoolmonScreen
from poolmon.screens.pools import PoolsScreen
from poolmon.screens.self_view import SelfScreen


def watched_pools(source: SnapshotSource, name: str) -> tuple[list[Watched], int | None]:
    """Every pool behind `source` with its intake meter, and the index of the shown one."""
    if isinstance(source, FleetSource):
        members = source.fleet.members
        watched = [(m.target.label, m.monitor.status(), m.monitor.intake) for m in members]
        current = members.index(source.fleet.current) if members else None
        return watched, current
    meter = getattr(source, "intake", None)
    if isinstance(meter, IntakeMeter):
        return [(name or "pool", source.status(), meter)], 0
    return [], None


class SelfWatchMixin(App[None]):
    """Self-monitoring for `PoolmonApp` (mixed in; see the module doc)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "self_view", "Self", show=False),
    ]
    """
    | Key | Action |
    | :- | :- |
    | `m` | The self-monitoring view: the app's own frame time, lag, drops, memory (listed in
      help and the palette; the 80-column footer has no room left). |
    """

    source: SnapshotSource
    refresh_hz: float
    _snapshot: PoolSnapshot | None
    _self_watch: SelfWatch | None = None

    @property
    def self_watch(self) -> SelfWatch:
        """The app's own figures (created on first use; a test may set its own)."""
        if self._self_watch is None:
            self._self_watch = SelfWatch()
        return self._self_watch

    @self_watch.setter
    def self_watch(self, watch: SelfWatch) -> None:
        self._self_watch = watch

    def frame_started(self) -> FrameStart:
        """The refresh tick begins: the frame's clock starts."""
        return self.self_watch.frame_started()

    def frame_done(self, started: FrameStart) -> None:
        """The tick handed out its frame: stop the clock once the screen is rendered."""
        self.call_after_refresh(self.self_watch.frame_rendered, started)

    def timed_snapshot(self, window_s: int) -> PoolSnapshot:
        """The source's snapshot, its build time recorded."""
        return self.self_watch.timed(self.source.snapshot, window_s)

    def self_fields(self, screen: PoolmonScreen) -> dict[str, Any]:
        """The `Frame` fields of self-monitoring: `behind` always, the figures for `m`."""
        name = self._snapshot.pool.name if self._snapshot is not None else ""
        watched, current = watched_pools(self.source, name)
        figures = self.self_watch.figures(watched, self.refresh_hz)
        return {
            "behind": behind_words(figures, current, all_pools=isinstance(screen, PoolsScreen)),
            "self_figures": figures if isinstance(screen, SelfScreen) else None,
        }

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The palette's self-monitoring command."""
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Self-monitoring",
            "This app's frame time, lag, drops, memory (m)",
            self.action_self_view,
        )

    def action_self_view(self) -> None:
        """Open the self-monitoring view."""
        if not isinstance(self.screen, SelfScreen):
            self.push_screen(SelfScreen())
            self.refresh_frame()

    def refresh_frame(self) -> None:
        """Pull a snapshot and redraw (`PoolmonApp.refresh_frame`)."""
        raise NotImplementedError("PoolmonApp provides refresh_frame")


def behind_words(figures: SelfFigures, current: int | None, *, all_pools: bool) -> str:
    """What the header says when the app is behind: for the shown pool, or the worst of all."""
    if all_pools:
        late = [(p.label, p.behind) for p in figures.pools if p.behind]
        if not late:
            return ""
        label, words = late[0]
        more = f" +{len(late) - 1}" if len(late) > 1 else ""
        return f"{words} ({label}{more})"
    if current is None or current >= len(figures.pools):
        return ""
    return figures.pools[current].behind
