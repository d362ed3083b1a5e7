"""The overview: throughput, latency histogram, errors, resources, alerts, workers.

Everything a person checks first on one screen. `s` / `S` sort and `/` filters the worker table;
enter on a worker posts `WorkerTable.WorkerChosen`, which the app turns into a drill-down.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Input

from poolmon.screens.base import PoolmonScreen
from poolmon.screens.frame import Frame
from poolmon.widgets.alert_panel import AlertPanel
from poolmon.widgets.error_trends import ErrorTrends
from poolmon.widgets.in_order_input import InOrderInput
from poolmon.widgets.latency_histogram import LatencyHistogram
from poolmon.widgets.resource_gauges import ResourceGauges
from poolmon.widgets.throughput_chart import ThroughputChart
from poolmon.widgets.worker_table import WorkerTable

NARROW = 120
"""Below this width an alerting overview narrows errors and resources to widen the alerts."""


class OverviewScreen(PoolmonScreen):
    """The main screen of `poolmon attach`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "sort", "Sort"),
        Binding("S", "reverse_sort", "Reverse sort", show=False),
        Binding("slash", "filter", "Filter"),
        Binding("E", "app.failures", "Failed"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]
    """
    | Key | Action |
    | :- | :- |
    | `s` | Sort the worker table by the next column (its natural direction). |
    | `S` | Reverse the worker table's sort. |
    | `/` | Filter workers (substring of id, pid, state, task; `!` inverts). |
    | `E` | Recent failures: exception and message; enter opens the traceback. |
    | `escape` | Clear the filter. |
    """

    DEFAULT_CSS = """
    OverviewScreen #charts { height: 2fr; min-height: 8; }
    OverviewScreen #middle { height: 1fr; min-height: 7; }
    OverviewScreen #charts > * { width: 1fr; }
    OverviewScreen ErrorTrends { width: 2fr; }
    OverviewScreen ResourceGauges { width: 2fr; height: 1fr; }
    OverviewScreen AlertPanel { width: 1fr; }
    OverviewScreen.-alerting AlertPanel { width: 2fr; }
    OverviewScreen.-alerting.-narrow ErrorTrends { width: 4fr; }
    OverviewScreen.-alerting.-narrow ResourceGauges { width: 5fr; }
    OverviewScreen.-alerting.-narrow AlertPanel { width: 7fr; }
    OverviewScreen WorkerTable { height: 2fr; }
    OverviewScreen.-compact #charts { height: 8; min-height: 8; }
    OverviewScreen.-compact #middle { height: 7; min-height: 7; }
    OverviewScreen.-compact WorkerTable { height: 1fr; }
    OverviewScreen #filter { dock: bottom; display: none; height: 3; }
    OverviewScreen.-filtering #filter { display: block; }
    """

    def compose_body(self) -> Iterable[Widget]:
        """Charts on top, errors/resources/alerts in the middle, the workers below."""
        yield Horizontal(ThroughputChart(), LatencyHistogram(), id="charts")
        yield Horizontal(ErrorTrends(), ResourceGauges(), AlertPanel(), id="middle")
        yield WorkerTable()
        yield InOrderInput(
            placeholder="filter workers: id, pid, state or task; !text inverts", id="filter"
        )

    def show_body(self, frame: Frame) -> None:
        """Hand each widget its part of the snapshot."""
        snap = frame.snapshot
        self.query_one(ThroughputChart).snapshot = snap
        histogram = self.query_one(LatencyHistogram)
        histogram.histogram = snap.latency_histogram
        histogram.latency = snap.latency
        self.query_one(ErrorTrends).snapshot = snap
        self.query_one(ResourceGauges).snapshot = snap
        panel = self.query_one(AlertPanel)
        panel.now_ns = snap.seen_at_ns
        panel.last_seen_ns = snap.data_until_ns
        panel.view = snap.alerts
        # active alerts are what a person must read first: the panel gets the room for them
        alerting = snap.alerts is not None and any(
            a.state != "resolved" for a in snap.alerts.alerts
        )
        self.set_class(alerting, "-alerting")
        self.set_class(self.app.size.width < NARROW, "-narrow")
        table = self.query_one(WorkerTable)
        table.show_workers(snap.workers)
        # No taller than its rows (+ header and border): a small pool's table would
        # otherwise hold a screenful of blank lines while the charts above are cramped.
        table.styles.max_height = max(4, table.row_count + 3)

    def action_sort(self) -> None:
        """Cycle the worker table's sort order."""
        self.query_one(WorkerTable).cycle_sort()

    def action_reverse_sort(self) -> None:
        """Reverse the worker table's sort."""
        self.query_one(WorkerTable).reverse_sort()

    def action_filter(self) -> None:
        """Open the filter line, prefilled with the current filter."""
        box = self.query_one("#filter", Input)
        box.value = self.query_one(WorkerTable).filter_text
        self.add_class("-filtering")
        box.focus()

    def action_clear_filter(self) -> None:
        """Drop the filter and close the filter line."""
        self.query_one(WorkerTable).filter_text = ""
        self._close_filter()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_one(WorkerTable).filter_text = event.value

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.query_one(WorkerTable).filter_text = event.value
        self._close_filter()

    def _close_filter(self) -> None:
        self.remove_class("-filtering")
        self.query_one(WorkerTable).focus()
