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
"""The message preview's narrowest column; below it rows take two lines."""

TWO_LINE_COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("ago", "Ago", 5),
    ("task", "Task", 0),
    ("worker", "Worker", 0),
    ("failure", "Operation · exception / message", None),
)
"""The two-line form: the names that left no room for the message share a column with it."""


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
        self._widths: dict[str, int] = column_widths(())
        self._two_line = False
        self._last: tuple[Sequence[TaskFailure], int] = ((), 0)

    def on_mount(self) -> None:
        """Create the columns."""
        self._add_columns()
        self.border_title = "Recent failures"

    def _add_columns(self) -> None:
        for key, label, _ in TWO_LINE_COLUMNS if self._two_line else COLUMNS:
            right = key in ("ago", "task", "worker")
            header = Text(label, justify="right" if right else "left")
            self.add_column(header, key=key, width=self._widths.get(key, MIN_MESSAGE))

    def on_resize(self) -> None:
        """Give the message the rest of the line, so the table never scrolls sideways."""
        self.show_failures(*self._last)

    def _rest(self, columns: Sequence[tuple[str, str, int | None]]) -> int:
        """The cells left for the last column of `columns` (the message or the failure)."""
        fixed = sum(self._widths[key] for key, _, width in columns if width is not None)
        return self.size.width - fixed - 2 * self.cell_padding * len(columns) - 2

    def _fit_columns(self) -> None:
        columns = TWO_LINE_COLUMNS if self._two_line else COLUMNS
        for key, _, width in columns:
            column = self.columns[ColumnKey(key)]
            column.width = self._widths[key] if width is not None else max(1, self._rest(columns))
            column.auto_width = False
        self._require_update_dimensions = True
        self.refresh()

    @property
    def highlighted_task(self) -> int | None:
        """The task id under the cursor, if any."""
        key = selected_key(self)
        return None if key is None else int(key)

    def show_failures(self, failures: Sequence[TaskFailure], now_ns: int) -> None:
        """Replace the rows (the highlighted failure stays highlighted).

        When the names leave the message fewer than `MIN_MESSAGE` cells, each row takes two
        lines: operation and exception over the message (`TWO_LINE_COLUMNS`).
        """
        self._last = (failures, now_ns)
        self._widths = column_widths(failures)
        two_line = self.size.width > 0 and self._rest(COLUMNS) < MIN_MESSAGE
        keep = None
        if two_line != self._two_line:  # the other form: new columns, rows refilled
            keep = selected_key(self)
            self._two_line, self._shown = two_line, []
            self.clear(columns=True)
            self._add_columns()
        self._fit_columns()
        error = theme_hex(self.app, "error")
        room = max(1, self._rest(TWO_LINE_COLUMNS if two_line else COLUMNS))
        rows: list[Row] = []
        for f in failures:
            message = clip_words(first_line(f.message) or "(no message)", room)
            ago = Text(fmt.age(now_ns - f.at_ns), justify="right")
            task, worker = (
                Text(str(f.task_id), justify="right"),
                Text(str(f.worker_id), justify="right"),
            )
            if two_line:
                failure = Text.assemble(f.op, "  ", (f.error_type, error), "\n", message)
                rows.append((str(f.task_id), (ago, task, worker, failure)))
            else:
                op, kind = Text(f.op, no_wrap=True), Text(f.error_type, style=error, no_wrap=True)
                cells = (ago, task, op, worker, kind, Text(message, no_wrap=True))
                rows.append((str(f.task_id), cells))
        if replace_rows(self, rows, self._shown, height=2 if two_line else 1):
            self._shown = rows
        keys = [key for key, _ in rows]
        if keep in keys:
            self.move_cursor(row=keys.index(keep), animate=False)
