"""Each operation's latency and error figures over the window, slowest (by p99) first.

Any column sorts either way (`s` cycles the column, `S` reverses; the header shows ▲/▼),
and the highlighted operation stays highlighted through refreshes and re-sorts.

Per-operation numbers answer "which function is slow" without drilling into every worker.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from poolmon.core.snapshot import OperationView
from poolmon.widgets import _format as fmt
from poolmon.widgets._cursor_in_view import CursorInView
from poolmon.widgets._keyed_rows import selected_key
from poolmon.widgets._sorting import SortOrder

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


SORT_VALUES: dict[str, Callable[[OperationView], float | None]] = {
    "op": lambda o: None,
    "count": lambda o: float(o.count),
    "rate": lambda o: o.rate_per_s,
    "errors": lambda o: float(o.errors),
    "error_rate": lambda o: o.errors / o.count if o.count else None,
    "p50": lambda o: o.latency.p50_ns,
    "p95": lambda o: o.latency.p95_ns,
    "p99": lambda o: o.latency.p99_ns,
    "max": lambda o: o.latency.max_ns,
}
"""The value each sortable column sorts by (`op` sorts by name)."""

DEFAULT_SORT = SortOrder(tuple(SORT_VALUES), frozenset(SORT_VALUES) - {"op"}, "p99")
"""Slowest (p99) first, the question the view answers first."""


def sorted_operations(operations: Sequence[OperationView], order: SortOrder) -> list[OperationView]:
    """Operations in `order`; those without a value for the column last, ties by name."""
    by_name = sorted(
        operations, key=lambda o: o.name, reverse=order.column == "op" and order.descending
    )
    if order.column == "op":
        return by_name
    value = SORT_VALUES[order.column]

    def key(o: OperationView) -> tuple[bool, float]:
        v = value(o)
        return (True, 0.0) if v is None else (False, -v if order.descending else v)

    return sorted(by_name, key=key)


def slowest_first(operations: Sequence[OperationView]) -> list[OperationView]:
    """Operations ordered by p99 descending (no data last), then by name."""
    return sorted_operations(operations, DEFAULT_SORT)


class OperationsTable(CursorInView, DataTable[Text | str]):
    """A `DataTable` of `OperationView`s, sorted by any column either way (slowest first)."""

    DEFAULT_CSS = """
    OperationsTable {
        border: round $primary 50%;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        height: auto;
        max-height: 50%;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        super().__init__(
            id=id, classes=classes, cursor_type="row", zebra_stripes=True, cell_padding=0
        )
        self.order = DEFAULT_SORT
        """The current sort (`s` cycles the column, `S` reverses it)."""
        self._operations: tuple[OperationView, ...] = ()

    def on_mount(self) -> None:
        """Create the columns."""
        for key, label, width in COLUMNS:
            header = Text(label, justify="left" if key == "op" else "right")
            self.add_column(header, key=key, width=width)
        self._titles()

    @property
    def highlighted_op(self) -> str | None:
        """The operation under the cursor, if any."""
        return selected_key(self)

    def set_order(self, order: SortOrder) -> None:
        """Sort by `order` now (the highlighted operation stays highlighted)."""
        self.order = order
        self._titles()
        self.show_operations(self._operations)

    def _titles(self) -> None:
        for key, label, _ in COLUMNS:
            column = self.columns.get(ColumnKey(key))
            if column is not None:
                text = self.order.header(key, label)
                column.label = Text(text, justify="left" if key == "op" else "right")
        self._require_update_dimensions = True
        name = dict((k, lbl) for k, lbl, _ in COLUMNS)[self.order.column]
        self.border_title = f"Operations · by {name} {self.order.arrow}"
        self.refresh()

    def show_operations(self, operations: Sequence[OperationView]) -> None:
        """Replace the rows with these operations, in the current order."""
        self._operations = tuple(operations)
        keep = self.highlighted_op
        index = self.cursor_row
        self.clear()
        ordered = sorted_operations(operations, self.order)
        for op in ordered:
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
        # the rows' whole slots cover a little less than the window: say how much
        span = max((o.covered_s for o in ordered), default=0.0)
        self.border_subtitle = f"counts over the last {fmt.span(round(span))}" if span >= 1 else ""
        names = [o.name for o in ordered]
        if keep in names:
            index = names.index(keep)
        if self.row_count:
            self.move_cursor(row=min(index, self.row_count - 1), animate=False)
