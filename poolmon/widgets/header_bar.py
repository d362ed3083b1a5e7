"""The top line: which pool, how long it has run, the connection state, window and modes.

The connection state is the first thing to check when numbers look odd, so it sits in the
header with a symbol and colour per state (connecting, live, stale, disconnected).
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

STATE_LOOK: dict[str, tuple[str, str]] = {
    "connecting": ("◌ connecting", "warning"),
    "live": ("● live", "success"),
    "stale": ("◐ stale", "warning"),
    "disconnected": ("○ disconnected", "error"),
}
"""Label and theme colour of each connection state."""


class HeaderBar(Widget):
    """One line: pool identity and uptime, connection state, window, paused / read-only flags."""

    DEFAULT_CSS = """
    HeaderBar {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    snapshot: reactive[PoolSnapshot | None] = reactive(None, always_update=True)
    """The snapshot shown (identity, uptime and size come from it)."""

    state: reactive[str] = reactive("connecting")
    """The connection state: connecting, live, stale or disconnected."""

    window_s: reactive[int] = reactive(60)
    """The chosen window in seconds."""

    paused: reactive[bool] = reactive(False)
    """Whether the screen is frozen (data keeps arriving underneath)."""

    read_only: reactive[bool] = reactive(False)
    """Whether tuning commands are disabled."""

    def render(self) -> RenderResult:
        """Compose the line from the current values."""
        snap = self.snapshot
        muted = Style(color=theme_hex(self.app, "text-muted"))
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(" poolmon ", style=Style(bold=True, color=theme_hex(self.app, "primary")))
        if snap is not None and snap.pool.pid:
            info = snap.pool
            line.append(info.name or "pool", style=Style(bold=True))
            line.append(f" pid {info.pid}", style=muted)
            if info.host:
                line.append(f"@{info.host}", style=muted)
            until = snap.data_until_ns or snap.taken_at_ns  # frozen while disconnected
            if info.started_at_ns and until >= info.started_at_ns:
                line.append(f" up {fmt.age(until - info.started_at_ns)}", style=muted)
        label, colour = STATE_LOOK.get(self.state, (self.state, "text-muted"))
        line.append("  ")
        line.append(label, style=Style(bold=True, color=theme_hex(self.app, colour)))
        line.append(f"  window {fmt.window(self.window_s)}")
        if snap is not None and snap.pool.pid:
            line.append(f"  {fmt.count(snap.size)} workers", style=muted)
            line.append(f" {fmt.count(snap.busy)} busy", style=muted)
        if self.paused:
            line.append("  ")
            line.append(
                " PAUSED ",
                style=Style(bold=True, reverse=True, color=theme_hex(self.app, "warning")),
            )
        if self.read_only:
            line.append("  ")
            line.append(
                " READ-ONLY ",
                style=Style(bold=True, reverse=True, color=theme_hex(self.app, "accent")),
            )
        if snap is not None and snap.taken_at_ns:
            clock = f"{fmt.clock(snap.taken_at_ns)} UTC "
            room = self.size.width - line.cell_len - len(clock)
            if room > 0:
                line.append(" " * room)
                line.append(clock, style=muted)
        return line
