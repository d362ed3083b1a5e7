"""The pools overview's table: one row per pool, sortable both ways, enter opens the pool.

"Is it this pool or all of them?" is answered by comparing rows, so every column sorts (`s`
cycles the column, `r` reverses, a click on a header sorts by it and a second click reverses),
and a pool that stopped answering stays in its row, dimmed, with what is known of it. Figures
without data read "—"; no data never sorts as zero (it goes last either way).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from poolmon.core.fleet_summary import CONDITIONS, PoolRow
from poolmon.core.snapshot import Series
from poolmon.widgets import _format as fmt
from poolmon.widgets._keyed_rows import selected_key
from poolmon.widgets._theme import theme_hex

COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("pool", "Pool", 12),
    ("host", "Host", 9),
    ("state", "State", 13),
    ("size", "Busy/Size", 9),
    ("throughput", "Tasks/s", 8),
    ("p99", "p99", 7),
    ("errors", "Err%", 6),
    ("alerts", "Alerts", 7),
)
"""Column key, header, width; the sparkline column takes what is left (at least 6 cells)."""

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


class PoolTable(DataTable[Text | str]):
    """A `DataTable` of `PoolRow`s (see the module doc)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "cycle_sort", "Sort"),
        Binding("r", "reverse", "Reverse"),
    ]
    """
    | Key | Action |
    | :- | :- |
    | `s` | Sort by the next column. |
    | `r` | Reverse the order. |
    """

    DEFAULT_CSS = """
    PoolTable {
        border: round $primary 50%;
        border-title-color: $text;
        height: 1fr;
        padding: 0 1;
    }
    """

    sort_column: str = "pool"
    """The column rows are ordered by."""
    descending: bool = False
    """Whether the order is reversed."""

    class PoolChosen(Message):
        """Enter (or a click on a selected row): open this pool."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key
            """The chosen pool's fleet key."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=True, cell_padding=1)
        self._rows: tuple[PoolRow, ...] = ()
        self._spark_width = 0

    @property
    def keys(self) -> list[str]:
        """The pools' keys in display order."""
        return [r.key for r in sorted_rows(self._rows, self.sort_column, self.descending)]

    def _columns(self) -> None:
        fixed = sum(w + 2 for _, _, w in COLUMNS) + 2 + 4  # cell padding, border and padding
        width = max(SPARK_MIN, min(SPARK_MAX, self.size.width - fixed - 2))
        if width == self._spark_width and self.columns:
            return
        self._spark_width = width
        self.clear(columns=True)
        for key, label, w in COLUMNS:
            self.add_column(self._header(key, label), key=key, width=w)
        self.add_column(self._header("trend", "Throughput"), key="trend", width=width)

    def _header(self, key: str, label: str) -> Text:
        if key == self.sort_column:
            label += " ▼" if self.descending else " ▲"
        left = key in ("pool", "host", "state", "trend")
        return Text(label, justify="left" if left else "right")

    def show_rows(self, rows: Sequence[PoolRow]) -> None:
        """Show these pools, in the current sort order, keeping the cursor on its pool."""
        self._rows = tuple(rows)
        keep = selected_key(self)
        self._columns()
        self.clear()
        for row in sorted_rows(self._rows, self.sort_column, self.descending):
            self.add_row(*self._cells(row), key=row.key)
        keys = self.keys
        if keep in keys:
            self.move_cursor(row=keys.index(keep), animate=False, scroll=False)
        live = sum(r.condition in ("live", "restarted") for r in rows)
        self.border_title = f"Pools · {len(rows)} watched, {live} live"

    def _cells(self, row: PoolRow) -> list[Text]:
        s = row.summary
        dim = row.condition == "exited" or row.gone_at_ns is not None
        muted = Style(color=theme_hex(self.app, "text-muted")) if dim else Style()
        label, colour = STATE_LOOK.get(row.condition, (row.condition, "text-muted"))
        if row.gone_at_ns is not None:
            label = "✕ gone " + fmt.age(max(0, s.taken_at_ns - row.gone_at_ns))
            colour = "error"
        sizes = f"{fmt.count(s.busy)}/{fmt.count(s.size)}" if s.size is not None else fmt.NO_DATA
        alerts = fmt.NO_DATA if s.alerts_firing is None else str(s.alerts_firing)
        alert_style = muted
        if s.alerts_firing:
            tint = "error" if s.critical_firing else "warning"
            alerts = f"▲ {s.alerts_firing}"
            alert_style = Style(bold=True, color=theme_hex(self.app, tint))
        p99 = fmt.NO_DATA if s.p99_ns is None else fmt.duration(s.p99_ns)
        return [
            Text(row.label, style=muted + Style(bold=True), no_wrap=True, overflow="ellipsis"),
            Text(s.pool.host or fmt.NO_DATA, style=muted, no_wrap=True, overflow="ellipsis"),
            Text(label, style=Style(color=theme_hex(self.app, colour))),
            Text(sizes, style=muted, justify="right"),
            Text(fmt.rate(s.throughput_per_s).removesuffix("/s"), style=muted, justify="right"),
            Text(p99, style=muted, justify="right"),
            Text(fmt.percent(s.error_rate), style=muted, justify="right"),
            Text(alerts, style=alert_style, justify="right"),
            Text(
                sparkline(s.throughput, self._spark_width),
                style=muted or Style(color=theme_hex(self.app, "primary")),
            ),
        ]

    def action_cycle_sort(self) -> None:
        """Sort by the next column (numbers start with the largest first)."""
        keys = [key for key, _, _ in COLUMNS]
        self.sort_column = keys[(keys.index(self.sort_column) + 1) % len(keys)]
        self.descending = self.sort_column not in ("pool", "host", "state")
        self._resort()

    def action_reverse(self) -> None:
        """Reverse the order."""
        self.descending = not self.descending
        self._resort()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        """A click on a header sorts by it; a second click reverses."""
        key = str(event.column_key.value)
        if key == self.sort_column:
            self.descending = not self.descending
        else:
            self.sort_column = key
            self.descending = key not in ("pool", "host", "state")
        self._resort()

    def _resort(self) -> None:
        self._spark_width = 0  # headers carry the sort arrow: rebuild the columns
        self.show_rows(self._rows)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a pool: ask the screen to open it."""
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.PoolChosen(str(event.row_key.value)))
