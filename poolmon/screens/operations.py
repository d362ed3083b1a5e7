"""The operations view: each operation's latency and errors over the window, slowest first."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import DataTable

from poolmon.core.counters import OVERFLOW_LABEL
from poolmon.core.tuning import OP_TIMEOUT_PREFIX
from poolmon.screens.base import PoolmonScreen
from poolmon.screens.frame import Frame
from poolmon.widgets.latency_histogram import LatencyHistogram
from poolmon.widgets.operations_table import OperationsTable


class OperationsScreen(PoolmonScreen):
    """Per-operation table above the pool-wide latency histogram, for comparison.

    The table is as tall as its rows (up to half the screen); the histogram takes the rest.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "op_timeout", "Op timeout"),
        Binding("escape", "app.pop_screen", "Back"),
    ]
    """
    | Key | Action |
    | :- | :- |
    | `e`, `enter` | Set a timeout for the highlighted operation (on the tuning screen). |
    | `escape` | Back to the overview. |
    """

    DEFAULT_CSS = """
    OperationsScreen OperationsTable { height: auto; max-height: 50%; }
    OperationsScreen LatencyHistogram { height: 1fr; min-height: 8; }
    """

    def compose_body(self) -> Iterable[Widget]:
        """The table, then the histogram."""
        yield OperationsTable()
        yield LatencyHistogram()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out the op timeout key in read-only mode (pressing it still says why)."""
        if action == "op_timeout" and self.frame is not None and self.frame.read_only:
            return None
        return True

    def action_op_timeout(self) -> None:
        """Edit the highlighted operation's timeout (`op_timeout_s.<op>`) on the tuning screen."""
        table = self.query_one(OperationsTable)
        if not table.row_count:
            self.notify("no operation has run yet in this window", timeout=4)
            return
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        op = str(row_key.value)
        if op == OVERFLOW_LABEL:
            self.notify("'(other)' gathers many operations; set each one's timeout by name")
            return
        self.app.edit_setting(OP_TIMEOUT_PREFIX + op)  # type: ignore[attr-defined]

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if self.check_action("op_timeout", ()):
            self.action_op_timeout()
        else:
            self.app.action_explain_read_only()  # type: ignore[attr-defined]

    def show_body(self, frame: Frame) -> None:
        """Fill the table and the histogram."""
        self.query_one(OperationsTable).show_operations(frame.snapshot.operations)
        histogram = self.query_one(LatencyHistogram)
        histogram.histogram = frame.snapshot.latency_histogram
        histogram.latency = frame.snapshot.latency
