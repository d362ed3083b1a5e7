"""The worker table: one row per worker, sortable (`s`) and filterable (`/`).

Rows are rebuilt from each snapshot; the highlighted worker is tracked by id so that re-sorting
or a refresh never moves the cursor to another worker. Enter posts `WorkerChosen` upwards; the
screen decides what to open.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.text import Text
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable

from poolmon.core.snapshot import WorkerView
from poolmon.widgets import _format as fmt
from poolmon.widgets._theme import theme_hex

COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("id", "ID", 3),
    ("pid", "PID", 7),
    ("state", "State", 8),
    ("task", "Task", 8),
    ("age", "Age", 6),
    ("done", "Done", 6),
    ("p99", "p99", 7),
    ("cpu", "CPU", 5),
    ("rss", "RSS", 7),
    ("fds", "FDs", 4),
    ("restarts", "Rst", 3),
)
"""Column key, header and minimum width, in display order (fits an 80-column terminal)."""

MAX_TASK_EXTRA = 22
"""How much wider than its minimum the task column grows before other columns get space."""


def column_widths(available: int) -> list[int]:
    """Widths (each including a one-cell gap) that fill `available` cells."""
    widths = [w + 1 for _, _, w in COLUMNS]
    extra = max(0, available - sum(widths))
    task = [key for key, _, _ in COLUMNS].index("task")
    grow = min(extra, MAX_TASK_EXTRA)
    widths[task] += grow
    extra -= grow
    share = min(4, extra // len(widths))
    return [w + share for w in widths]


_STATE_ORDER = {
    "degraded": 0,
    "busy": 1,
    "starting": 2,
    "ready": 3,
    "idle": 3,
    "stopping": 4,
    "stopped": 5,
}
_STATE_STYLE = {
    "busy": "bold $primary",
    "degraded": "bold $warning",
    "starting": "$accent",
    "stopping": "$text-muted",
    "stopped": "$text-muted",
}

SortKey = Callable[[WorkerView], tuple[float, int]]

SORTS: dict[str, tuple[str, SortKey]] = {
    "id": ("id", lambda w: (0.0, w.worker_id)),
    "state": ("state", lambda w: (float(_STATE_ORDER.get(w.state, 9)), w.worker_id)),
    "age": ("task age", lambda w: (-(w.current_task_age_ns or -1), w.worker_id)),
    "done": ("tasks done", lambda w: (-float(w.tasks_done), w.worker_id)),
    "p99": ("p99", lambda w: (-(w.latency.p99_ns or -1.0), w.worker_id)),
    "cpu": ("cpu", lambda w: (-(w.cpu_percent or -1.0), w.worker_id)),
    "rss": ("rss", lambda w: (-float(w.rss_bytes or -1), w.worker_id)),
    "restarts": ("restarts", lambda w: (-float(w.restarts), w.worker_id)),
}
"""Sort orders `s` cycles through: name shown, and a key (busiest/biggest first)."""


def matches(worker: WorkerView, query: str) -> bool:
    """Whether a worker passes the filter: a substring of id/pid/state/task; `!` inverts."""
    query = query.strip().lower()
    if not query:
        return True
    invert = query.startswith("!")
    needle = query[1:] if invert else query
    haystack = f"{worker.worker_id} {worker.pid} {worker.state} {worker.current_op or ''}".lower()
    return (needle in haystack) != invert


def visible_workers(workers: Sequence[WorkerView], query: str, sort: str) -> list[WorkerView]:
    """The rows to show: filtered, then sorted (dead workers last)."""
    key = SORTS[sort][1]
    shown = [w for w in workers if matches(w, query)]
    return sorted(shown, key=lambda w: (not w.alive, *key(w)))


def _right(value: str, style: str = "") -> Text:
    """A right-aligned cell that keeps a one-cell gap before the next column."""
    return Text(value + " ", justify="right", style=style)


class WorkerTable(DataTable[Text | str]):
    """A `DataTable` of `WorkerView`s with a sort order and a filter."""

    DEFAULT_CSS = """
    WorkerTable {
        border: round $primary 50%;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        height: 1fr;
        min-height: 4;
    }
    """

    SORT_ORDER: ClassVar[tuple[str, ...]] = tuple(SORTS)
    """The order `cycle_sort` walks through."""

    row_order: reactive[str] = reactive("id")
    """The current sort order, a key of `SORTS`."""

    filter_text: reactive[str] = reactive("")
    """The current filter (see `matches`); empty shows every worker."""

    class WorkerChosen(Message):
        """Posted when the user presses enter on a worker row."""

        def __init__(self, worker_id: int) -> None:
            super().__init__()
            self.worker_id = worker_id
            """The chosen worker."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        super().__init__(
            id=id, classes=classes, cursor_type="row", zebra_stripes=True, cell_padding=0
        )
        self._workers: tuple[WorkerView, ...] = ()
        self._row_ids: list[int] = []
        self._layout_width = -1

    def on_mount(self) -> None:
        """Create the columns and the captions."""
        self._layout_columns()
        self._update_title()

    def on_resize(self) -> None:
        """Fit the columns to the new width."""
        if self._layout_columns():
            self._rebuild()

    def _layout_columns(self) -> bool:
        available = self.content_size.width - 2  # leave room for the vertical scrollbar
        if available == self._layout_width:
            return False
        self._layout_width = available
        self.clear(columns=True)
        for (key, label, _), width in zip(COLUMNS, column_widths(available), strict=True):
            justify = "left" if key in {"id", "pid", "state", "task"} else "right"
            header = Text(label + " ", justify="right") if justify == "right" else Text(label)
            self.add_column(header, key=key, width=width)
        return True

    def show_workers(self, workers: tuple[WorkerView, ...]) -> None:
        """Replace the rows with these workers (keeping the highlighted worker highlighted)."""
        self._workers = workers
        self._rebuild()

    @property
    def highlighted_worker(self) -> int | None:
        """The worker id under the cursor, if any."""
        if not self._row_ids or not 0 <= self.cursor_row < len(self._row_ids):
            return None
        return self._row_ids[self.cursor_row]

    def cycle_sort(self) -> str:
        """Move to the next sort order and return its name."""
        index = self.SORT_ORDER.index(self.row_order)
        self.row_order = self.SORT_ORDER[(index + 1) % len(self.SORT_ORDER)]
        return SORTS[self.row_order][0]

    def watch_row_order(self) -> None:
        """Re-sort the rows."""
        self._rebuild()

    def watch_filter_text(self) -> None:
        """Re-filter the rows."""
        self._rebuild()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Turn the table's own selection message into `WorkerChosen`."""
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.WorkerChosen(int(event.row_key.value)))

    def _rebuild(self) -> None:
        if not self.is_mounted:
            return
        keep = self.highlighted_worker
        rows = visible_workers(self._workers, self.filter_text, self.row_order)
        self.clear()
        self._row_ids = [w.worker_id for w in rows]
        for worker in rows:
            self.add_row(*self._cells(worker), key=str(worker.worker_id))
        if keep is not None and keep in self._row_ids:
            self.move_cursor(row=self._row_ids.index(keep), animate=False, scroll=False)
        self._update_title(len(rows))

    def _update_title(self, shown: int | None = None) -> None:
        total = len(self._workers)
        shown = total if shown is None else shown
        alive = sum(1 for w in self._workers if w.alive)
        self.border_title = f"Workers {alive} alive" + (
            f" · {shown}/{total} shown" if shown != total else ""
        )
        subtitle = f"sort: {SORTS[self.row_order][0]}"
        if self.filter_text:
            subtitle = f"filter: {self.filter_text} · " + subtitle
        self.border_subtitle = subtitle

    def _cells(self, w: WorkerView) -> list[Text | str]:
        state_style = _STATE_STYLE.get(w.state, "")
        dim = "" if w.alive else "$text-muted"
        style = self._resolve(state_style or dim)
        age = fmt.duration(w.current_task_age_ns) if w.current_task_age_ns is not None else ""
        return [
            str(w.worker_id),
            str(w.pid or fmt.NO_DATA),
            Text(w.state, style=style),
            Text(w.current_op or "", no_wrap=True, overflow="ellipsis"),
            _right(age),
            _right(fmt.count(w.tasks_done)),
            _right(fmt.duration(w.latency.p99_ns)),
            _right(fmt.cpu(w.cpu_percent)),
            _right(fmt.size_bytes(w.rss_bytes)),
            _right(fmt.count(w.fds)),
            _right(str(w.restarts), self._resolve("$warning") if w.restarts else ""),
        ]

    def _resolve(self, spec: str) -> str:
        """Replace `$variable` names in a style spec with the theme's concrete colours."""
        if "$" not in spec:
            return spec
        parts = [theme_hex(self.app, p[1:]) if p.startswith("$") else p for p in spec.split()]
        return " ".join(parts)
