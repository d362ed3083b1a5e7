"""The operations view: each operation's latency and errors over the window, slowest first.

The histogram below the table follows the highlighted operation (its own latency, titled
with its name), so moving the cursor compares operations' distributions. `s` / `S` sort,
enter drills down into the operation (`OperationDetailScreen`), `e` sets its timeout.
"""

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
        Binding("enter", "drill", "Open"),
        Binding("s", "sort", "Sort"),
        Binding("S", "reverse_sort", "Reverse", show=False),
        Binding("e", "op_timeout", "Timeout"),
        Binding("E", "app.failures", "Failed", show=False),  # in help; 80 columns need Quit
        Binding("escape", "app.pop_screen", "Back"),
    ]
    """
    | Key | Action |
    | :- | :- |
    | `enter` | Drill down into the highlighted operation. |
    | `s` | Sort by the next column (in its natural direction). |
    | `S` | Reverse the sort. |
    | `e` | Set a timeout for the highlighted operation (on the tuning screen). |
    | `E` | Recent failures: exception and message; enter opens the traceback. |
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
        op = str(table.highlighted_op)
        if op == OVERFLOW_LABEL:
            self.notify("'(other)' gathers many operations; set each one's timeout by name")
            return
        self.app.edit_setting(OP_TIMEOUT_PREFIX + op)  # type: ignore[attr-defined]

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_drill()

    def action_drill(self) -> None:
        """Open the highlighted operation's drill-down."""
        op = self.query_one(OperationsTable).highlighted_op
        if op is None:
            self.notify("no operation has run yet in this window", timeout=4)
        elif op == OVERFLOW_LABEL:
            self.notify("'(other)' gathers many operations; it has no drill-down of its own")
        else:
            self.app.open_operation(op)  # type: ignore[attr-defined]

    def action_sort(self) -> None:
        """Sort by the next column."""
        table = self.query_one(OperationsTable)
        table.set_order(table.order.cycled())

    def action_reverse_sort(self) -> None:
        """Reverse the sort."""
        table = self.query_one(OperationsTable)
        table.set_order(table.order.flipped())

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.frame is not None:
            self._show_histogram(self.frame)

    def show_body(self, frame: Frame) -> None:
        """Fill the table and the histogram."""
        self.query_one(OperationsTable).show_operations(frame.snapshot.operations)
        self._show_histogram(frame)

    def _show_histogram(self, frame: Frame) -> None:
        """The highlighted operation's histogram (the pool's when none is highlighted)."""
        histogram = self.query_one(LatencyHistogram)
        op = self.query_one(OperationsTable).highlighted_op
        view = next((o for o in frame.snapshot.operations if o.name == op), None)
        if view is None:
            histogram.label = ""
            histogram.histogram = frame.snapshot.latency_histogram
            histogram.latency = frame.snapshot.latency
        else:
            histogram.label = view.name
            histogram.histogram = view.histogram
            histogram.latency = view.latency
