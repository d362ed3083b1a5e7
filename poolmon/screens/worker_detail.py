"""The drill-down: one worker's charts, recent tasks, state history and exits.

Below 34 rows (`-compact`) the two charts sit side by side: stacked, each had one or two
rows to draw in, which is no chart at all.

Opened with enter on a worker row; escape goes back. Enter on a failed recent task opens its
exception and remote traceback (`FailureDetailScreen`), when the pool sent one. The app puts
the worker's `WorkerView` in each frame (from `worker()` on the source, with the full detail).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import DataTable

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

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "recycle", "Recycle"),
        Binding("K", "kill", "Kill"),
        Binding("x", "stack", "Stack"),
        Binding("escape", "app.pop_screen", "Back"),
    ]
    """
    | Key | Action |
    | :- | :- |
    | `r` | Recycle this worker: replaced after its current task (asks first). |
    | `K` | Kill this worker now: its running task fails (asks first). |
    | `x` | The running task's live stack, age, op and arguments (x again refreshes). |
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
    WorkerDetailScreen.-compact WorkerHistory { width: 28; padding: 0 0 0 1; }
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
                SeriesChart("Tasks/s", fmt.count, unit="/s", id="worker-throughput"),
                SeriesChart("RSS", fmt.size_bytes, colour="accent", gauge=True, id="worker-rss"),
                id="detail-charts",
            ),
            id="detail-top",
        )
        yield Horizontal(TaskList(), WorkerHistory(), id="detail-bottom")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out recycle and kill in read-only mode (pressing them still says why)."""
        if action in ("recycle", "kill") and self.frame is not None and self.frame.read_only:
            return None
        return True

    def action_recycle(self) -> None:
        """Ask, then recycle this worker gracefully (after its current task)."""
        self._worker_command("recycle_worker")

    def action_kill(self) -> None:
        """Ask, then kill this worker now (its running task fails with WorkerKilled)."""
        self._worker_command("kill_worker")

    def action_stack(self) -> None:
        """Open this worker's stack modal (the app asks the pool for the stack)."""
        self.app.show_worker_stack(self.worker_id)  # type: ignore[attr-defined]

    def _worker_command(self, command: str) -> None:
        worker = self.frame.worker if self.frame is not None else None
        pid = worker.pid if worker is not None and worker.pid else None
        if worker is not None and not worker.alive:
            self.notify(f"worker {self.worker_id} has exited; nothing to {command.split('_')[0]}")
            return
        self.app.confirm_worker_command(command, self.worker_id, pid)  # type: ignore[attr-defined]

    @on(DataTable.RowSelected)
    def _task_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a recent task: a failed one opens its exception and traceback."""
        event.stop()
        worker = self.frame.worker if self.frame is not None else None
        task_id = int(str(event.row_key.value))
        task = (
            next((t for t in worker.recent_tasks if t.task_id == task_id), None) if worker else None
        )
        if task is not None and task.status == "ok":
            self.notify(f"task {task_id} finished ok: nothing to show beyond this row", timeout=4)
        elif self.frame is not None:
            self.app.open_failed_task(task_id, self.frame.snapshot)  # type: ignore[attr-defined]

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
