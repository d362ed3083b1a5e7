"""One alert's details (enter on an alert): everything the pool says about it, and its values.

The facts (left, or on top when the terminal is tall): the rule, its expression, labels,
annotations, state and times, the acknowledgment, the silences muting it, and the current
value against the threshold. The chart: the rule's value at its latest evaluations against
the threshold line. `k` acknowledges, `S` silences, `u` removes the one silence muting it;
escape goes back. If the alert leaves the pool's state (it resolved long ago, or the pool
restarted) the last known details stay, marked as such.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from poolmon.core.alerts.model import Alert, AlertsView
from poolmon.screens.alert_actions import AlertActionsScreen
from poolmon.screens.frame import Frame
from poolmon.widgets import _alert_format as af
from poolmon.widgets import _format as fmt
from poolmon.widgets._theme import theme_hex
from poolmon.widgets.alert_chart import AlertChart
from poolmon.widgets.silence_table import ends_in


def when(ts_ns: int | None, now_ns: int) -> str:
    """`12:03:07 UTC (3m12s ago)`, or "—"."""
    if not ts_ns:
        return "—"
    return f"{fmt.clock(ts_ns)} UTC ({fmt.age(max(0, now_ns - ts_ns))} ago)"


def facts(alert: Alert, view: AlertsView | None, now_ns: int) -> list[tuple[str, str]]:
    """The details as (field, value) rows, in reading order."""
    rows = [
        ("Rule", alert.rule),
        ("Severity", alert.severity),
        (
            "State",
            alert.display_state
            + ("" if alert.display_state == alert.state else f" ({alert.state})"),
        ),
        ("Value", af.value_vs_threshold(alert)),
        ("Expression", alert.expr or "—"),
        ("Window", fmt.age(alert.window_s * 1_000_000_000) if alert.window_s else "—"),
        ("Labels", " ".join(f"{k}={v}" for k, v in alert.labels)),
    ]
    rows += [(k.capitalize(), v) for k, v in alert.annotations]
    rows += [
        ("Active since", when(alert.active_since_ns, now_ns)),
        ("Fired", when(alert.fired_at_ns, now_ns)),
    ]
    if alert.resolved_at_ns:
        rows.append(("Resolved", when(alert.resolved_at_ns, now_ns)))
    rows.append(("Evaluated", when(alert.last_eval_ns, now_ns)))
    if alert.ack is not None:
        comment = f": {alert.ack.comment}" if alert.ack.comment else ""
        rows.append(("Acked", f"by {alert.ack.by}, {when(alert.ack.at_ns, now_ns)}{comment}"))
    silences = {s.id: s for s in view.silences} if view else {}
    for sid in alert.silenced_by:
        s = silences.get(sid)
        text = (
            sid
            if s is None
            else (
                f"{sid} ({' '.join(str(m) for m in s.matchers)}) by {s.created_by or '—'}, "
                f"ends in {ends_in(s, now_ns)}" + (f": {s.comment}" if s.comment else "")
            )
        )
        rows.append(("Silenced", text))
    if alert.inhibited_by:
        rows.append(("Inhibited by", alert.inhibited_by))
    rows.append(("Id", alert.id))
    return rows


class AlertDetailScreen(AlertActionsScreen):
    """Everything known about one alert (see module doc)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back")]
    """
    | Key | Action |
    | :- | :- |
    | `escape` | Back to the previous screen. |
    """

    DEFAULT_CSS = """
    AlertDetailScreen #alert-body { height: 1fr; layout: vertical; }
    AlertDetailScreen #alert-facts-box {
        height: auto;
        max-height: 60%;
        border: round $primary 50%;
        border-title-color: $text;
        padding: 0 1;
    }
    AlertDetailScreen AlertChart { height: 1fr; min-height: 8; }
    AlertDetailScreen.-compact #alert-body { layout: horizontal; }
    AlertDetailScreen.-compact #alert-facts-box { width: 1fr; height: 1fr; max-height: 100%; }
    AlertDetailScreen.-compact AlertChart { width: 1fr; }
    """

    def __init__(self, alert_id: str) -> None:
        super().__init__()
        self.alert_id = alert_id
        """The alert shown."""
        self.alert: Alert | None = None
        """Its latest known state."""
        self.gone = False
        """Whether the alert is no longer in the pool's alert state."""

    def compose_body(self) -> Iterable[Widget]:
        """Facts on the left, the chart on the right."""
        box = VerticalScroll(Static("", id="alert-facts"), id="alert-facts-box")
        box.border_title = "Alert"
        yield Horizontal(box, AlertChart(), id="alert-body")

    def show_body(self, frame: Frame) -> None:
        """Show the alert as the frame's alert state has it."""
        view = frame.snapshot.alerts
        found = view.by_id(self.alert_id) if view else None
        if found is not None:
            self.alert = found
        self.gone = found is None
        chart = self.query_one(AlertChart)
        if view is not None:
            chart.kept_s = view.resolved_retention_s
        chart.alert = self.alert
        box = self.query_one("#alert-facts-box")
        if self.alert is None:
            box.border_title = f"Alert {self.alert_id}"
            self.query_one("#alert-facts", Static).update(
                f"Alert {self.alert_id} is not in the pool's alert state."
            )
            return
        colour = theme_hex(self.app, af.SEVERITY_COLOUR.get(self.alert.severity, "text"))
        box.border_title = (
            f"[{colour}]{af.severity_glyph(self.alert.severity)}[/] {self.alert.rule}"
        )
        table = Table.grid(padding=(0, 1))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")  # a long label folds; an ellipsis would lose it
        for name, value in facts(self.alert, view, frame.snapshot.taken_at_ns):
            table.add_row(name, Text(value))
        if self.gone:
            table.add_row(
                "", Text("no longer in the pool's alert state; last known details", style="italic")
            )
        self.query_one("#alert-facts", Static).update(table)

    def selected_alert(self) -> Alert | None:
        """The alert shown (the keys act on it)."""
        return None if self.gone else self.alert
