"""A worker's most recent tasks, newest first, with outcome and error type."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from poolmon.core.snapshot import TaskRecord
from poolmon.widgets import _format as fmt
from poolmon.widgets._theme import theme_hex

COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("task", "Task", 8),
    ("op", "Operation", 16),
    ("at", "Started", 8),
    ("duration", "Duration", 8),
    ("status", "Status", 9),
    ("error", "Error", 18),
)
"""Column key, header and width, in display order."""


class TaskList(DataTable[Text | str]):
    """Recent `TaskRecord`s of one worker; failures coloured."""

    DEFAULT_CSS = """
    TaskList {
        border: round $primary 50%;
        border-title-color: $text;
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        """Create the columns."""
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)
        self.border_title = "Recent tasks"

    def show_tasks(self, tasks: Sequence[TaskRecord]) -> None:
        """Replace the rows with these tasks, newest first."""
        self.clear()
        error = theme_hex(self.app, "error")
        for task in sorted(tasks, key=lambda t: -t.start_ns):
            failed = task.status != "ok"
            self.add_row(
                str(task.task_id),
                Text(task.op, no_wrap=True, overflow="ellipsis"),
                fmt.clock(task.start_ns),
                Text(fmt.duration(task.duration_ns), justify="right"),
                Text(task.status, style=error if failed else ""),
                Text(task.error_type, style=error, no_wrap=True, overflow="ellipsis"),
            )
