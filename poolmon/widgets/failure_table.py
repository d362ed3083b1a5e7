"""Recent failed tasks, newest first: when, task, operation, worker, exception type, message.

The list a person scans to find *which* failure to read; enter on a row opens the failure's
details with the remote traceback (the screen decides what to open). Rows are keyed by task
id, so the highlighted failure stays highlighted while new ones arrive above it.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from poolmon.core.failures import TaskFailure
from poolmon.widgets import _format as fmt
from poolmon.widgets._keyed_rows import Row, replace_rows, selected_key
from poolmon.widgets._theme import theme_hex

COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("ago", "Ago", 7),
    ("task", "Task", 8),
    ("op", "Operation", 15),
    ("worker", "Worker", 7),
    ("type", "Exception", 16),
    ("message", "Message", None),
)
"""Column key, header and width (None: the rest of the line), in display order."""


def first_line(text: str) -> str:
    """The first non-empty line of a message (a table row holds one line)."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


class FailureTable(DataTable[Text | str]):
    """A `DataTable` of `TaskFailure`s, newest first; the exception type in the error colour."""

    DEFAULT_CSS = """
    FailureTable {
        border: round $primary 50%;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=True, cell_padding=1)
        self._shown: list[Row] = []

    def on_mount(self) -> None:
        """Create the columns."""
        for key, label, width in COLUMNS:
            right = key in ("ago", "task", "worker")
            self.add_column(
                Text(label, justify="right" if right else "left"), key=key, width=width or 20
            )
        self.border_title = "Recent failures"

    def on_resize(self) -> None:
        """Give the message the rest of the line, so the table never scrolls sideways."""
        fixed = sum(w for _, _, w in COLUMNS if w) + 2 * self.cell_padding * len(COLUMNS)
        column = self.columns[ColumnKey("message")]
        column.width = max(10, self.size.width - fixed - 2)
        column.auto_width = False
        self._require_update_dimensions = True
        self.refresh()

    @property
    def highlighted_task(self) -> int | None:
        """The task id under the cursor, if any."""
        key = selected_key(self)
        return None if key is None else int(key)

    def show_failures(self, failures: Sequence[TaskFailure], now_ns: int) -> None:
        """Replace the rows (the highlighted failure stays highlighted)."""
        error = theme_hex(self.app, "error")
        rows: list[Row] = [
            (
                str(f.task_id),
                (
                    Text(fmt.age(now_ns - f.at_ns), justify="right"),
                    Text(str(f.task_id), justify="right"),
                    Text(f.op, no_wrap=True, overflow="ellipsis"),
                    Text(str(f.worker_id), justify="right"),
                    Text(f.error_type, style=error, no_wrap=True, overflow="ellipsis"),
                    Text(
                        first_line(f.message) or "(no message)", no_wrap=True, overflow="ellipsis"
                    ),
                ),
            )
            for f in failures
        ]
        if replace_rows(self, rows, self._shown):
            self._shown = rows
