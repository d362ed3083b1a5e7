"""One failed task (enter on a failure): what raised, where, and the full remote traceback.

The facts on top (task, operation, worker and pid, exception type, when, how long it ran,
the message in full), the traceback below in a scrollable box that has the focus, so
up/down/page up/page down/home/end read it at once. The failure is a frozen record, so the
screen shows it as it was even after it leaves the ring of recent failures.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from poolmon.core.failures import TRACEBACK_CAP, TaskFailure
from poolmon.screens.base import PoolmonScreen
from poolmon.screens.frame import Frame
from poolmon.widgets import _format as fmt
from poolmon.widgets._theme import theme_hex


def failure_facts(f: TaskFailure, now_ns: int) -> list[tuple[str, str]]:
    """The failure's facts as (field, value) rows, in reading order."""
    when = f"{fmt.clock(f.at_ns)} UTC ({fmt.age(max(0, now_ns - f.at_ns))} ago)"
    return [
        ("Exception", f.error_type),
        ("Message", f.message or "(no message)"),
        ("Task", str(f.task_id)),
        ("Operation", f.op),
        ("Worker", f"{f.worker_id} (pid {f.pid or fmt.NO_DATA})"),
        ("When", when),
        ("Ran for", fmt.duration(f.duration_ns)),
    ]


class FailureDetailScreen(PoolmonScreen):
    """A failed task's facts and scrollable traceback; escape goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
    ]
    """
    | Key | Action |
    | :- | :- |
    | `up` `down` `pageup` `pagedown` `home` `end` | Scroll the traceback. |
    | `escape` | Back. |
    """

    DEFAULT_CSS = """
    FailureDetailScreen #failure-facts {
        height: auto;
        max-height: 45%;
        border: round $error 60%;
        border-title-color: $text;
        padding: 0 1;
    }
    FailureDetailScreen #traceback {
        height: 1fr;
        border: round $primary 50%;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        padding: 0 1;
    }
    FailureDetailScreen #traceback:focus { border: round $primary; }
    """

    def __init__(self, failure: TaskFailure) -> None:
        super().__init__()
        self.failure = failure
        """The failure shown."""

    def compose_body(self) -> Iterable[Widget]:
        """Facts, then the traceback."""
        yield Static(id="failure-facts")
        with VerticalScroll(id="traceback") as box:
            box.can_focus = True
            yield Static(id="traceback-text")

    def on_mount(self) -> None:
        """Fill the traceback once (it never changes) and give its box the focus."""
        super().on_mount()
        f = self.failure
        box = self.query_one("#traceback", VerticalScroll)
        box.border_title = "Remote traceback"
        box.border_subtitle = (
            f"{len(f.traceback.splitlines())} lines · at most {TRACEBACK_CAP:,} characters "
            "kept · ↑↓ pgup pgdn scroll"
        )
        text = f.traceback.rstrip() or "(the pool sent no traceback for this failure)"
        self.query_one("#traceback-text", Static).update(Text(text, no_wrap=False))
        box.focus()

    def show_body(self, frame: Frame) -> None:
        """The facts (only "how long ago" changes with the frame)."""
        facts = self.query_one("#failure-facts", Static)
        facts.border_title = f"Task {self.failure.task_id} failed"
        table = Table.grid(padding=(0, 1))
        table.add_column(style=theme_hex(self.app, "text-muted"), no_wrap=True)
        table.add_column(overflow="fold")
        error = theme_hex(self.app, "error")
        for key, value in failure_facts(self.failure, frame.snapshot.taken_at_ns):
            table.add_row(key, Text(value, style=error if key == "Exception" else ""))
        facts.update(table)
