"""Recent failures (`E`): the last failed tasks with their exception, newest first.

A count of errors says something broke; this list says what, and enter on a row opens the
failure's details with the remote traceback (`FailureDetailScreen`). The failures are the
ones the pool sent since this monitor attached, plus those its history still held then
(`poolmon.core.failures` keeps the last 100). Tasks that timed out or lost their worker
raised nothing in the worker, so they have no traceback and are not listed here (the error
panel counts them).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import DataTable

from poolmon.core.failures import FAILURES_KEPT, TaskFailure
from poolmon.screens.base import PoolmonScreen
from poolmon.screens.frame import Frame
from poolmon.widgets.failure_table import FailureTable


class FailuresScreen(PoolmonScreen):
    """The recent-failures list; enter opens one failure, escape goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
    ]
    """
    | Key | Action |
    | :- | :- |
    | `enter` | The highlighted failure's details and traceback. |
    | `escape` | Back. |
    """

    def __init__(self, op: str | None = None) -> None:
        super().__init__()
        self.op = op
        """Show only this operation's failures (None: all)."""

    def compose_body(self) -> Iterable[Widget]:
        """The table."""
        yield FailureTable()

    def on_mount(self) -> None:
        """Focus the table, so enter opens a row at once."""
        super().on_mount()
        self.query_one(FailureTable).focus()

    def shown(self, frame: Frame) -> tuple[TaskFailure, ...]:
        """The failures this screen lists from a frame (its operation's, if it has one)."""
        failures = frame.snapshot.failures
        return tuple(f for f in failures if self.op is None or f.op == self.op)

    def show_body(self, frame: Frame) -> None:
        """Fill the table; the subtitle says what the list covers."""
        table = self.query_one(FailureTable)
        failures = self.shown(frame)
        table.show_failures(failures, frame.snapshot.taken_at_ns)
        scope = f" · {self.op}" if self.op else ""
        table.border_title = f"Recent failures{scope} · newest first"
        table.border_subtitle = (
            f"{len(failures)} shown · the pool's last {FAILURES_KEPT} exceptions are kept · "
            "enter: traceback"
            if failures
            else "no task has raised since the monitor attached"
            + (" (timeouts and crashes raise nothing: see the errors panel)")
        )

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if self.frame is None:
            return
        task_id = int(str(event.row_key.value))
        failure = next((f for f in self.shown(self.frame) if f.task_id == task_id), None)
        if failure is not None:
            self.app.open_failure(failure)  # type: ignore[attr-defined]
