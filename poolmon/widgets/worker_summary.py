"""A worker's vital numbers as a two-column list, for the drill-down's top-left corner."""

from __future__ import annotations

from rich.style import Style
from rich.table import Table
from textual.app import RenderResult
from textual.reactive import reactive
from textual.widget import Widget

from poolmon.core.snapshot import WorkerView
from poolmon.widgets import _format as fmt
from poolmon.widgets._theme import theme_hex


class WorkerSummary(Widget):
    """Identity, state, counters, latency percentiles and resources of one worker."""

    DEFAULT_CSS = """
    WorkerSummary {
        border: round $primary 50%;
        border-title-color: $text;
        width: 34;
        height: 1fr;
        padding: 0 1;
    }
    """

    worker: reactive[WorkerView | None] = reactive(None, always_update=True)
    """The worker shown; None when it is unknown (never seen, or forgotten)."""

    def watch_worker(self, worker: WorkerView | None) -> None:
        """Title the panel with the worker id."""
        self.border_title = "Worker" if worker is None else f"Worker {worker.worker_id}"

    def render(self) -> RenderResult:
        """The key/value table."""
        w = self.worker
        muted = Style(color=theme_hex(self.app, "text-muted"))
        table = Table.grid(padding=(0, 1))
        table.add_column(style=muted, no_wrap=True)
        table.add_column(no_wrap=True, overflow="ellipsis")
        if w is None:
            table.add_row("", "no data for this worker in the window")
            return table
        state = w.state if w.alive else f"{w.state} (gone)"
        task = ""
        if w.current_op:
            age = fmt.task_age(w.current_task_age_ns, w.current_task_age_at_most)
            task = f"{w.current_op} for {age}"
        lat = w.latency
        for key, value in (
            ("pid", str(w.pid or fmt.NO_DATA)),
            ("state", state),
            ("task", task or "—"),
            ("done", f"{fmt.count(w.tasks_done)}  failed {fmt.count(w.tasks_failed)}"),
            ("restarts", str(w.restarts)),
            ("p50/p99", f"{fmt.duration(lat.p50_ns)} / {fmt.duration(lat.p99_ns)}"),
            ("max", fmt.duration(lat.max_ns)),
            ("cpu", fmt.cpu(w.cpu_percent)),
            ("rss", fmt.size_bytes(w.rss_bytes)),
            ("fds/thr", f"{fmt.count(w.fds)} / {fmt.count(w.threads)}"),
        ):
            table.add_row(key, value)
        return table
