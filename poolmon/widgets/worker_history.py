"""A worker's state changes and past exits (why, how, after how long), newest first.

Busy/ready flips (one pair per task) arrive collapsed by the aggregator into one entry per
run; it is written `busy ⇄ ready` with the number of flips, at the time the run began.
"""

from __future__ import annotations

from rich.console import Group
from rich.style import Style
from rich.text import Text
from textual.app import App, RenderResult
from textual.reactive import reactive
from textual.widget import Widget

from poolmon.core.handlers import exit_state
from poolmon.core.snapshot import WorkerView
from poolmon.core.workers import CHURN_PREFIX, churn_count
from poolmon.widgets import _format as fmt
from poolmon.widgets._hanging import hanging_lines
from poolmon.widgets._theme import theme_hex

_STATE_COLOUR = {
    "degraded": "warning",
    "stopping": "warning",
    "stopped": "text-muted",
    "crashed": "error",
    "killed": "warning",
    "failed": "error",
    "recycled": "text-muted",
    "retired": "text-muted",
    "starting": "accent",
    "ready": "success",
}


def state_style(app: App[object], state: str) -> Style:
    """The colour a state is written in: trouble stands out, routine does not."""
    colour = _STATE_COLOUR.get(state)
    return Style(color=theme_hex(app, colour)) if colour else Style()


class WorkerHistory(Widget):
    """Exits first (they explain restarts), then the state transitions."""

    DEFAULT_CSS = """
    WorkerHistory {
        border: round $primary 50%;
        border-title-color: $text;
        height: 1fr;
        padding: 0 1;
    }
    """

    worker: reactive[WorkerView | None] = reactive(None, always_update=True)
    """The worker whose history is shown."""

    def on_mount(self) -> None:
        """Name the panel."""
        self.border_title = "Exits and states"

    def render(self) -> RenderResult:
        """List exits, then state changes, newest first, as many as fit."""
        w = self.worker
        muted = Style(color=theme_hex(self.app, "text-muted"))
        rows: list[Text] = []
        if w is None:
            return Text("no data", style=muted)
        width = self.content_size.width
        console = self.app.console
        for ex in sorted(w.exits, key=lambda e: -e.at_ns):
            body = Text()  # an exit wraps rather than lose its cause at the edge
            body.append(f"exit {ex.reason}", style=state_style(self.app, exit_state(ex.reason)))
            body.append(
                f" pid {ex.pid}, {fmt.exit_cause(ex.exit_code, ex.signal)}, after "
                f"{fmt.age(ex.lifetime_ns)}, {ex.tasks_done:,} tasks"
            )
            rows.extend(
                hanging_lines(Text(f"{fmt.clock(ex.at_ns)} ", style=muted), body, width, console)
            )
        for change in sorted(w.state_history, key=lambda c: -c.at_ns):
            body = Text()  # a state change wraps too: `rea…` read as nothing
            flips = churn_count(change)
            if flips is not None:  # one task after another: a single line, however many
                body.append(f"busy ⇄ ready {CHURN_PREFIX}{flips:,}", style=muted)
            else:
                if change.from_state != "unknown":  # the first state has no "from"
                    body.append(f"{change.from_state} → ")
                body.append(change.to_state, style=state_style(self.app, change.to_state))
                if change.reason:
                    body.append(f" ({change.reason})", style=muted)
            time = Text(f"{fmt.clock(change.at_ns)} ", style=muted)
            rows.extend(hanging_lines(time, body, width, console))
        if not rows:
            rows.append(Text("no exits or state changes recorded", style=muted))
        return Group(*rows[: max(1, self.content_size.height)])
