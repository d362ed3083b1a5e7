"""The alert panel: active alerts, most severe first; a fixed place on the overview.

Alert rules and acknowledgment arrive with the alerting work; until then the panel shows the
alerts it is given (none), so the layout and the keys' home do not move when they land.
"""

from __future__ import annotations

from rich.console import Group
from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual.reactive import reactive
from textual.widget import Widget

from poolmon.widgets._theme import theme_hex

SEVERITY_ORDER = ("emergency", "critical", "warning", "info")
"""Severities, most severe first."""


class AlertPanel(Widget):
    """A list of `(severity, text)` alerts, or a quiet line saying there are none."""

    DEFAULT_CSS = """
    AlertPanel {
        border: round $warning 40%;
        border-title-color: $text;
        height: 1fr;
        min-height: 3;
        padding: 0 1;
    }
    """

    alerts: reactive[tuple[tuple[str, str], ...]] = reactive(())
    """Active alerts as `(severity, message)`."""

    def on_mount(self) -> None:
        """Name the panel."""
        self.border_title = "Alerts"

    def watch_alerts(self, alerts: tuple[tuple[str, str], ...]) -> None:
        """Count them in the title."""
        self.border_title = f"Alerts {len(alerts)}" if alerts else "Alerts"

    def render(self) -> RenderResult:
        """List the alerts, most severe first."""
        if not self.alerts:
            return Text("no active alerts", style=Style(color=theme_hex(self.app, "text-muted")))
        rank = {s: i for i, s in enumerate(SEVERITY_ORDER)}
        colour = {"emergency": "error", "critical": "error", "warning": "warning"}
        rows = []
        for severity, message in sorted(self.alerts, key=lambda a: rank.get(a[0], 9)):
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append(
                f"{severity.upper():<8} ",
                style=Style(
                    bold=True, color=theme_hex(self.app, colour.get(severity, "text-muted"))
                ),
            )
            line.append(message)
            rows.append(line)
        return Group(*rows)
