"""A worker's most recent tasks, newest first: when, how long, and how each ended."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from poolmon.core.snapshot import TaskRecord
from poolmon.widgets import _format as fmt
from poolmon.widgets._theme import theme_hex

COLUMNS: tuple[tuple[str, str, int, bool], ...] = (
    ("task", "Task", 7, False),
    ("op", "Operation", 14, False),
    ("ago", "Ago", 7, True),
    ("duration", "Duration", 9, True),
    ("outcome", "  Outcome", 16, False),
)
"""Column key, header, width and right alignment, in display order.

No cell padding: numbers are right-aligned in columns wider than their text, which spaces
them, and the whole table fits the drill-down's lower left at 80 columns. `Ago` is relative
to the snapshot (at a few hundred tasks a second every start has the same `HH:MM:SS`), and
`Outcome` is `ok` or the failure with its error type in one column.
"""


def outcome(task: TaskRecord) -> str:
    """`ok`; for a raised error its type alone (`TimeoutError`); else the status (`crashed`)."""
    if task.status == "error" and task.error_type:
        return task.error_type
    return f"{task.status} {task.error_type}".strip()


class TaskList(DataTable[Text | str]):
    """Recent `TaskRecord`s of one worker, newest first; failures in the error colour."""

    DEFAULT_CSS = """
    TaskList {
        border: round $primary 50%;
        border-title-color: $text;
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=True, cell_padding=0)

    def on_mount(self) -> None:
        """Create the columns."""
        for key, label, width, right in COLUMNS:
            header = Text(label, justify="right" if right else "left")
            self.add_column(header, key=key, width=width)
        self.border_title = "Recent tasks"

    def show_tasks(self, tasks: Sequence[TaskRecord], now_ns: int) -> None:
        """Replace the rows with these tasks, newest first; `now_ns` is the snapshot's time."""
        self.clear()
        error = theme_hex(self.app, "error")
        for task in sorted(tasks, key=lambda t: -t.start_ns):
            failed = task.status != "ok"
            self.add_row(
                str(task.task_id),
                Text(task.op, no_wrap=True, overflow="ellipsis"),
                Text(fmt.duration(max(0, now_ns - task.start_ns)), justify="right"),
                Text(fmt.duration(task.duration_ns), justify="right"),
                Text(
                    "  " + outcome(task),
                    style=error if failed else "",
                    no_wrap=True,
                    overflow="ellipsis",
                ),
                key=str(task.task_id),
            )
