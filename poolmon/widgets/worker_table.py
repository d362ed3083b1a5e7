"""The worker table: one row per worker, sortable (`s`) and filterable (`/`).

Rows are rebuilt from each snapshot; the highlighted worker is tracked by id so that re-sorting
or a refresh never moves the cursor to another worker. Enter posts `WorkerChosen` upwards; the
screen decides what to open.

It draws its own lines (Textual's line API) instead of using a `DataTable`: a `DataTable`
re-measures and re-renders every cell through Rich whenever one changes, which at 64 workers
and four refreshes a second cost more than the rest of the overview together. Here a row is
a handful of segments, cached until its text, width or cursor state changes.
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from poolmon.core.snapshot import WorkerView
from poolmon.widgets import _format as fmt
from poolmon.widgets._line_table import Cell, RowStrips, cells_strip, cursor_within
from poolmon.widgets._sorting import DOWN, UP, SortOrder
from poolmon.widgets._theme import theme_colour, theme_hex
from poolmon.widgets._worker_rows import NATURAL_DESC, SORTS, visible_workers

COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("id", "ID", 3),
    ("pid", "PID", 7),
    ("state", "State", 8),
    ("task", "Task", 12),
    ("age", "Age", 6),
    ("done", "Done", 5),
    ("p99", "p99", 6),
    ("cpu", "CPU", 4),
    ("rss", "RSS", 7),
    ("fds", "FDs", 3),
    ("restarts", "Rst", 3),
)
"""Column key, header and minimum width, in display order.

At 80 columns the numbers get exactly what their formats need (`4.73k`, `12.9ms`, `100%`,
`38.0MiB`) so the task column can show an operation name (`fetch_profile`) whole.
"""

MAX_TASK_EXTRA = 16
"""How much wider than its minimum the task column grows before other columns get space."""
MAX_COLUMN_EXTRA = 3
"""How much wider each other column grows; beyond that the space stays at the right edge.

Columns spread across a wide terminal read like a spreadsheet with a ruler; htop and k9s
keep them close, so a row is read at a glance.
"""
SLOW_TASK_NS = (1_000_000_000, 10_000_000_000)
"""A current task older than these is written in the warning, then the error colour."""


def column_widths(available: int) -> list[int]:
    """Widths (each including a one-cell gap) that fill up to `available` cells."""
    widths = [w + 1 for _, _, w in COLUMNS]
    extra = max(0, available - sum(widths))
    task = [key for key, _, _ in COLUMNS].index("task")
    grow = min(extra, MAX_TASK_EXTRA)
    widths[task] += grow
    extra -= grow
    share = min(MAX_COLUMN_EXTRA, extra // (len(widths) - 1))
    return [w + (share if i != task else 0) for i, w in enumerate(widths)]


def age_colour(age_ns: int | None) -> str:
    """The theme colour for a current task's age: plain, then warning, then error."""
    if age_ns is None or age_ns < SLOW_TASK_NS[0]:
        return ""
    return "warning" if age_ns < SLOW_TASK_NS[1] else "error"


_STATE_STYLE = {
    "busy": "primary",
    "degraded": "warning",
    "starting": "accent",
    "stopping": "text-muted",
    "stopped": "text-muted",
}
_TROUBLE = {"crashed": "error", "killed": "warning", "failed": "error"}
"""Dead-worker states that stay coloured: a crash must stand out from a retirement."""
_LEFT = {"id", "pid", "state", "task"}


class WorkerTable(ScrollView, can_focus=True):
    """A scrollable table of `WorkerView`s with a cursor, a sort order and a filter."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "choose", "Open", show=False),  # listed in help: 80 columns need Quit
    ]
    """
    | Key | Action |
    | :- | :- |
    | `up` `down` `pageup` `pagedown` `home` `end` | Move the cursor. |
    | `enter` | Drill down into the highlighted worker. |
    """

    DEFAULT_CSS = """
    WorkerTable {
        border: round $primary 50%;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        height: 1fr;
        min-height: 4;
    }
    WorkerTable:focus { border: round $primary; }
    """

    SORT_ORDER: ClassVar[tuple[str, ...]] = tuple(SORTS)
    """The order `cycle_sort` walks through."""

    row_order: reactive[str] = reactive("id")
    """The current sort order, a key of `SORTS`."""

    sort_reversed: reactive[bool] = reactive(False)
    """Whether the sort runs against its natural direction (`S`)."""

    filter_text: reactive[str] = reactive("")
    """The current filter (see `matches`); empty shows every worker."""

    cursor_row: reactive[int] = reactive(0)
    """Index of the highlighted row among the shown rows."""

    class WorkerChosen(Message):
        """Posted when the user presses enter on a worker row."""

        def __init__(self, worker_id: int) -> None:
            super().__init__()
            self.worker_id = worker_id
            """The chosen worker."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes=classes)
        self._workers: tuple[WorkerView, ...] = ()
        self._row_ids: list[int] = []
        self._rows: list[list[Cell]] = []
        self._strips = RowStrips()
        self._widths: list[int] = column_widths(78)

    # -- data --------------------------------------------------------------------------------

    def show_workers(self, workers: tuple[WorkerView, ...]) -> None:
        """Replace the rows with these workers (keeping the highlighted worker highlighted)."""
        self._workers = workers
        self._rebuild()

    @property
    def row_count(self) -> int:
        """Rows shown (after the filter)."""
        return len(self._rows)

    def row_cells(self, index: int) -> list[str]:
        """The text of each cell of a shown row (for tests and copying)."""
        return [text for text, _, _ in self._rows[index]]

    @property
    def highlighted_worker(self) -> int | None:
        """The worker id under the cursor, if any."""
        if not 0 <= self.cursor_row < len(self._row_ids):
            return None
        return self._row_ids[self.cursor_row]

    @property
    def sort(self) -> SortOrder:
        """The current sort: column and direction."""
        return SortOrder(self.SORT_ORDER, NATURAL_DESC, self.row_order, self.sort_reversed)

    def cycle_sort(self) -> str:
        """Move to the next sort column (in its natural direction) and return its name."""
        order = self.sort.cycled()
        self.sort_reversed = False
        self.row_order = order.column
        return SORTS[self.row_order][0]

    def reverse_sort(self) -> str:
        """Sort the same column the other way; return the direction's arrow."""
        self.sort_reversed = not self.sort_reversed
        return self.sort.arrow

    def watch_row_order(self) -> None:
        """Re-sort the rows."""
        self._rebuild()

    def watch_sort_reversed(self) -> None:
        """Re-sort the rows."""
        self._rebuild()

    def watch_filter_text(self) -> None:
        """Re-filter the rows."""
        self._rebuild()

    def _view_rows(self) -> tuple[int, int]:
        """The first row index in view and how many rows fit (below the header)."""
        return round(self.scroll_offset.y), max(1, self.size.height - 1)

    def cursor_in_view(self) -> bool:
        """Whether the cursor's row is on screen (enter must never open a hidden worker)."""
        top, visible = self._view_rows()
        return top <= self.cursor_row < top + visible

    def watch_cursor_row(self) -> None:
        """Keep the cursor on screen and redraw."""
        self._scroll_to_cursor()
        self.refresh()

    def _scroll_to_cursor(self) -> None:
        top, visible = self._view_rows()
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False, immediate=True)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """Scrolled (wheel, scrollbar): bring the cursor into view with the rows shown."""
        super().watch_scroll_y(old_value, new_value)
        if not self._rows or self.size.height < 2:
            return
        top, visible = round(new_value), max(1, self.size.height - 1)
        self.cursor_row = cursor_within(self.cursor_row, top, visible, len(self._rows))

    def _rebuild(self) -> None:
        keep = self.highlighted_worker
        sort = self.sort
        rows = visible_workers(self._workers, self.filter_text, sort.column, sort.descending)
        self._row_ids = [w.worker_id for w in rows]
        self._rows = [self._cells(w) for w in rows]
        self._strips.new_data()
        self.virtual_size = Size(sum(self._widths), len(rows) + 1)
        if keep is not None and keep in self._row_ids:
            self.cursor_row = self._row_ids.index(keep)
        elif self._rows:
            self.cursor_row = min(self.cursor_row, len(self._rows) - 1)
        self._update_title()
        self._scroll_to_cursor()
        self.refresh()

    def _update_title(self) -> None:
        total = len(self._workers)
        shown = len(self._rows)
        alive = sum(1 for w in self._workers if w.alive)
        unknown = alive and all(w.state == "unknown" for w in self._workers if w.alive)
        self.border_title = f"Workers {alive} {'last seen' if unknown else 'alive'}" + (
            f" · {shown}/{total} shown" if shown != total else ""
        )
        subtitle = f"sort: {SORTS[self.row_order][0]} {self.sort.arrow}"
        if self.filter_text:
            subtitle = f"filter: {self.filter_text} · " + subtitle
        self.border_subtitle = subtitle

    @staticmethod
    def _cells(w: WorkerView) -> list[Cell]:
        state_colour = _STATE_STYLE.get(w.state, "") if w.alive else "text-muted"
        state_colour = _TROUBLE.get(w.state, state_colour)
        age = w.current_task_age_ns
        age_text = "" if age is None else fmt.task_age(age, w.current_task_age_at_most)
        last = w.exits[-1] if w.exits and not w.alive else None
        task = w.current_op or ("" if last is None else fmt.exit_cause(last.exit_code, last.signal))
        return [
            (str(w.worker_id), "", False),
            (str(w.pid or fmt.NO_DATA), "", False),
            (w.state, state_colour, False),
            (task, "" if w.current_op else state_colour, False),
            (age_text, age_colour(age), True),
            (fmt.count(w.tasks_done), "", True),
            (fmt.percentile(w.latency.count, w.latency.p99_ns), "", True),
            (fmt.cpu(w.cpu_percent), "", True),
            (fmt.size_bytes(w.rss_bytes), "", True),
            (fmt.count(w.fds), "", True),
            (str(w.restarts), "warning" if w.restarts else "", True),
        ]

    # -- drawing -----------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        """Fit the columns to the new width."""
        self._widths = column_widths(self.size.width - 2)  # room for the vertical scrollbar
        self.virtual_size = Size(sum(self._widths), len(self._rows) + 1)
        self._strips.clear()
        self.call_after_refresh(self._scroll_to_cursor)  # a shorter table may hide the cursor

    def render_line(self, y: int) -> Strip:
        """Line 0 is the header; the rest are rows offset by the scroll position."""
        width = self.size.width
        base = self.rich_style
        if y == 0:
            return self._strip(
                ("header", self.row_order, self.sort_reversed),
                [
                    (self.sort.header(key, label), "text-muted", key not in _LEFT)
                    for key, label, _ in COLUMNS
                ],
                base + Style(bold=True),
                width,
            )
        index = round(self.scroll_offset.y) + y - 1
        if index >= len(self._rows):
            return Strip.blank(width, base)
        cursor = index == self.cursor_row
        style = base
        if cursor:
            colour = theme_colour(self.app, "primary")
            if not self.has_focus:
                colour = colour.blend(theme_colour(self.app, "background"), 0.5)
            style = base + Style(bgcolor=colour.hex6, color=theme_hex(self.app, "foreground"))
            # State and age colours are chosen against the table's background; on the
            # cursor's they can vanish (busy is written in the cursor's own colour), so the
            # highlighted row is written in one colour, in bold.
            plain = [(text, "", right) for text, _, right in self._rows[index]]
            plain_key = (tuple(plain), True, index % 2, self.has_focus)
            return self._strip(plain_key, plain, style + Style(bold=True), width)
        elif index % 2:
            stripe = theme_colour(self.app, "surface").blend(
                theme_colour(self.app, "foreground"), 0.04
            )
            style = base + Style(bgcolor=stripe.hex6)
        key = (tuple(self._rows[index]), cursor, index % 2, self.has_focus)
        return self._strip(key, self._rows[index], style, width)

    def _strip(self, key: object, cells: list[Cell], style: Style, width: int) -> Strip:
        return self._strips.get(
            (key, width, self.app.theme),
            lambda: cells_strip(self.app, cells, self._widths, style, width, gap_marks=UP + DOWN),
        )

    def on_focus(self) -> None:
        """Redraw the cursor in its focused colour."""
        self.refresh()

    def on_blur(self) -> None:
        """Redraw the cursor in its unfocused colour."""
        self.refresh()

    # -- actions -----------------------------------------------------------------------------

    def action_cursor(self, delta: int) -> None:
        """Move the cursor by `delta` rows."""
        if self._rows:
            self.cursor_row = min(max(self.cursor_row + delta, 0), len(self._rows) - 1)

    def action_page(self, direction: int) -> None:
        """Move the cursor by a screenful."""
        self.action_cursor(direction * max(1, self.size.height - 2))

    def action_jump(self, index: int) -> None:
        """Move the cursor to the first (0) or last (-1) row."""
        if self._rows:
            self.cursor_row = index % len(self._rows)

    def action_choose(self) -> None:
        """Post `WorkerChosen` for the highlighted worker, once its row is in view."""
        worker = self.highlighted_worker
        if worker is None:
            return
        if not self.cursor_in_view():  # show what enter would open before opening it
            self._scroll_to_cursor()
            return
        self.post_message(self.WorkerChosen(worker))

    def on_click(self, event: events.Click) -> None:
        """Click a row to highlight it; click it again to drill down."""
        index = round(self.scroll_offset.y) + event.y - 1
        if event.y >= 1 and 0 <= index < len(self._rows):
            if index == self.cursor_row:
                self.action_choose()
            self.cursor_row = index
