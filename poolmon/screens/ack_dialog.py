"""The acknowledge prompt (`k`): which alert, and an optional comment for the others.

Acknowledging tells every attached monitor that somebody is on it and stops the alert's
repeated notifications; the comment travels with the ack ("restarting the cache"). Enter
sends (an empty comment is fine), escape cancels and nothing is sent.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from poolmon.core.alerts.model import Alert
from poolmon.widgets import _alert_format as af
from poolmon.widgets.in_order_input import InOrderInput


class AckDialog(ModalScreen[str | None]):
    """Ask for an optional comment; dismiss with it (maybe empty), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    """
    | Key | Action |
    | :- | :- |
    | `enter` | Acknowledge with the comment typed (may be empty). |
    | `escape` | Cancel. |
    """

    DEFAULT_CSS = """
    AckDialog { align: center middle; }
    AckDialog > Vertical {
        width: 64;
        max-width: 100%;
        height: auto;
        border: round $success;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        background: $surface;
        padding: 1 2;
    }
    AckDialog #what { margin-bottom: 1; }
    """

    def __init__(self, alert: Alert, now_ns: int) -> None:
        super().__init__()
        self.alert = alert
        """The alert to acknowledge."""
        self.now_ns = now_ns
        """The snapshot's time (for how long it has fired)."""

    def compose(self) -> ComposeResult:
        """What is acknowledged, and the comment line."""
        alert = self.alert
        box = Vertical()
        box.border_title = "Acknowledge"
        box.border_subtitle = "enter acknowledges · escape cancels"
        what = Text()
        what.append(f"{alert.rule}", style="bold")
        labels = af.key_labels(alert)
        if labels:
            what.append(f" {labels}")
        what.append(
            f"\n{alert.severity}, {alert.display_state} for {af.since(alert, self.now_ns)}, "
            f"{af.value_vs_threshold(alert)}"
        )
        with box:
            yield Static(what, id="what")
            yield InOrderInput(
                placeholder="comment for the other monitors (optional)", id="comment"
            )

    def on_mount(self) -> None:
        """Focus the comment."""
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _send(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        """Close without acknowledging."""
        self.dismiss(None)
