"""One operation's drill-down (enter in the operations view).

Its figures over the window (the operations table's row), its throughput and failures per
second, its latency histogram, its error types, its slowest recent tasks and the workers
that ran it (`poolmon.core.op_detail`). `E` lists its recent failures with their tracebacks;
escape goes back. The app puts the `OperationDetail` in each frame (`Frame.operation`), read
from the source under its lock like a worker's drill-down.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Static

from poolmon.core.op_detail import OperationDetail
from poolmon.screens.base import PoolmonScreen
from poolmon.screens.frame import Frame
from poolmon.widgets import _format as fmt
from poolmon.widgets._caption_room import caption_room
from poolmon.widgets._theme import theme_hex
from poolmon.widgets.latency_histogram import LatencyHistogram
from poolmon.widgets.series_chart import SeriesChart
from poolmon.widgets.task_list import outcome


def op_facts(d: OperationDetail) -> list[tuple[str, str]]:
    """The operation's row as (field, value) pairs, "—" where the window has no data."""
    v = d.view
    if v is None:
        return [("window", f"no task of {d.name} finished in the last {fmt.window(d.window_s)}")]
    lat = v.latency
    rate = v.errors / v.count if v.count else None
    return [
        ("done", f"{fmt.count(v.count)} in the last {fmt.span(round(v.covered_s))}"),
        ("avg rate", fmt.rate(v.rate_per_s)),
        ("failed", f"{fmt.count(v.errors)} ({fmt.percent(rate)})"),
        ("timeouts", fmt.count(v.timeouts)),
        (
            "p50/p95",
            f"{fmt.percentile(lat.count, lat.p50_ns)} / {fmt.percentile(lat.count, lat.p95_ns)}",
        ),
        ("p99/max", f"{fmt.percentile(lat.count, lat.p99_ns)} / {fmt.duration(lat.max_ns)}"),
        ("min/mean", f"{fmt.duration(lat.min_ns)} / {fmt.duration(lat.mean_ns)}"),
    ]


def box_room(screen: PoolmonScreen, selector: str) -> int:
    """The room a panel's border caption has (see `_caption_room`)."""
    return caption_room(screen.query_one(selector, Static))


class OperationDetailScreen(PoolmonScreen):
    """Everything known about one operation over the window."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("E", "failures", "Failures"),
        Binding("escape", "app.pop_screen", "Back"),
    ]
    """
    | Key | Action |
    | :- | :- |
    | `E` | This operation's recent failures (enter there: the traceback). |
    | `escape` | Back to the operations view. |
    """

    DEFAULT_CSS = """
    OperationDetailScreen #op-top { height: 1fr; min-height: 9; }
    OperationDetailScreen #op-summary {
        width: 34; border: round $primary 50%; border-title-color: $text; padding: 0 1;
    }
    OperationDetailScreen LatencyHistogram { width: 1fr; }
    OperationDetailScreen #op-charts { height: 1fr; min-height: 7; }
    OperationDetailScreen #op-charts > SeriesChart { width: 1fr; }
    OperationDetailScreen #op-bottom { height: 1fr; min-height: 5; }
    OperationDetailScreen #op-bottom > Static {
        border: round $primary 50%; border-title-color: $text;
        border-subtitle-color: $text-muted; padding: 0; height: 1fr;
    }
    /* error types and workers as wide as their words; the slowest tasks get the rest, so
       at 80 columns every name and figure fits whole */
    OperationDetailScreen #op-errors { width: auto; min-width: 16; max-width: 40; }
    OperationDetailScreen #op-slowest { width: 1fr; }
    OperationDetailScreen #op-workers { width: auto; min-width: 14; max-width: 30; }
    OperationDetailScreen.-wide #op-bottom > Static { padding: 0 1; }
    OperationDetailScreen.-wide #op-errors { width: 1fr; max-width: 100%; }
    OperationDetailScreen.-wide #op-slowest { width: 2fr; }
    OperationDetailScreen.-wide #op-workers { width: 1fr; max-width: 100%; }
    OperationDetailScreen.-compact #op-top { height: 9; }
    OperationDetailScreen.-compact #op-summary { width: 30; }
    OperationDetailScreen.-compact #op-charts { height: 7; }
    """

    def __init__(self, op: str) -> None:
        super().__init__()
        self.op = op
        """The operation this screen shows."""

    def compose_body(self) -> Iterable[Widget]:
        """Summary and histogram, the two charts, then errors, slowest tasks and workers."""
        yield Horizontal(Static(id="op-summary"), LatencyHistogram(), id="op-top")
        yield Horizontal(
            SeriesChart("Tasks/s", fmt.count, unit="/s", id="op-throughput"),
            SeriesChart("Errors/s", fmt.count, colour="error", unit="/s", id="op-failures"),
            id="op-charts",
        )
        yield Horizontal(
            Static(id="op-errors"),
            Static(id="op-slowest"),
            Static(id="op-workers"),
            id="op-bottom",
        )

    def action_failures(self) -> None:
        """Open the recent failures of this operation."""
        self.app.open_failures(self.op)  # type: ignore[attr-defined]

    def show_body(self, frame: Frame) -> None:
        """Show the frame's operation detail."""
        d = frame.operation if frame.operation is not None else OperationDetail(self.op)
        now = frame.snapshot.taken_at_ns
        muted = theme_hex(self.app, "text-muted")
        summary = self.query_one("#op-summary", Static)
        summary.border_title = f"Operation {self.op}"
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style=muted, no_wrap=True)
        grid.add_column(overflow="fold")
        for key, value in op_facts(d):
            grid.add_row(key, value)
        summary.update(grid)
        for chart_id, series in (("#op-throughput", d.throughput), ("#op-failures", d.failures)):
            chart = self.query_one(chart_id, SeriesChart)
            chart.now_ns = now
            chart.window_s = frame.window_s
            chart.series = series
        histogram = self.query_one(LatencyHistogram)
        histogram.label = self.op
        histogram.histogram = d.histogram
        if d.view is not None:
            histogram.latency = d.view.latency
        self._errors(d)
        self._slowest(d, now)
        self._workers(d)

    def _panel(self, selector: str, title: str, subtitle: str) -> Static:
        box = self.query_one(selector, Static)
        box.border_title = title
        box.border_subtitle = subtitle
        return box

    def _errors(self, d: OperationDetail) -> None:
        box = self._panel("#op-errors", "Error types", "E: failures")
        table = Table.grid(padding=(0, 1))
        width = max((len(fmt.count(n)) for _, n in d.error_types), default=1)
        table.add_column(justify="right", no_wrap=True, min_width=width)
        table.add_column(overflow="fold")  # a type's name is never cut
        error = theme_hex(self.app, "error")
        for name, n in d.error_types:
            table.add_row(fmt.count(n), Text(name, style=error))
        if d.unattributed:
            table.add_row(fmt.count(d.unattributed), "type not known (from history)")
        box.update(table if table.row_count else Text("no failures in the window"))

    def _slowest(self, d: OperationDetail, now_ns: int) -> None:
        box = self._panel(
            "#op-slowest", "Slowest recent tasks", f"of each worker's last {d.recent_per_worker}"
        )
        if not d.slowest:
            box.update(Text("no recent task of this operation is kept"))
            return
        error = theme_hex(self.app, "error")
        muted = theme_hex(self.app, "text-muted")
        table = Table.grid(padding=(0, 1))
        id_width = max(len(str(t.task.task_id)) for t in d.slowest)
        for width in (id_width, 6, 6, 6):  # the figures whole; the outcome gets the rest
            table.add_column(justify="right", no_wrap=True, min_width=width)
        table.add_column(overflow="fold")  # an error type is never cut
        heads = ("task", "worker", "took", "ended", "outcome")
        table.add_row(*(Text(h, style=muted) for h in heads))
        for slow in d.slowest:
            t = slow.task
            ended = max(0, now_ns - t.start_ns - t.duration_ns)
            table.add_row(
                str(t.task_id),
                str(slow.worker_id),
                fmt.duration(t.duration_ns),
                f"-{fmt.duration(ended)}" if ended else "now",
                Text(outcome(t), style="" if t.status == "ok" else error),
            )
        box.update(table)

    def _workers(self, d: OperationDetail) -> None:
        last = d.recent_per_worker
        subtitle = (
            f"of their last {last}" if box_room(self, "#op-workers") >= 16 else f"last {last}"
        )
        box = self._panel("#op-workers", "Workers", subtitle)
        if not d.workers:
            box.update(Text("no worker ran it recently"))
            return
        muted = theme_hex(self.app, "text-muted")
        table = Table.grid(padding=(0, 1))
        table.add_column(justify="right", no_wrap=True, min_width=2)
        table.add_column(justify="right", no_wrap=True, min_width=5)
        table.add_column(no_wrap=True)
        table.add_row(*(Text(h, style=muted) for h in ("id", "tasks", "now")))
        for w in d.workers:
            now = "running" if w.running else ("gone" if not w.alive else "")
            table.add_row(str(w.worker_id), str(w.recent), now)
        box.update(table)
