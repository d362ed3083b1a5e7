"""The stack modal: what one worker's running task is doing right now.

Opened with `x` in a worker's drill-down; `x` again asks the pool for a fresh stack, escape
closes. It shows what the pool's `worker_stack` command replied: who produced the stack
(py-spy or the in-worker dumper) and that producer's limits, the task's id, op, age and
arguments, then each frame (file:line function, and its source line), innermost first. The
app sends the command (screens never touch the source) and hands the reply to `show_reply`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from poolmon.core.stacks import format_stack


class StackScreen(ModalScreen[None]):
    """One worker's live stack, refreshed on demand."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x", "refresh_stack", "Refresh stack"),
        Binding("escape", "app.pop_screen", "Close"),
    ]
    """
    | Key | Action |
    | :- | :- |
    | `x` | Ask the pool for the worker's stack again. |
    | `escape` | Close. |
    """

    DEFAULT_CSS = """
    StackScreen { align: center middle; }
    StackScreen > Vertical {
        width: 96%;
        height: 90%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    StackScreen #stack-title { text-style: bold; }
    StackScreen #stack-hint { color: $text-muted; }
    """

    def __init__(self, worker_id: int) -> None:
        super().__init__()
        self.worker_id = worker_id
        """The worker whose stack this shows."""

    def compose(self) -> ComposeResult:
        """Title, the stack text (scrolls), and a one-line hint."""
        with Vertical():
            yield Static(f"Stack of worker {self.worker_id}", id="stack-title")
            with VerticalScroll():
                yield Static("asking the pool…", id="stack-body")
            yield Static("x refresh · escape close", id="stack-hint")

    def show_reply(self, reply: Mapping[str, Any] | None, error: str | None = None) -> None:
        """Show a `worker_stack` reply, or why there is none (the pool's refusal)."""
        body = self.query_one("#stack-body", Static)
        if reply is None:
            body.update(Text(f"no stack: {error or 'no reply'}", style="bold red"))
            return
        text = Text()
        for i, line in enumerate(format_stack(reply)):
            if line.startswith("      "):  # a frame's source line, under its frame
                text.append("  │ ", style="dim")
                text.append(line.strip() + "\n", style="italic")
            elif line.startswith("  "):  # a frame: file:line in function
                text.append(line.strip() + "\n", style="bold")
            else:
                text.append(line + "\n", style="dim" if i == 1 else "")
        body.update(text)

    def action_refresh_stack(self) -> None:
        """Ask again (the app sends the command and calls `show_reply`)."""
        self.app.show_worker_stack(self.worker_id)  # type: ignore[attr-defined]
