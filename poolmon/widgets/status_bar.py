"""The line above the key footer: connection details, data loss and command results.

Things a user must not miss but that do not deserve a modal: why the connection dropped and
when the next attempt is, how many events were lost, gaps in the data, what a resize did.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual.reactive import reactive
from textual.widget import Widget

from poolmon.core.snapshot import PoolSnapshot
from poolmon.widgets import _format as fmt
from poolmon.widgets._theme import theme_hex


def gaps_in_window(snapshot: PoolSnapshot) -> int:
    """Gaps that overlap the snapshot's window (the snapshot lists an hour of them)."""
    first_ns = snapshot.taken_at_ns - snapshot.window_s * 1_000_000_000
    return sum(1 for _, end_ns in snapshot.gaps if end_ns > first_ns)


class StatusBar(Widget):
    """One line of status text; the most important message first."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $surface;
        color: $text-muted;
        padding: 0 1;
    }
    """

    detail: reactive[str] = reactive("")
    """The connection detail (e.g. the reason of a disconnection and the next retry)."""

    severity: reactive[str] = reactive("info")
    """How to colour `detail`: info, warning or error."""

    dropped: reactive[int] = reactive(0)
    """Events lost in transport since attaching."""

    gaps: reactive[int] = reactive(0)  # gaps_in_window() of the shown snapshot
    """Gaps in the data within the window."""

    message: reactive[str] = reactive("")
    """The latest command result or hint."""

    @property
    def has_text(self) -> bool:
        """Whether there is anything to say (the screen hides the line otherwise)."""
        return bool(self.detail or self.gaps or self.dropped or self.message)

    def render(self) -> RenderResult:
        """Join the parts that have something to say."""
        line = Text(no_wrap=True, overflow="ellipsis")
        if self.detail:
            colour = {"warning": "warning", "error": "error"}.get(self.severity, "text-muted")
            line.append(self.detail, style=Style(color=theme_hex(self.app, colour)))
        extras = []
        if self.gaps:
            extras.append(f"{self.gaps} gap{'s' if self.gaps != 1 else ''} in window")
        if self.dropped:
            extras.append(f"{fmt.count(self.dropped)} events lost")
        if self.message:
            extras.append(self.message)
        for extra in extras:
            if line.cell_len:
                line.append(" · ")
            line.append(extra)
        return line
