"""The alerts screen (`a`): active alerts, the history of resolved ones, and silences.

Three tabs, a table each (`tab` / `shift+tab` switch). On an alert, enter opens its details,
`k` acknowledges it and `S` silences alerts like it; on a silence (or an alert muted by one),
`u` removes it. A line under the tabs says how many rules the pool runs, when it last
evaluated them, and what is wrong with alerting itself (rules disabled, notifications dropped).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import Static, TabbedContent, TabPane

from poolmon.core.alerts.model import Alert, Silence
from poolmon.screens.alert_actions import AlertActionsScreen
from poolmon.screens.alert_detail import AlertDetailScreen
from poolmon.screens.frame import Frame
from poolmon.widgets import _format as fmt
from poolmon.widgets.alert_table import AlertTable
from poolmon.widgets.silence_table import SilenceTable

TABS = ("active", "history", "silences")
"""Tab ids, in order."""


class AlertsScreen(AlertActionsScreen):
    """Every alert the pool reports, and its silences."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("tab", "switch_tab(1)", "Next tab", show=False),
        Binding("shift+tab", "switch_tab(-1)", "Previous tab", show=False),
    ]
    """
    | Key | Action |
    | :- | :- |
    | `enter` | Details of the selected alert. |
    | `tab` `shift+tab` | Next / previous tab. |
    | `escape` | Back. |
    """

    DEFAULT_CSS = """
    AlertsScreen #alerts-summary { height: 1; padding: 0 1; color: $text-muted; }
    AlertsScreen TabbedContent { height: 1fr; }
    AlertsScreen TabPane { padding: 0; }
    """

    def compose_body(self) -> Iterable[Widget]:
        """The summary line and the three tabs."""
        yield Static("", id="alerts-summary")
        tabs = TabbedContent(id="alert-tabs")
        tabs.compose_add_child(
            TabPane("Active", AlertTable("active", id="active-table"), id="active")
        )
        tabs.compose_add_child(
            TabPane("History", AlertTable("history", id="history-table"), id="history")
        )
        tabs.compose_add_child(TabPane("Silences", SilenceTable(id="silence-table"), id="silences"))
        yield tabs

    def on_mount(self) -> None:
        """Start in the active table."""
        super().on_mount()
        self.query_one("#active-table", AlertTable).focus()

    def show_body(self, frame: Frame) -> None:
        """Fill the tables and the tab labels from the alert state."""
        # durations stop where the pool was last heard; a silence ends at its wall-clock time
        view, now = frame.snapshot.alerts, frame.snapshot.seen_at_ns
        active = [a for a in view.alerts if a.state != "resolved"] if view else []
        resolved = [a for a in view.alerts if a.state == "resolved"] if view else []
        # an alert resolved in the last 15 minutes is in both lists (the engine's view keeps it
        # among `alerts` and it heads `history`): list it once, or the table refuses its key
        history = list({a.id: a for a in (*(view.history if view else ()), *resolved)}.values())
        silences = list(view.silences) if view else []
        self.query_one("#active-table", AlertTable).show(view.alerts if view else (), now)
        self.query_one("#history-table", AlertTable).show(history, now)
        self.query_one("#silence-table", SilenceTable).show(silences, frame.snapshot.taken_at_ns)
        tabs = self.query_one(TabbedContent)
        for pane, label, n in (
            ("active", "Active", len(active)),
            ("history", "History", len(history)),
            ("silences", "Silences", len(silences)),
        ):
            tabs.get_tab(pane).label = f"{label} {n}"
        self.query_one("#alerts-summary", Static).update(self._summary(frame))

    def _summary(self, frame: Frame) -> str:
        view = frame.snapshot.alerts
        if view is None:
            return "alerting: no data (the pool has sent no alert state yet)"
        parts = [f"{view.rules} rules"]
        if view.evaluated_at_ns:
            age = max(0, frame.snapshot.taken_at_ns - view.evaluated_at_ns)
            parts.append(f"evaluated {fmt.age(age)} ago")
        if view.disabled:
            names = ", ".join(d.rule for d in view.disabled)
            parts.append(f"{len(view.disabled)} disabled ({names})")
        if view.notifications_dropped:
            parts.append(f"{fmt.count(view.notifications_dropped)} notifications dropped")
        return " · ".join(parts)

    # -- selection ---------------------------------------------------------------------------

    @property
    def active_tab(self) -> str:
        """The id of the tab shown (active, history or silences)."""
        return self.query_one(TabbedContent).active or "active"

    def selected_alert(self) -> Alert | None:
        """The alert under the cursor of the active or history table."""
        view = self.view
        if view is None or self.active_tab == "silences":
            return None
        table = self.query_one(f"#{self.active_tab}-table", AlertTable)
        return view.by_id(table.selected_id) if table.selected_id else None

    def selected_silence(self) -> Silence | None:
        """The silence under the cursor, or the one muting the selected alert."""
        view = self.view
        if view is not None and self.active_tab == "silences":
            sid = self.query_one(SilenceTable).selected_id
            return next((s for s in view.silences if s.id == sid), None)
        return super().selected_silence()

    # -- navigation --------------------------------------------------------------------------

    def action_switch_tab(self, step: int) -> None:
        """Show the next (1) or previous (-1) tab and put the cursor in its table."""
        index = (TABS.index(self.active_tab) + step) % len(TABS)
        self.query_one(TabbedContent).active = TABS[index]
        self._focus_table()

    @on(TabbedContent.TabActivated)
    def _focus_table(self) -> None:
        tab = self.active_tab
        table_id = "#silence-table" if tab == "silences" else f"#{tab}-table"
        self.query_one(table_id).focus()

    @on(AlertTable.AlertChosen)
    def _open_alert(self, event: AlertTable.AlertChosen) -> None:
        self.app.push_screen(AlertDetailScreen(event.alert_id))
