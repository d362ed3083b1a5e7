"""The pools overview: every watched pool on one screen, to tell "this pool" from "all of them".

One row per pool (`PoolTable`): name, host, state, busy/size, throughput, p99, error rate,
alerts firing and a throughput sparkline over the window. Below it, where the highlighted pool
is (socket or ssh URL) and what its monitor says about the connection, since "exited" or
"connection lost" needs its why and its when. Enter opens that pool's overview; every other
screen then works on that pool until `[`/`]` switch or `P` comes back here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import ClassVar

from textual import on
from textual.binding import BindingType
from textual.widget import Widget
from textual.widgets import Static

from poolmon.core.snapshot import PoolSnapshot
from poolmon.screens.base import PoolmonScreen
from poolmon.screens.frame import Frame
from poolmon.widgets import _format as fmt
from poolmon.widgets.pool_table import PoolTable


class PoolsScreen(PoolmonScreen):
    """The first screen of `poolmon attach A B` / `--all` (see the module doc)."""

    BINDINGS: ClassVar[list[BindingType]] = []
    """
    | Key | Action |
    | :- | :- |
    | `enter` | Open the highlighted pool's overview (the table's own key). |
    | `s` / `r` | Sort by the next column / reverse (the table's keys). |
    """

    DEFAULT_CSS = """
    PoolsScreen #pool-where { height: auto; padding: 0 2; color: $text-muted; }
    """

    def compose_body(self) -> Iterable[Widget]:
        """The table, then the highlighted pool's whereabouts."""
        yield PoolTable()
        yield Static("", id="pool-where")

    def on_mount(self) -> None:
        """Focus the table, so enter and the arrows work at once."""
        super().on_mount()
        self.query_one(PoolTable).focus()

    def show_frame(self, frame: Frame) -> None:
        """Draw a frame; the header and status line speak of all the pools, not the selected."""
        blank = PoolSnapshot(taken_at_ns=frame.snapshot.taken_at_ns, window_s=frame.window_s)
        super().show_frame(replace(frame, snapshot=blank, state="", detail="", dropped=0))

    def show_body(self, frame: Frame) -> None:
        """Fill the table and the line below it."""
        table = self.query_one(PoolTable)
        table.show_rows(frame.pools)
        self._describe(frame)

    def _describe(self, frame: Frame) -> None:
        key = self.query_one(PoolTable).highlighted_key
        row = next((r for r in frame.pools if r.key == key), None)
        where = self.query_one("#pool-where", Static)
        if row is None:
            where.update(
                "No pool yet: new pools in the socket folder appear here as they start."
                if not frame.pools
                else ""
            )
            return
        words = [row.key]
        if row.summary.pool.pid:
            words.append(f"pid {row.summary.pool.pid}")
        if row.gone_at_ns is not None:
            words.append(f"socket gone since {fmt.clock(row.gone_at_ns)} UTC")
        if row.detail:
            words.append(row.detail)
        if row.dropped:
            words.append(f"{fmt.count(row.dropped)} events lost in transport")
        where.update(" · ".join(words))

    @on(PoolTable.PoolHighlighted)
    def _highlighted(self) -> None:
        if self.frame is not None:
            self._describe(self.frame)

    def action_open(self) -> None:
        """Open the highlighted pool."""
        self.query_one(PoolTable).action_choose()
