"""The pools overview's table: one row per pool, sortable both ways, enter opens the pool.

"Is it this pool or all of them?" is answered by comparing rows, so every column sorts (`s`
cycles the column, `r` reverses, a click on a header sorts by it and a second click reverses),
and a pool that stopped answering stays in its row, dimmed, with what is known of it. Figures
without data read "—"; no data never sorts as zero (it goes last either way).

It draws its own lines (Textual's line API, like `WorkerTable`) rather than using a
`DataTable`: with twenty pools refreshed four times a second, the `DataTable`'s per-cell Rich
rendering alone took more than the frame budget. A row is a handful of segments, cached until
its text, width, cursor or theme changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from poolmon.core.fleet_summary import CONDITIONS, PoolRow
from poolmon.core.snapshot import Series
from poolmon.widgets import _format as fmt
from poolmon.widgets._line_table import Cell, RowStrips, cells_strip, cursor_within
from poolmon.widgets._theme import theme_colour, theme_hex

COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("pool", "Pool", 11),
    ("host", "Host", 9),
    ("state", "State", 13),
    ("size", "Busy/Size", 9),
    ("throughput", "Tasks/s", 8),
    ("p99", "p99", 7),
    ("errors", "Err%", 6),
    ("alerts", "Alerts", 6),
    ("trend", "Throughput", 0),
)
"""Column key, header, width; the sparkline column ("trend") takes what is left."""
WIDE = 96
"""Below this width the host column is left out (the line below the table names it)."""
_LEFT = {"pool", "host", "state", "trend"}
_TEXT_FIRST = ("pool", "host", "state")
"""Columns that sort a to z first; numbers start with the largest."""

SHORT_TREND_HEADER = "Trend"
"""The sparkline column's header when `Throughput` does not fit above it."""

SPARK_MIN = 6
"""The narrowest sparkline drawn."""
SPARK_MAX = 60
"""The widest sparkline drawn (one cell per second of a one-minute window)."""
BLOCKS = " ▁▂▃▄▅▆▇█"
"""Sparkline levels; a space is a slot without data (a gap), never a zero (`▁`)."""

STATE_LOOK: dict[str, tuple[str, str]] = {
    "live": ("● live", "success"),
    "restarted": ("↻ restarted", "warning"),
    "connecting": ("◌ connecting", "warning"),
    "stale": ("◐ stale", "warning"),
    "connection lost": ("○ conn. lost", "error"),
    "exited": ("✕ exited", "error"),
}
"""Label and theme colour of each pool condition."""


def sort_value(row: PoolRow, column: str) -> float | str | None:
    """The value a column sorts by (None: no data, which sorts last both ways)."""
    s = row.summary
    values: dict[str, Callable[[], float | str | None]] = {
        "pool": lambda: row.label.lower(),
        "host": lambda: s.pool.host.lower() or None,
        "state": lambda: float(CONDITIONS.index(row.condition) + (row.gone_at_ns is not None)),
        "size": lambda: None if s.busy is None else float(s.busy),
        "throughput": lambda: s.throughput_per_s,
        "p99": lambda: s.p99_ns,
        "errors": lambda: s.error_rate,
        "alerts": lambda: None if s.alerts_firing is None else float(s.alerts_firing),
        "trend": lambda: s.throughput_per_s,
    }
    return values[column]()


def sorted_rows(rows: Sequence[PoolRow], column: str, descending: bool) -> list[PoolRow]:
    """Rows by `column` (ties by name), no-data rows last in either direction."""
    known = [r for r in rows if sort_value(r, column) is not None]
    unknown = sorted((r for r in rows if sort_value(r, column) is None), key=lambda r: r.label)
    known.sort(key=lambda r: r.label)
    known.sort(key=lambda r: sort_value(r, column), reverse=descending)  # type: ignore[arg-type,return-value]
    return known + unknown


def sparkline(series: Series, width: int) -> str:
    """The series' last `width` points (averaged in groups if longer), scaled to its own max."""
    values = list(series.values)
    if len(values) > width:  # average groups of points, ending at the newest
        size = -(-len(values) // width)
        values = values[len(values) % size :]
        groups = [values[i : i + size] for i in range(0, len(values), size)]
        values = [
            sum(known) / len(known) if (known := [v for v in g if v is not None]) else None
            for g in groups
        ][-width:]
    top = max((v for v in values if v is not None), default=0.0)
    cells = []
    for v in values:
        if v is None:
            cells.append(" ")
        elif top <= 0:
            cells.append(BLOCKS[1])
        else:
            cells.append(BLOCKS[1 + round(v / top * (len(BLOCKS) - 2))])
    return "".join(cells).rjust(width)


def cells(row: PoolRow, spark_width: int) -> list[Cell]:
    """One row's cells (pure: what each column says and in which colour)."""
    s = row.summary
    dim = row.condition == "exited" or row.gone_at_ns is not None
    plain = "text-muted" if dim else ""
    label, colour = STATE_LOOK.get(row.condition, (row.condition, "text-muted"))
    if row.gone_at_ns is not None:
        label, colour = "✕ gone " + fmt.age(max(0, s.taken_at_ns - row.gone_at_ns)), "error"
    sizes = f"{fmt.count(s.busy)}/{fmt.count(s.size)}" if s.size is not None else fmt.NO_DATA
    alerts, alert_colour = fmt.NO_DATA if s.alerts_firing is None else "0", plain
    if s.alerts_firing:
        alerts = f"▲ {s.alerts_firing}"
        alert_colour = "error" if s.critical_firing else "warning"
    return [
        (row.label, plain, False),
        (s.pool.host or fmt.NO_DATA, plain, False),
        (label, colour, False),
        (sizes, plain, True),
        (fmt.rate(s.throughput_per_s).removesuffix("/s"), plain, True),
        (fmt.NO_DATA if s.p99_ns is None else fmt.duration(s.p99_ns), plain, True),
        (fmt.percent(s.error_rate), plain, True),
        (alerts, alert_colour, True),
        (sparkline(s.throughput, spark_width), plain or "primary", False),
    ]


class PoolTable(ScrollView, can_focus=True):
    """A scrollable, sortable table of `PoolRow`s with a cursor (see the module doc)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "choose", "Open"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("S", "reverse", "Reverse"),
        Binding("r", "reverse", "Reverse", show=False),
    ]
    """
    | Key | Action |
    | :- | :- |
    | `up` `down` `home` `end` | Move the cursor. |
    | `enter` | Open the highlighted pool. |
    | `s` | Sort by the next column. |
    | `S` (or `r`) | Reverse the order, as `S` does in the worker and operations tables. |
    """

    DEFAULT_CSS = """
    PoolTable {
        border: round $primary 50%;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        height: auto;
        max-height: 1fr;
        min-height: 4;
        padding: 0 1;
    }
    PoolTable:focus { border: round $primary; }
    PoolTable { overflow-x: hidden; }
    """

    cursor_row: reactive[int] = reactive(0)
    """Index of the highlighted row among the shown rows."""

    sort_column: str = "pool"
    """The column rows are ordered by."""
    descending: bool = False
    """Whether the order is reversed."""

    class PoolChosen(Message):
        """Enter (or a click on the highlighted row): open this pool."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key
            """The chosen pool's fleet key."""

    class PoolHighlighted(Message):
        """The cursor moved to another pool."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._rows: tuple[PoolRow, ...] = ()
        self._order: list[PoolRow] = []
        self._cells: list[list[Cell]] = []
        self._strips = RowStrips()
        self._columns = list(COLUMNS)
        self._widths = self._fit(160)

    # -- data ------------------------------------------------------------------------------

    @property
    def keys(self) -> list[str]:
        """The pools' keys in display order."""
        return [r.key for r in self._order]

    @property
    def highlighted_key(self) -> str | None:
        """The key of the pool under the cursor, if any."""
        return self._order[self.cursor_row].key if 0 <= self.cursor_row < len(self._order) else None

    @property
    def row_count(self) -> int:
        """Rows shown."""
        return len(self._order)

    def row_cells(self, index: int) -> list[str]:
        """The text of each cell of a shown row (for tests)."""
        return [text for text, _, _ in self._cells[index]]

    def highlight(self, key: str) -> None:
        """Put the cursor on this pool (if shown)."""
        if key in self.keys:
            self.cursor_row = self.keys.index(key)

    def show_rows(self, rows: Sequence[PoolRow]) -> None:
        """Show these pools, in the current sort order, keeping the cursor on its pool."""
        keep = self.highlighted_key
        self._rows = tuple(rows)
        self._order = sorted_rows(self._rows, self.sort_column, self.descending)
        shown = [key for key, _, _ in self._columns]
        every = [key for key, _, _ in COLUMNS]
        self._cells = [
            [
                c
                for key, c in zip(every, cells(r, self._widths[-1] - 1), strict=True)
                if key in shown
            ]
            for r in self._order
        ]
        self._strips.new_data()
        self.virtual_size = Size(sum(self._widths), len(self._order) + 1)
        self.styles.height = len(self._order) + 3  # header and border: no blank screenful
        keys = self.keys
        if keep in keys:
            self.cursor_row = keys.index(keep)
        elif self._order:
            self.cursor_row = min(self.cursor_row, len(self._order) - 1)
        live = sum(r.condition in ("live", "restarted") for r in rows)
        self.border_title = f"Pools · {len(rows)} watched, {live} live"
        arrow = "descending" if self.descending else "ascending"
        self.border_subtitle = f"sort: {self.sort_column} {arrow} (s, S)"
        self.refresh()

    def watch_cursor_row(self, old: int, new: int) -> None:
        """Keep the cursor on screen, redraw, and say which pool is highlighted."""
        visible = max(1, self.size.height - 1)
        top = round(self.scroll_offset.y)
        if new < top:
            self.scroll_to(y=new, animate=False)
        elif new >= top + visible:
            self.scroll_to(y=new - visible + 1, animate=False)
        self.refresh()
        if old != new:
            self.post_message(self.PoolHighlighted())

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """Scrolled (wheel, scrollbar): the cursor stays on a row in view."""
        super().watch_scroll_y(old_value, new_value)
        if self._order and self.size.height >= 2:
            top, visible = round(new_value), max(1, self.size.height - 1)
            self.cursor_row = cursor_within(self.cursor_row, top, visible, len(self._order))

    # -- drawing ---------------------------------------------------------------------------

    def _fit(self, width: int) -> list[int]:
        self._columns = [c for c in COLUMNS if width >= WIDE or c[0] != "host"]
        fixed = [w + 1 for key, _, w in self._columns if key != "trend"]
        return [*fixed, max(SPARK_MIN, min(SPARK_MAX, width - sum(fixed) - 1)) + 1]

    def on_resize(self, event: events.Resize) -> None:
        """Fit the sparkline column to the new width."""
        self._widths = self._fit(self.size.width - 1)
        self._strips.clear()
        self.show_rows(self._rows)

    def render_line(self, y: int) -> Strip:
        """Line 0 is the header; the rest are rows offset by the scroll position."""
        width = self.size.width
        base = self.rich_style
        if y == 0:
            header: list[Cell] = []
            for key, label, _ in self._columns:
                if key == "trend" and len(label) > self._widths[-1] - 1:
                    label = SHORT_TREND_HEADER  # a narrow sparkline: `Throug…` read as nothing
                if key == self.sort_column:
                    label += " ▼" if self.descending else " ▲"
                header.append((label, "text-muted", key not in _LEFT))
            return self._strip(("header", *header), header, base + Style(bold=True), width)
        index = round(self.scroll_offset.y) + y - 1
        if index >= len(self._cells):
            return Strip.blank(width, base)
        row = self._cells[index]
        if index == self.cursor_row:
            colour = theme_colour(self.app, "primary")
            if not self.has_focus:
                colour = colour.blend(theme_colour(self.app, "background"), 0.5)
            style = base + Style(bgcolor=colour.hex6, color=theme_hex(self.app, "foreground"))
            plain = [(text, "", right) for text, _, right in row]  # colours vanish on the cursor
            cursor_key = (tuple(plain), "cursor", self.has_focus)
            return self._strip(cursor_key, plain, style + Style(bold=True), width)
        style = base
        if index % 2:
            stripe = theme_colour(self.app, "surface").blend(
                theme_colour(self.app, "foreground"), 0.04
            )
            style = base + Style(bgcolor=stripe.hex6)
        return self._strip((tuple(row), index % 2), row, style, width)

    def _strip(self, key: object, row: list[Cell], style: Style, width: int) -> Strip:
        return self._strips.get(
            (key, width, tuple(self._widths), self.app.theme),
            lambda: cells_strip(self.app, row, self._widths, style, width),
        )

    def on_focus(self) -> None:
        """Redraw the cursor in its focused colour."""
        self.refresh()

    def on_blur(self) -> None:
        """Redraw the cursor in its unfocused colour."""
        self.refresh()

    # -- actions ---------------------------------------------------------------------------

    def action_cursor(self, delta: int) -> None:
        """Move the cursor by `delta` rows."""
        if self._order:
            self.cursor_row = min(max(self.cursor_row + delta, 0), len(self._order) - 1)

    def action_jump(self, index: int) -> None:
        """Move the cursor to the first (0) or last (-1) row."""
        if self._order:
            self.cursor_row = index % len(self._order)

    def action_choose(self) -> None:
        """Post `PoolChosen` for the highlighted pool."""
        key = self.highlighted_key
        if key is not None:
            self.post_message(self.PoolChosen(key))

    def action_cycle_sort(self) -> None:
        """Sort by the next column (names a to z first, numbers largest first)."""
        keys = [key for key, _, _ in self._columns if key != "trend"]  # the shown ones
        self.sort_by(keys[(keys.index(self.sort_column) + 1) % len(keys)])

    def action_reverse(self) -> None:
        """Reverse the order."""
        self.descending = not self.descending
        self.show_rows(self._rows)

    def sort_by(self, column: str) -> None:
        """Sort by `column`; the same column again reverses the order."""
        if column == self.sort_column:
            self.descending = not self.descending
        else:
            self.sort_column = column
            self.descending = column not in _TEXT_FIRST
        self.show_rows(self._rows)

    def on_click(self, event: events.Click) -> None:
        """A header sorts by its column; a row is highlighted, and opened on a second click."""
        if event.y == 0:
            x = event.x + round(self.scroll_offset.x)
            edges = [sum(self._widths[: i + 1]) for i in range(len(self._widths))]
            column = next((i for i, edge in enumerate(edges) if x < edge), None)
            if column is not None:
                self.sort_by(self._columns[column][0])
            return
        index = round(self.scroll_offset.y) + event.y - 1
        if 0 <= index < len(self._order):
            if index == self.cursor_row:
                self.action_choose()
            self.cursor_row = index
