"""The alert keys shared by the alerts screen and an alert's details: `k`, `S`, `u`.

`k` acknowledges the selected alert (after an optional comment), `S` opens the silence
dialog prefilled from it, `u` removes the selected silence (after a confirmation). The screen
never talks to the pool: it posts `CommandRequested` and the app sends the command from a
worker thread and shows the pool's reply in the status line.

In read-only mode the three keys are shown disabled (greyed in the footer) and pressing one
says why in a notification instead of doing nothing: each key has a second, hidden binding
that only a read-only screen enables, which Textual tries when the first one is disabled.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message

from poolmon.core.alerts.model import FIRING, Alert, AlertsView, Silence
from poolmon.screens._silence_form import SilenceRequest
from poolmon.screens.ack_dialog import AckDialog
from poolmon.screens.base import PoolmonScreen
from poolmon.screens.confirm import ConfirmScreen
from poolmon.screens.silence_dialog import SilenceDialog
from poolmon.widgets import _alert_format as af

ALERT_ACTIONS = frozenset({"ack", "silence", "unsilence"})
"""Actions that change the pool's alert state: disabled in read-only mode."""

READ_ONLY_REASON = (
    "This monitor is attached read-only, so it cannot {what}. "
    "Attach without --read-only to change alerts."
)
"""What a refused key says."""


class AlertActionsScreen(PoolmonScreen):
    """A screen with a selected alert or silence and the keys that act on it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("k", "ack", "Ack", tooltip="Acknowledge the selected alert"),
        Binding("k", "refuse('acknowledge alerts')", show=False),
        Binding("S", "silence", "Silence", tooltip="Silence alerts like the selected one"),
        Binding("S", "refuse('silence alerts')", show=False),
        Binding("u", "unsilence", "Unsilence", tooltip="Remove the selected silence"),
        Binding("u", "refuse('remove silences')", show=False),
    ]
    """
    | Key | Action |
    | :- | :- |
    | `k` | Acknowledge the selected alert (optional comment). |
    | `S` | Silence: duration and matchers, prefilled from the selected alert. |
    | `u` | Remove the selected silence (asks first). |
    """

    class CommandRequested(Message):
        """An alert command for the pool; the app sends it and shows the reply."""

        def __init__(self, command: str, args: dict[str, Any], label: str) -> None:
            super().__init__()
            self.command = command
            """The endpoint command (ack_alert, silence, unsilence)."""
            self.args = args
            """Its arguments."""
            self.label = label
            """Words for the status line (`ack ErrorRateHigh op=fetch_profile`)."""

    # -- what is selected (subclasses say) ---------------------------------------------------

    @property
    def view(self) -> AlertsView | None:
        """The pool's alert state in the frame shown."""
        return self.frame.snapshot.alerts if self.frame else None

    @property
    def now_ns(self) -> int:
        """The time the frame's alert state was last known (frozen while disconnected)."""
        return self.frame.snapshot.seen_at_ns if self.frame else 0

    @property
    def read_only(self) -> bool:
        """Whether this monitor may not change the pool."""
        return self.frame.read_only if self.frame else False

    def selected_alert(self) -> Alert | None:
        """The alert the keys act on."""
        return None

    def selected_silence(self) -> Silence | None:
        """The silence `u` removes: the one selected, or the one muting the selected alert."""
        alert, view = self.selected_alert(), self.view
        if alert is None or view is None or len(alert.silenced_by) != 1:
            return None
        return next((s for s in view.silences if s.id == alert.silenced_by[0]), None)

    # -- actions -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out the alert keys in read-only mode; their hidden twins then explain."""
        if action in ALERT_ACTIONS:
            return None if self.read_only else True
        if action == "refuse":
            return self.read_only
        return True

    def action_refuse(self, what: str) -> None:
        """Say why an alert key does nothing here."""
        text = READ_ONLY_REASON.format(what=what)
        if getattr(self.app, "replay", None) is not None:  # a recording: nothing to attach to
            text = f"Cannot {what}: a recording cannot be steered; attach to the live pool."
        self.notify(text, title="Read-only", severity="warning")

    def action_ack(self) -> None:
        """Acknowledge the selected firing alert, after an optional comment."""
        alert = self.selected_alert()
        if alert is None:
            self.notify("Select an alert to acknowledge.", severity="warning")
            return
        name = f"{alert.rule} {af.key_labels(alert)}".strip()
        if alert.state != FIRING:
            self.notify(f"{name} is {alert.state}: only a firing alert is acknowledged.")
            return
        if alert.ack is not None:
            self.notify(f"{name} is already acknowledged by {alert.ack.by}.")
            return

        def answered(comment: str | None) -> None:
            if comment is not None:
                args = {"alert_id": alert.id, "comment": comment}
                self.post_message(self.CommandRequested("ack_alert", args, f"ack {name}"))

        self.app.push_screen(AckDialog(alert, self.now_ns), answered)

    def action_silence(self) -> None:
        """Open the silence dialog, prefilled from the selected alert."""
        view = self.view
        active = [a for a in view.alerts if a.state != "resolved"] if view else []

        def answered(request: SilenceRequest | None) -> None:
            if request is not None:
                label = "silence " + " ".join(str(m) for m in request.matchers)
                self.post_message(self.CommandRequested("silence", request.to_args(), label))

        self.app.push_screen(SilenceDialog(self.selected_alert(), active), answered)

    def action_unsilence(self) -> None:
        """Remove the selected silence, after a confirmation."""
        silence = self.selected_silence()
        if silence is None:
            self.notify(
                "Select a silence (Silences tab) or an alert muted by one silence.",
                severity="warning",
            )
            return
        matchers = " ".join(str(m) for m in silence.matchers)
        by = f" set by {silence.created_by}" if silence.created_by else ""
        question = (
            f"Remove silence {silence.id} ({matchers}){by}? The alerts it mutes notify again."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                args = {"silence_id": silence.id}
                self.post_message(
                    self.CommandRequested("unsilence", args, f"unsilence {silence.id}")
                )

        self.app.push_screen(ConfirmScreen(question), answered)
