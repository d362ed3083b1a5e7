"""The `?` help: every key, what the connection states mean, where the numbers come from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: tuple[tuple[str, str], ...] = (
    ("1 5 f h", "window: 1, 5, 15 minutes, 1 hour"),
    ("p  space", "pause the screen (data keeps arriving; resume catches up)"),
    ("/", "filter workers (id, pid, state, task; !text inverts)"),
    ("s  S", "sort by the next column / reverse the sort (workers, operations; ▲ ▼ in the header)"),
    ("enter", "drill down: a worker, an operation, a failure, an alert's details"),
    ("o", "operations view (slowest first): enter drills down, e sets an operation's timeout"),
    ("E", "recent failures: exception and message; enter shows the remote traceback"),
    ("v", "advisor: findings (enter: evidence, x: apply a fix), auto-tuning log (g: on/off)"),
    ("a", "alerts: active, history and silences (tab / shift+tab switch)"),
    ("k", "acknowledge the selected alert, with an optional comment"),
    ("S", "silence alerts like the selected one: duration and matchers"),
    ("u", "remove the selected silence (asks first)"),
    ("t", "tuning: every setting; e or enter edits, z undoes this app's last change"),
    ("r  K", "in a worker's drill-down: recycle it (graceful) / kill it now (asks first)"),
    ("x", "in a worker's drill-down: its running task's live stack; x again refreshes"),
    ("m", "self-monitoring: this app's frame time, lag, drops, memory; the pool's telemetry cost"),
    ("[  ]  P", "with several pools: previous / next pool; P (or escape) the pools overview"),
    ("escape", "back / clear the filter"),
    ("+  -", "grow / shrink the pool by one (asks first; not in read-only)"),
    ("", "k S u t-edits r K + - are greyed out in read-only mode; pressing one says why"),
    ("R", "record this pool to a file (again: stop); poolmon replay FILE plays it"),
    ("ctrl+p", "command palette: every command, searchable"),
    ("?", "this help"),
    ("q", "quit"),
)
"""Key, meaning, in the order the help lists them."""

STATES: tuple[tuple[str, str], ...] = (
    ("connecting", "attaching to the pool's socket"),
    ("live", "data is flowing"),
    ("stale", "connected, but no data for a few seconds"),
    (
        "disconnected",
        "the last data stays on screen; reconnecting with backoff, "
        "history is backfilled and the gap marked",
    ),
)
"""Connection states and what they mean."""


def help_table(rows: Sequence[tuple[str, str]], title: str) -> Table:
    """A two-column table of (key, meaning)."""
    table = Table(title=title, title_justify="left", show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for key, meaning in rows:
        table.add_row(key, meaning)
    return table


class HelpScreen(ModalScreen[None]):
    """A modal listing the keys and the connection states; any of escape, `?`, `q` closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]
    """
    | Key | Action |
    | :- | :- |
    | `escape`, `?`, `q` | Close the help. |
    """

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 76;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $primary;
        border-title-color: $text;
        background: $surface;
        padding: 0 1;
    }
    """

    sections: ClassVar[tuple[tuple[str, Sequence[tuple[str, str]]], ...]] = (
        ("Keys", KEYS),
        ("Connection", STATES),
    )
    """The tables shown, in order (a replay puts its own keys first)."""

    def compose(self) -> ComposeResult:
        """The tables in a scrollable box."""
        box = VerticalScroll()
        box.border_title = "poolmon keys"
        box.border_subtitle = "escape closes"
        with box:
            for title, rows in self.sections:
                yield Static(help_table(rows, title))
