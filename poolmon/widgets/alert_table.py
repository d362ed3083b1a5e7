"""A table of alerts: the active ones, or the history of resolved ones with their durations.

Active: severity, name, display state, how long, the labels that matter, value against
threshold, and who acknowledged it or which silence mutes it (what matters most comes first,
so 80 columns show it without scrolling). History: severity, name, labels,
when it fired and resolved, how long it lasted, who acknowledged it. Rows are keyed by the
alert's id, so the selection survives every refresh; enter posts `AlertChosen`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from rich.style import Style
from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from poolmon.core.alerts.model import Alert
from poolmon.widgets import _alert_format as af
from poolmon.widgets import _format as fmt
from poolmon.widgets._cursor_in_view import CursorInView
from poolmon.widgets._keyed_rows import Row, replace_rows, selected_key
from poolmon.widgets._theme import theme_hex

Kind = Literal["active", "history"]

COLUMNS: dict[str, tuple[str, ...]] = {
    "active": ("", "Alert", "State", "For", "Labels", "Value", "Handled"),
    "history": ("", "Alert", "Labels", "Fired", "Resolved", "Lasted", "Acked by"),
}
"""Column headers of each kind of table."""

TWO_LINE_COLUMNS: dict[str, tuple[str, ...]] = {
    "active": ("", "Alert", "State", "Value"),
    "history": ("", "Alert", "Fired", "Lasted"),
}
"""Headers of the two-line form: each cell holds two of the one-line form's columns
(alert over its labels, state over how long, value over who handled it; fired over resolved,
how long over who acknowledged it), so the table fits 80 columns without cutting a word."""


def one_line_width(headers: Sequence[str], rows: Sequence[Row]) -> int:
    """Cells the one-line form needs: each column's widest cell plus its padding."""
    widths = [len(header) for header in headers]
    for _, cells in rows:
        for index, cell in enumerate(cells):
            length = cell.cell_len if isinstance(cell, Text) else len(cell)
            widths[index] = max(widths[index], length)
    return sum(width + 2 for width in widths)


def two_line(kind: Kind, cells: Sequence[Text | str]) -> tuple[Text | str, ...]:
    """Fold a one-line row (glyph and six cells) into four cells of two lines."""
    glyph, *rest = cells

    def stack(top: Text | str, bottom: Text | str) -> Text:
        top_text = top if isinstance(top, Text) else Text(top)
        bottom_text = bottom if isinstance(bottom, Text) else Text(bottom)
        return Text.assemble(top_text, "\n", bottom_text)

    if kind == "active":  # name, state, for, labels, value, handled
        name, state, since, labels, value, handled = rest
        return (glyph, stack(name, labels), stack(state, since), stack(value, handled))
    name, labels, fired, resolved, lasted, acked = rest
    return (glyph, stack(name, labels), stack(fired, resolved), stack(lasted, acked))


class AlertTable(CursorInView, DataTable[Any]):
    """Alerts, one row each, keyed by alert id (see module doc)."""

    DEFAULT_CSS = """
    AlertTable { height: 1fr; }
    """

    class AlertChosen(Message):
        """Enter (or a click) on an alert row: the screen opens its details."""

        def __init__(self, alert_id: str) -> None:
            super().__init__()
            self.alert_id = alert_id
            """The chosen alert's id."""

    def __init__(self, kind: Kind, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.kind: Kind = kind
        """Which alerts the table lists: active, or resolved (history)."""
        self._shown: list[Row] = []
        self._two_line = False
        self._last: tuple[Sequence[Alert], int] = ((), 0)
        self._keep: str | None = None

    def on_mount(self) -> None:
        """Add the columns of this kind."""
        self.add_columns(*COLUMNS[self.kind])

    def on_resize(self) -> None:
        """The form depends on the width: lay the last alerts out again."""
        self.show(*self._last)

    def _use_form(self, two_line_form: bool) -> None:
        if two_line_form == self._two_line:
            return
        keep = self.selected_id
        self.clear(columns=True)
        self.add_columns(*(TWO_LINE_COLUMNS if two_line_form else COLUMNS)[self.kind])
        self._two_line, self._shown = two_line_form, []
        self._keep = keep  # the cursor goes back to it once the rows are in

    @property
    def selected_id(self) -> str | None:
        """The id of the alert under the cursor."""
        return selected_key(self)

    def show(self, alerts: Sequence[Alert], now_ns: int) -> None:
        """List `alerts` (most severe first for active ones, newest first for history)."""
        if self.kind == "active":
            ordered = sorted(alerts, key=lambda a: (a.state == "resolved", af.display_key(a)))
            rows = [(a.id, self._active_cells(a, now_ns)) for a in ordered]
        else:
            ordered = sorted(alerts, key=lambda a: -(a.resolved_at_ns or 0))
            rows = [(a.id, self._history_cells(a)) for a in ordered]
        self._last = (alerts, now_ns)
        room = self.size.width - 1  # the vertical scrollbar's cell
        two_lines = room > 0 and one_line_width(COLUMNS[self.kind], rows) > room
        self._use_form(two_lines)
        if two_lines:
            rows = [(key, two_line(self.kind, cells)) for key, cells in rows]
        if replace_rows(self, rows, self._shown, height=2 if two_lines else 1):
            self._shown = rows
        keys = [key for key, _ in rows]
        if self._keep in keys:
            self.move_cursor(row=keys.index(self._keep), animate=False)
        self._keep = None

    def _name_cells(self, alert: Alert) -> tuple[Text, Text, Text]:
        colour = theme_hex(self.app, af.SEVERITY_COLOUR.get(alert.severity, "text-muted"))
        glyph = Text(af.severity_glyph(alert.severity), style=Style(color=colour))
        name = Text(alert.rule, style=Style(bold=alert.display_state == "firing"))
        labels = Text(af.key_labels(alert), style=Style(color=theme_hex(self.app, "text-muted")))
        return glyph, name, labels

    def _active_cells(self, alert: Alert, now_ns: int) -> tuple[Text | str, ...]:
        state, colour = af.STATE_LOOK.get(alert.display_state, (alert.display_state, "text"))
        handled = ""
        if alert.silenced_by:
            handled = "silence " + ", ".join(alert.silenced_by)
        elif alert.inhibited_by:
            handled = "inhibited"
        elif alert.ack is not None:
            handled = f"acked by {alert.ack.by}"
        glyph, name, labels = self._name_cells(alert)
        return (
            glyph,
            name,
            Text(state, style=Style(color=theme_hex(self.app, colour), bold=state == "firing")),
            Text(af.since(alert, now_ns), justify="right"),
            labels,
            af.value_vs_threshold(alert),
            handled,
        )

    def _history_cells(self, alert: Alert) -> tuple[Text | str, ...]:
        fired = alert.fired_at_ns or alert.active_since_ns
        return (
            *self._name_cells(alert),
            fmt.clock(fired) if fired else "—",
            fmt.clock(alert.resolved_at_ns) if alert.resolved_at_ns else "—",
            Text(af.lasted(alert), justify="right"),
            alert.ack.by if alert.ack else "",
        )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Turn enter on a row into `AlertChosen`."""
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.AlertChosen(str(event.row_key.value)))
