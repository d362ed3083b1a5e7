"""A pool's overview when several pools are watched: escape goes back to the pools overview.

The same overview as for a single pool (`OverviewScreen`); only escape differs: it clears the
worker filter when one is set, and otherwise returns to the list of pools, the way escape
leaves every other drill-down.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType

from poolmon.screens.overview import OverviewScreen
from poolmon.widgets.worker_table import WorkerTable


class PoolOverviewScreen(OverviewScreen):
    """`OverviewScreen` of one pool among several (see the module doc)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Pools", show=False),
    ]
    """
    | Key | Action |
    | :- | :- |
    | `escape` | Clear the filter; without one, back to the pools overview. |
    """

    def action_back(self) -> None:
        """Clear the filter, or go back to the pools overview."""
        if self.has_class("-filtering") or self.query_one(WorkerTable).filter_text:
            self.action_clear_filter()
        else:
            self.app.action_pools()  # type: ignore[attr-defined]
