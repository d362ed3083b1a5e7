"""The change log: recent control commands the pool reported, newest first: who, what, from/to.

Built from `PoolSnapshot.control_log` (the `poolmon.control.command` events), so it shows
changes made from any monitor and from `poolmon tune`, and the pool's refusals with its reason.
An undo sent by the app is marked as such (its `set` carries `note: "undo"`).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from poolmon.core.snapshot import ControlChange
from poolmon.core.tuning import format_value
from poolmon.widgets import _format as fmt
from poolmon.widgets._theme import theme_hex

COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("at", "Time", 8),
    ("who", "Who", 0),
    ("result", "Result", 8),
    ("what", "Change, or why refused", 0),
)
"""Column key, header and width, in display order. `who` is as wide as its longest name; the
change (or the pool's reason for a refusal) takes the rest of the line and wraps onto more
lines rather than being cut at 80 columns."""

MIN_WHAT = 20
"""The change column's narrowest width."""


def who(entry: ControlChange) -> str:
    """`poolmon tune (pid 812)`; just the pid for a client that gave no name."""
    if entry.client:
        return f"{entry.client} ({entry.peer_pid})" if entry.peer_pid else entry.client
    return f"pid {entry.peer_pid}" if entry.peer_pid else "?"


def what(entry: ControlChange) -> str:
    """The change in words: `size 4 → 6`, `kill worker 3`, `resize to 5`."""
    args = dict(entry.args)
    if entry.command == "set":
        undo = "undo: " if args.get("note") == "undo" else ""
        if entry.changes:
            moves = ", ".join(
                f"{key} {format_value(old)} → {format_value(new)}"
                for key, old, new in entry.changes
            )
            return undo + moves
        wanted = dict(args.get("settings") or ())
        asked = ", ".join(f"{k}={format_value(v)}" for k, v in wanted.items())
        return f"{undo}set {asked}" if asked else f"{undo}set"
    if entry.command in ("kill_worker", "recycle_worker"):
        verb = entry.command.split("_")[0]
        return f"{verb} worker {args.get('worker_id', '?')}"
    if entry.command == "resize":
        return f"resize to {args.get('size', '?')}"
    shown = " ".join(f"{k}={format_value(v)}" for k, v in entry.args)
    return f"{entry.command} {shown}".strip()


class ChangeLog(DataTable[Text | str]):
    """The last control commands, newest first; refusals in the error colour with the reason."""

    DEFAULT_CSS = """
    ChangeLog {
        border: round $primary 50%;
        border-title-color: $text;
        height: 1fr;
        overflow-x: hidden;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="none", zebra_stripes=True, show_cursor=False)

    _log: Sequence[ControlChange] = ()
    """The entries shown."""

    def on_mount(self) -> None:
        """Create the columns."""
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width or len(label))
        self.border_title = "Change log"

    def on_resize(self) -> None:
        """The change column takes the new width; rows wrap again."""
        self.show_log(self._log)

    def _fit_columns(self, log: Sequence[ControlChange]) -> None:
        who_width = max([len("Who"), *(len(who(entry)) for entry in log)])
        fixed = sum(w for _, _, w in COLUMNS) + who_width + 2 * self.cell_padding * len(COLUMNS)
        widths = {"who": who_width, "what": max(MIN_WHAT, self.size.width - fixed - 1)}
        for key, width in widths.items():
            column = self.columns[ColumnKey(key)]
            column.width, column.auto_width = width, False
        self._require_update_dimensions = True

    def show_log(self, log: Sequence[ControlChange]) -> None:
        """Replace the rows with `log`, newest first (UTC times, as everywhere in the app)."""
        self._log = log
        self.clear()
        self._fit_columns(log)
        error = theme_hex(self.app, "error")
        for entry in reversed(log):
            ok = entry.result == "ok"
            change = what(entry) if ok or not entry.reason else entry.reason
            self.add_row(
                fmt.clock(entry.at_ns),
                Text(who(entry), no_wrap=True),
                Text(entry.result or "?", style="" if ok else error),
                Text(change, style="" if ok else error),  # wraps: a reason is never cut
                height=None,
            )
        self.border_subtitle = "" if log else "no changes seen since attaching"
