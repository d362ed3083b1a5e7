"""The overview's alert panel: the pool's active alerts, most severe first.

Each alert shows its severity (colour and shape), name, the labels that tell its instances
apart (op, worker), the value against the threshold in the metric's unit, how long it has been
in its state, and its display state: pending, firing, acked, silenced or inhibited. Alerts
that resolved a moment ago stay at the end, dimmed, as Prometheus keeps them for a while.

Wide panels use one line per alert; narrow ones (80 columns) two. What does not fit is
counted ("+2 more") and the border names the key of the alerts screen, which has them all.
Before the pool has sent any alert state the panel says "alerting: no data", never "no
active alerts": nobody has checked yet. While the connection is down the alerts are as the
pool last sent them: the title says "(last seen)" and their durations stop at the last data.
"""

from __future__ import annotations

from rich.console import Group
from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual.reactive import reactive
from textual.widget import Widget

from poolmon.core.alerts.model import Alert, AlertsView
from poolmon.widgets import _alert_format as af
from poolmon.widgets._theme import theme_hex

WIDE = 84
"""Content width from which each alert takes one line instead of two."""


def panel_order(alerts: tuple[Alert, ...]) -> list[Alert]:
    """Active alerts most severe and most urgent first; recently resolved ones last."""
    return sorted(alerts, key=lambda a: (a.display_state == "resolved", af.display_key(a)))


class AlertPanel(Widget):
    """The active alerts of the pool's latest alert state (see module doc)."""

    DEFAULT_CSS = """
    AlertPanel {
        border: round $warning 40%;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        height: 1fr;
        min-height: 3;
        padding: 0 1;
    }
    AlertPanel.-firing { border: round $error 70%; }
    """

    view: reactive[AlertsView | None] = reactive(None, always_update=True)
    """The pool's alert state; None until it has sent one."""

    now_ns: reactive[int] = reactive(0)
    """When the alert state was last known, for how long each alert has been in its state."""

    last_seen_ns: reactive[int | None] = reactive(None)
    """While the connection is down: the time of the last data (the title says so)."""

    def on_mount(self) -> None:
        """Name the panel."""
        self.border_title = "Alerts"

    def watch_view(self, view: AlertsView | None) -> None:
        """Count active alerts in the title; a firing one turns the border red."""
        active = [a for a in view.alerts if a.state != "resolved"] if view else []
        self._update_title()
        self.border_subtitle = "a: alerts" if view is not None else ""
        self.set_class(any(a.display_state == "firing" for a in active), "-firing")

    def watch_last_seen_ns(self) -> None:
        """Say in the title that the alerts are as the dead or unreachable pool last sent them."""
        self._update_title()

    def _update_title(self) -> None:
        view = self.view
        active = sum(a.state != "resolved" for a in view.alerts) if view else 0
        title = f"Alerts {active}" if active else "Alerts"
        if self.last_seen_ns is not None and self.view is not None:
            title += " (last seen)"
        self.border_title = title

    def render(self) -> RenderResult:
        """The alert lines, or why there are none."""
        muted = Style(color=theme_hex(self.app, "text-muted"))
        view = self.view
        if view is None:
            return Text("alerting: no data\n(the pool has sent no alert state)", style=muted)
        alerts = panel_order(view.alerts)
        if not alerts:
            rules = f" · {view.rules} rules" if view.rules else ""
            return Text(f"no active alerts{rules}", style=muted)
        width, height = self.content_size.width, max(1, self.content_size.height)
        per_alert = 1 if width >= WIDE else 2
        fits = len(alerts) if len(alerts) * per_alert <= height else (height - 1) // per_alert
        lines: list[Text] = []
        for alert in alerts[: max(0, fits)]:
            lines.extend(self._alert_lines(alert, width, per_alert == 1))
        if fits < len(alerts):
            states: dict[str, int] = {}
            for alert in alerts[max(0, fits) :]:
                states[alert.display_state] = states.get(alert.display_state, 0) + 1
            what = ", ".join(f"{n} {state}" for state, n in states.items())
            more = f"+{len(alerts) - fits} more: {what}"
            if len(more) > width:
                more = f"+{len(alerts) - fits} more"
            lines.append(Text(more, style=muted))
        return Group(*lines)

    def _alert_lines(self, alert: Alert, width: int, wide: bool) -> list[Text]:
        colour = theme_hex(self.app, af.SEVERITY_COLOUR.get(alert.severity, "text-muted"))
        state, state_colour = af.STATE_LOOK.get(alert.display_state, (alert.display_state, "text"))
        dim = alert.display_state in ("resolved", "silenced", "inhibited")
        muted = Style(color=theme_hex(self.app, "text-muted"))
        tail = Text(no_wrap=True)
        tail.append(
            state,
            style=Style(bold=state == "firing", color=theme_hex(self.app, state_colour)),
        )
        tail.append(f" {af.since(alert, self.now_ns)}", style=muted)
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(f"{af.severity_glyph(alert.severity)} ", style=Style(color=colour))
        head.append(alert.rule, style=Style(bold=not dim, color=colour, dim=dim))
        value = af.value_vs_threshold(alert)
        labels = af.key_labels(alert)
        if wide:  # name labels ... value  state since
            if labels:
                head.append(f" {labels}", style=muted)
            room = width - tail.cell_len - len(value) - 4
            head.truncate(room, overflow="ellipsis", pad=True)
            head.append(f"  {value}  ")
            head.append_text(tail)
            return [head]
        # two lines: name ... state since / labels ... value
        head.truncate(width - tail.cell_len - 1, overflow="ellipsis", pad=True)
        head.append(" ")
        head.append_text(tail)
        if len(labels) + len(value) + 3 > width:
            labels = af.key_labels(alert, short=True)
        detail = Text("  " + labels, no_wrap=True, overflow="ellipsis", style=muted)
        detail.truncate(max(2, width - len(value) - 1), overflow="ellipsis", pad=True)
        detail.append(" " + value)
        return [head, detail]
