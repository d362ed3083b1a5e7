"""A worker's most recent tasks, newest first: when, how long, and how each ended."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from poolmon.core.snapshot import TaskRecord
from poolmon.widgets import _format as fmt
from poolmon.widgets._cursor_in_view import CursorInView
from poolmon.widgets._theme import theme_hex

COLUMNS: tuple[tuple[str, str, int, bool], ...] = (
    ("task", "Task", 0, False),
    ("op", "Operation", 0, False),
    ("ago", "Ago", 7, True),
    ("duration", "Duration", 9, True),
    ("outcome", " Outcome", 0, False),
)
"""Column key, header, width (0: as wide as its longest cell) and right alignment.

No cell padding: numbers are right-aligned in columns wider than their text, which spaces
them. Task ids, operation names and outcomes are never cut (a cut name reads as another
name): their columns take the width of their longest cell, so the table fits the
drill-down's lower left at 80 columns when the names are short, and scrolls sideways when
they are not. `Ago` is relative to the snapshot (at a few hundred tasks a second every start
has the same `HH:MM:SS`), and `Outcome` is `ok` or the failure with its error type.
"""

GAP = 1
"""Blank cells after the task id and the operation name (and before the outcome)."""


def column_widths(tasks: Sequence[TaskRecord]) -> dict[str, int]:
    """Each column's width for these rows (fixed ones as declared, the rest fitted)."""
    longest = {
        "task": max((len(str(t.task_id)) for t in tasks), default=0) + GAP,
        "op": max((len(t.op) for t in tasks), default=0) + GAP,
        "outcome": max((GAP + len(outcome(t)) for t in tasks), default=0),
    }
    return {
        key: width or max(len(label) + (GAP if key != "outcome" else 0), longest[key])
        for key, label, width, _ in COLUMNS
    }


def outcome(task: TaskRecord) -> str:
    """`ok`; for a raised error its type alone (`TimeoutError`); else the status (`crashed`)."""
    if task.status == "error" and task.error_type:
        return task.error_type
    return f"{task.status} {task.error_type}".strip()


class TaskList(CursorInView, DataTable[Text | str]):
    """Recent `TaskRecord`s of one worker, newest first; failures in the error colour."""

    DEFAULT_CSS = """
    TaskList {
        border: round $primary 50%;
        border-title-color: $text;
        height: 1fr;
        scrollbar-size-vertical: 1;  /* a cell more for the columns at 80 columns */
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=True, cell_padding=0)

    _widths: dict[str, int] | None = None
    """The column widths in use."""

    def on_mount(self) -> None:
        """Create the columns."""
        self._set_columns(column_widths(()))
        self.border_title = "Recent tasks"

    def _set_columns(self, widths: dict[str, int]) -> None:
        if widths == self._widths:
            return
        self.clear(columns=True)
        for key, label, _, right in COLUMNS:
            header = Text(label, justify="right" if right else "left")
            self.add_column(header, key=key, width=widths[key])
        self._widths = widths

    def show_tasks(self, tasks: Sequence[TaskRecord], now_ns: int) -> None:
        """Replace the rows with these tasks, newest first; `now_ns` is the snapshot's time."""
        self.clear()
        self._set_columns(column_widths(tasks))
        error = theme_hex(self.app, "error")
        for task in sorted(tasks, key=lambda t: -t.start_ns):
            failed = task.status != "ok"
            self.add_row(
                str(task.task_id),
                Text(task.op, no_wrap=True),
                Text(fmt.duration(max(0, now_ns - task.start_ns)), justify="right"),
                Text(fmt.duration(task.duration_ns), justify="right"),
                Text(" " * GAP + outcome(task), style=error if failed else "", no_wrap=True),
                key=str(task.task_id),
            )
