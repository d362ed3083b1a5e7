"""The app's side of several pools: the pools overview, opening a pool, switching pools.

Why a mixin of the app: with several pools the app's source is a `FleetSource` (always the
selected pool's monitor), so every existing screen works unchanged on the selected pool; what
changes on a switch is the app's per-pool memory (crashes and alerts already announced, the
advisor, fetched settings, the undo stack), which is kept per pool and swapped here, so an undo
never reaches the wrong pool. The pools overview gets its rows from the fleet, read only while
it is on screen (one cheap summary per pool); the selected pool alone gets a full snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from poolmon.app.advice import Advice
from poolmon.app.announcer import FiringAnnouncer
from poolmon.app.crashes import CrashAnnouncer
from poolmon.core.fleet_summary import PoolRow
from poolmon.core.snapshot import ControlChange, PoolSnapshot
from poolmon.core.tuning import SettingSpec, Value
from poolmon.runtime.fleet import FleetSource
from poolmon.runtime.source import SnapshotSource
from poolmon.screens.base import PoolmonScreen
from poolmon.screens.pool_overview import PoolOverviewScreen
from poolmon.screens.pools import PoolsScreen
from poolmon.widgets.pool_table import PoolTable

FLEET_ACTIONS = frozenset({"pools", "next_pool", "prev_pool"})
"""Actions that exist only with several pools (hidden from the footer otherwise)."""

PoolMemory = tuple[
    CrashAnnouncer,
    FiringAnnouncer,
    Advice,
    tuple[SettingSpec, ...],
    str,
    list[dict[str, tuple[Value, Value]]],
    ControlChange | None,
]
"""What the app remembers of one pool while another is shown."""


class FleetMixin(App[None]):
    """Several pools for `PoolmonApp` (mixed in; see the module doc)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("P", "pools", "Pools", show=False),
        Binding("left_square_bracket", "prev_pool", "Prev pool", show=False),
        Binding("right_square_bracket", "next_pool", "Next pool", show=False),
    ]
    """
    | Key | Action |
    | :- | :- |
    | `P` | The pools overview (with several pools; escape on a pool's overview too). |
    | `[` `]` | The previous / next pool's overview. |
    """

    source: SnapshotSource
    window_s: int
    paused: bool
    message: str
    advice: Advice
    settings: tuple[SettingSpec, ...]
    settings_status: str
    _crashes: CrashAnnouncer
    _announcer: FiringAnnouncer
    _snapshot: PoolSnapshot | None
    _undo: list[dict[str, tuple[Value, Value]]]
    _log_seen: ControlChange | None
    _pool_rows: tuple[PoolRow, ...] = ()
    _pool_memory: dict[str, PoolMemory]

    def refresh_frame(self) -> None:
        """Pull a snapshot and redraw (`PoolmonApp.refresh_frame`)."""
        raise NotImplementedError("PoolmonApp provides refresh_frame")

    @property
    def fleet_source(self) -> FleetSource | None:
        """The fleet behind the app, or None when it watches one pool."""
        return self.source if isinstance(self.source, FleetSource) else None

    def open_fleet(self) -> None:
        """With several pools, start on the pools overview (above the first pool's overview)."""
        self._pool_memory = {}
        if self.fleet_source is not None:
            self.switch_screen(PoolsScreen())

    def fleet_allows(self, action: str) -> bool:
        """Whether a fleet action applies: only with several pools."""
        return self.fleet_source is not None

    def fleet_fields(self, screen: PoolmonScreen) -> dict[str, Any]:
        """The `Frame` fields of the fleet: every pool's row (pools overview only), the label."""
        fleet_source = self.fleet_source
        if fleet_source is None:
            return {}
        fleet = fleet_source.fleet
        members = fleet.members
        if isinstance(screen, PoolsScreen):
            if not self.paused or not self._pool_rows:
                self._pool_rows = fleet.rows(self.window_s)
            n = len(members)
            return {"pools": self._pool_rows, "pool_label": f"pools overview ({n})"}
        if not members:
            return {"pool_label": "no pool yet"}
        current = fleet.current
        place = f"{members.index(current) + 1}/{len(members)}"
        return {"pool_label": f"{current.target.label} {place}"}

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The palette's pool commands, with several pools."""
        yield from super().get_system_commands(screen)
        if self.fleet_source is not None:
            yield SystemCommand("Pools overview", "Every watched pool (P)", self.action_pools)
            yield SystemCommand("Next pool", "The next pool's overview (])", self.action_next_pool)
            yield SystemCommand(
                "Previous pool", "The previous pool's overview ([)", self.action_prev_pool
            )

    # -- actions ---------------------------------------------------------------------------

    def action_pools(self) -> None:
        """Back to the pools overview."""
        fleet_source = self.fleet_source
        if fleet_source is not None:
            self._show(PoolsScreen)
            if fleet_source.fleet.members:  # the cursor on the pool just looked at
                self.screen.query_one(PoolTable).highlight(fleet_source.fleet.current.key)

    def action_next_pool(self) -> None:
        """The next pool's overview."""
        self._step(+1)

    def action_prev_pool(self) -> None:
        """The previous pool's overview."""
        self._step(-1)

    def _step(self, delta: int) -> None:
        fleet_source = self.fleet_source
        if fleet_source is None or not fleet_source.fleet.members:
            return
        fleet = fleet_source.fleet
        index = fleet.members.index(fleet.current)
        if isinstance(self.screen, PoolsScreen):  # from the list: follow its order
            keys = self.screen.query_one(PoolTable).keys
            if fleet.current.key in keys:
                index = keys.index(fleet.current.key)
                self.open_pool(keys[(index + delta) % len(keys)])
                return
        members = fleet.members
        self.open_pool(members[(index + delta) % len(members)].key)

    @on(PoolTable.PoolChosen)
    def _pool_chosen(self, event: PoolTable.PoolChosen) -> None:
        self.open_pool(event.key)

    def open_pool(self, key: str) -> None:
        """Select the pool with this key and show its overview (from any screen)."""
        fleet_source = self.fleet_source
        if fleet_source is None:
            return
        fleet = fleet_source.fleet
        if key != fleet.current.key:
            self._pool_memory[fleet.current.key] = self._remember()
            fleet.select(key)
            self._recall(self._pool_memory.pop(key, None))
        self._show(PoolOverviewScreen)

    def _show(self, kind: type[PoolmonScreen]) -> None:
        """Pop down to the nearest screen of this kind (or push one above the list) and redraw."""
        while len(self.screen_stack) > 1 and not isinstance(self.screen, kind | PoolsScreen):
            self.pop_screen()
        if not isinstance(self.screen, kind):
            self.push_screen(kind())
        self.refresh_frame()

    def _remember(self) -> PoolMemory:
        return (
            self._crashes,
            self._announcer,
            self.advice,
            self.settings,
            self.settings_status,
            self._undo,
            self._log_seen,
        )

    def _recall(self, memory: PoolMemory | None) -> None:
        if memory is None:  # first visit: a fresh memory, as a new attach would have
            memory = (CrashAnnouncer(), FiringAnnouncer(), Advice(self.source), (),
                      "settings not loaded yet", [], None)  # fmt: skip
        (
            self._crashes,
            self._announcer,
            self.advice,
            self.settings,
            self.settings_status,
            self._undo,
            self._log_seen,
        ) = memory
        self._snapshot = None  # the paused picture was the other pool's
        self.message = ""
