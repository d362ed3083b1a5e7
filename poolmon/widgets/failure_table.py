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
from poolmon.widgets._clip_words import clip_words
from poolmon.widgets._cursor_in_view import CursorInView
from poolmon.widgets._keyed_rows import Row, replace_rows, selected_key
from poolmon.widgets._theme import theme_hex

COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("ago", "Ago", 5),
    ("task", "Task", 0),
    ("op", "Operation", 0),
    ("worker", "Worker", 0),
    ("type", "Exception", 0),
    ("message", "Message", None),
)
"""Column key, header and width (0: its longest cell; None: the rest of the line).

Ids, names and exception types are never cut (a cut name reads as another name), so their
columns fit their longest cell, and the message preview takes the rest of the line, cut
between words (`_clip_words`).
"""

MIN_MESSAGE = 10
"""The message preview's narrowest column."""


def column_widths(failures: Sequence[TaskFailure]) -> dict[str, int]:
    """The widths of every column but the message, for these rows."""
    cells = {
        "task": [str(f.task_id) for f in failures],
        "op": [f.op for f in failures],
        "worker": [str(f.worker_id) for f in failures],
        "type": [f.error_type for f in failures],
    }
    return {
        key: width or max([len(label), *(len(cell) for cell in cells[key])])
        for key, label, width in COLUMNS
        if width is not None
    }


def first_line(text: str) -> str:
    """The first non-empty line of a message (a table row holds one line)."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


class FailureTable(CursorInView, DataTable[Text | str]):
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

    _widths: dict[str, int] = {}
    """The widths of the fitted columns in use."""

    def on_mount(self) -> None:
        """Create the columns."""
        self._widths = column_widths(())
        for key, label, _ in COLUMNS:
            right = key in ("ago", "task", "worker")
            header = Text(label, justify="right" if right else "left")
            self.add_column(header, key=key, width=self._widths.get(key, MIN_MESSAGE))
        self.border_title = "Recent failures"

    def on_resize(self) -> None:
        """Give the message the rest of the line, so the table never scrolls sideways."""
        self._fit_columns()

    def _message_width(self) -> int:
        fixed = sum(self._widths.values()) + 2 * self.cell_padding * len(COLUMNS)
        return max(MIN_MESSAGE, self.size.width - fixed - 2)

    def _fit_columns(self) -> None:
        for key, width in [*self._widths.items(), ("message", self._message_width())]:
            column = self.columns[ColumnKey(key)]
            column.width = width
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
        widths = column_widths(failures)
        if widths != self._widths:
            self._widths = widths
            self._fit_columns()
        room = self._message_width()
        rows: list[Row] = [
            (
                str(f.task_id),
                (
                    Text(fmt.age(now_ns - f.at_ns), justify="right"),
                    Text(str(f.task_id), justify="right"),
                    Text(f.op, no_wrap=True),
                    Text(str(f.worker_id), justify="right"),
                    Text(f.error_type, style=error, no_wrap=True),
                    Text(clip_words(first_line(f.message) or "(no message)", room), no_wrap=True),
                ),
            )
            for f in failures
        ]
        if replace_rows(self, rows, self._shown):
            self._shown = rows
