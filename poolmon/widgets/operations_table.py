"""Each operation's latency and error figures over the window, slowest (by p99) first.

Per-operation numbers answer "which function is slow" without drilling into every worker.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from poolmon.core.snapshot import OperationView
from poolmon.widgets import _format as fmt

COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("op", "Operation", 15),
    ("count", "Count", 7),
    ("rate", "Rate", 9),
    ("errors", "Errors", 7),
    ("error_rate", "Err%", 6),
    ("p50", "p50", 8),
    ("p95", "p95", 8),
    ("p99", "p99", 8),
    ("max", "max", 8),
)
"""Column key, header and width, in display order: 76 cells, so p99 and max fit at 80 columns.

No cell padding: every number is right-aligned (header too) in a column wider than its
text, which spaces the columns and keeps each header over its figures.
"""


def slowest_first(operations: Sequence[OperationView]) -> list[OperationView]:
    """Operations ordered by p99 descending (no data last), then by name."""
    return sorted(operations, key=lambda o: (-(o.latency.p99_ns or -1.0), o.name))


class OperationsTable(DataTable[Text | str]):
    """A `DataTable` of `OperationView`s, slowest first."""

    DEFAULT_CSS = """
    OperationsTable {
        border: round $primary 50%;
        border-title-color: $text;
        height: auto;
        max-height: 50%;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        super().__init__(
            id=id, classes=classes, cursor_type="row", zebra_stripes=True, cell_padding=0
        )

    def on_mount(self) -> None:
        """Create the columns."""
        for key, label, width in COLUMNS:
            header = Text(label, justify="left" if key == "op" else "right")
            self.add_column(header, key=key, width=width)
        self.border_title = "Operations · slowest first"

    def show_operations(self, operations: Sequence[OperationView]) -> None:
        """Replace the rows with these operations."""
        keep = self.cursor_row
        self.clear()
        for op in slowest_first(operations):
            errors = op.errors / op.count if op.count else None
            self.add_row(
                Text(op.name, no_wrap=True, overflow="ellipsis"),
                Text(fmt.count(op.count), justify="right"),
                Text(fmt.rate(op.rate_per_s), justify="right"),
                Text(fmt.count(op.errors), justify="right"),
                Text(fmt.percent(errors), justify="right"),
                Text(fmt.percentile(op.latency.count, op.latency.p50_ns), justify="right"),
                Text(fmt.percentile(op.latency.count, op.latency.p95_ns), justify="right"),
                Text(fmt.percentile(op.latency.count, op.latency.p99_ns), justify="right"),
                Text(fmt.duration(op.latency.max_ns), justify="right"),
                key=op.name,
            )
        if self.row_count:
            self.move_cursor(row=min(keep, self.row_count - 1), animate=False, scroll=False)
