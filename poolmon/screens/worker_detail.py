"""The drill-down: one worker's charts, recent tasks, state history and exits.

Below 34 rows (`-compact`) the two charts sit side by side: stacked, each had one or two
rows to draw in, which is no chart at all.

Opened with enter on a worker row; escape goes back. The app puts the worker's `WorkerView`
in each frame (from `worker()` on the source, which carries the full detail).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widget import Widget

from poolmon.core.snapshot import Series
from poolmon.screens.base import PoolmonScreen
from poolmon.screens.frame import Frame
from poolmon.widgets import _format as fmt
from poolmon.widgets.series_chart import SeriesChart
from poolmon.widgets.task_list import TaskList
from poolmon.widgets.worker_history import WorkerHistory
from poolmon.widgets.worker_summary import WorkerSummary


class WorkerDetailScreen(PoolmonScreen):
    """Everything known about one worker."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back")]
    """
    | Key | Action |
    | :- | :- |
    | `escape` | Back to the previous screen. |
    """

    DEFAULT_CSS = """
    WorkerDetailScreen #detail-top { height: 1fr; min-height: 10; }
    WorkerDetailScreen #detail-charts { width: 1fr; }
    WorkerDetailScreen #detail-bottom { height: 1fr; }
    WorkerDetailScreen TaskList { width: 3fr; }
    WorkerDetailScreen WorkerHistory { width: 2fr; }
    WorkerDetailScreen.-compact #detail-top { height: 12; min-height: 12; }
    WorkerDetailScreen.-compact #detail-charts { layout: horizontal; }
    WorkerDetailScreen.-compact WorkerSummary { width: 30; }
    WorkerDetailScreen.-compact WorkerHistory { width: 28; }
    """

    def __init__(self, worker_id: int) -> None:
        super().__init__()
        self.worker_id = worker_id
        """The worker this screen shows."""

    def compose_body(self) -> Iterable[Widget]:
        """Summary and charts on top; tasks and history below."""
        yield Horizontal(
            WorkerSummary(),
            Vertical(
                SeriesChart("Tasks/s", fmt.count, id="worker-throughput"),
                SeriesChart("RSS", fmt.size_bytes, colour="accent", gauge=True, id="worker-rss"),
                id="detail-charts",
            ),
            id="detail-top",
        )
        yield Horizontal(TaskList(), WorkerHistory(), id="detail-bottom")

    def show_body(self, frame: Frame) -> None:
        """Show the frame's worker."""
        worker = frame.worker
        if worker is None:
            worker = next(
                (w for w in frame.snapshot.workers if w.worker_id == self.worker_id), None
            )
        self.query_one(WorkerSummary).worker = worker
        self.query_one(WorkerHistory).worker = worker
        self.query_one(TaskList).show_tasks(
            worker.recent_tasks if worker else (), frame.snapshot.taken_at_ns
        )
        for chart_id, series in (
            ("#worker-throughput", worker.throughput if worker else Series()),
            ("#worker-rss", worker.rss_series if worker else Series()),
        ):
            chart = self.query_one(chart_id, SeriesChart)
            chart.now_ns = frame.snapshot.taken_at_ns
            chart.window_s = frame.window_s
            chart.series = series
