"""The operations view: each operation's latency and errors over the window, slowest first."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widget import Widget

from poolmon.screens.base import PoolmonScreen
from poolmon.screens.frame import Frame
from poolmon.widgets.latency_histogram import LatencyHistogram
from poolmon.widgets.operations_table import OperationsTable


class OperationsScreen(PoolmonScreen):
    """Per-operation table above the pool-wide latency histogram, for comparison.

    The table is as tall as its rows (up to half the screen); the histogram takes the rest.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back")]
    """
    | Key | Action |
    | :- | :- |
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

    def show_body(self, frame: Frame) -> None:
        """Fill the table and the histogram."""
        self.query_one(OperationsTable).show_operations(frame.snapshot.operations)
        histogram = self.query_one(LatencyHistogram)
        histogram.histogram = frame.snapshot.latency_histogram
        histogram.latency = frame.snapshot.latency
