"""The self-monitoring view (`m`): the answer to "is the monitor itself keeping up?".

Before trusting what a monitor shows, an operator should be able to see that the monitor is
not the problem: its frame and snapshot times, how far behind the newest data it is, what it
receives and loses per pool (in the socket, on the pool's side, in a resume), its memory and
reconnects, and what the pool says its telemetry costs there. The header turns from "live" to
"BEHIND" on every screen when the lag passes 2 s or records are being lost.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from poolmon.screens.base import PoolmonScreen
from poolmon.screens.frame import Frame
from poolmon.widgets._self_tables import (
    CLIENT_QUEUE_NOTE,
    app_table,
    intake_table,
    pool_side_table,
)

NARROW = 120
"""Below this width the app's and the pool's tables stack instead of standing side by side."""


class SelfScreen(PoolmonScreen):
    """The app's own figures (see the module doc)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
    ]
    """
    | Key | Action |
    | :- | :- |
    | `escape` | Back. |
    """

    DEFAULT_CSS = """
    SelfScreen #self-top { height: auto; }
    SelfScreen.-narrow #self-top { layout: vertical; }
    SelfScreen #self-app, SelfScreen #self-pool {
        width: 1fr;
        height: auto;
        border: round $primary 50%;
        padding: 0 1;
    }
    SelfScreen #self-intake {
        height: auto;
        border: round $primary 50%;
        padding: 0 1;
    }
    SelfScreen #self-note { height: auto; padding: 0 1; color: $text-muted; }
    """

    def compose_body(self) -> Iterable[Widget]:
        """The per-pool intake, then app figures and pool-side cost side by side, a note."""
        with VerticalScroll(id="self-scroll"):
            yield Static(id="self-intake")  # first: "is it keeping up?" fits at 80x24
            yield Horizontal(Static(id="self-app"), Static(id="self-pool"), id="self-top")
            yield Static(CLIENT_QUEUE_NOTE, id="self-note")

    def show_body(self, frame: Frame) -> None:
        """Fill the tables from the frame's `self_figures`."""
        figures = frame.self_figures
        if figures is None:
            return
        self.set_class(self.app.size.width < NARROW, "-narrow")
        self.query_one("#self-app", Static).update(app_table(figures))
        name = frame.snapshot.pool.name
        shown = next((p for p in figures.pools if p.label == name), None)
        if shown is None and len(figures.pools) == 1:
            shown = figures.pools[0]
        self.query_one("#self-pool", Static).update(pool_side_table(shown))
        self.query_one("#self-intake", Static).update(intake_table(figures.pools))
