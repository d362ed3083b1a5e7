"""The app's pool commands outside the tuning screen: resize by one, and alert actions.

Why a mixin of the app: a command leaves only through the app's source, in a worker thread,
after a confirmation where it changes the pool; the pool's answer comes back to the UI thread
and goes to the status line (and, when refused, a notification). Alert toasts live here too:
they are the other half of acknowledging and silencing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import App

from poolmon.app.announcer import FiringAnnouncer
from poolmon.app.lazy import confirm
from poolmon.core.snapshot import PoolSnapshot
from poolmon.runtime.source import CommandResult, SnapshotSource
from poolmon.widgets import _format as fmt
from poolmon.widgets._alert_format import key_labels

if TYPE_CHECKING:
    from poolmon.screens.alert_actions import AlertActionsScreen


class PoolCommandsMixin(App[None]):
    """Resize (`+`/`-`) and alert commands for `PoolmonApp` (mixed in; see the module doc)."""

    source: SnapshotSource
    message: str
    _snapshot: PoolSnapshot | None
    _announcer: FiringAnnouncer

    def refresh_frame(self) -> None:
        """Pull a snapshot and redraw (`PoolmonApp.refresh_frame`)."""
        raise NotImplementedError("PoolmonApp provides refresh_frame")

    # -- resize ------------------------------------------------------------------------------

    def _confirm_resize(self, delta: int) -> None:
        snapshot = self._snapshot
        if snapshot is None or not snapshot.size:
            self.message = "resize: the pool's size is not known yet"
            self.refresh_frame()
            return
        target = snapshot.size + delta
        if target < 1:
            self.message = "resize: a pool needs at least one worker"
            self.refresh_frame()
            return
        question = (
            f"{'Grow' if delta > 0 else 'Shrink'} pool {snapshot.pool.name!r} "
            f"from {snapshot.size} to {target} workers?"
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.message = f"resize to {target}: sent, waiting for the pool"
                self.refresh_frame()
                self._send_resize(target)

        self.push_screen(confirm(question), answered)

    @work(thread=True, exclusive=True, group="commands")
    def _send_resize(self, target: int) -> None:
        result = self.source.command("resize", {"size": target})
        if result.ok:
            reported = result.result.get("size", target)
            text = f"resize to {target}: pool reports size {reported}"
        else:
            text = f"resize to {target} refused: {result.reason}"
        self.call_from_thread(self._show_message, text)

    def _show_message(self, text: str) -> None:
        self.message = text
        self.refresh_frame()

    # -- alerts ------------------------------------------------------------------------------

    def _announce(self) -> None:
        """A toast for each alert that started firing since the last look (once per id)."""
        snapshot = self._snapshot
        for alert in self._announcer.news(snapshot.alerts if snapshot else None):
            labels = key_labels(alert)
            self.notify(
                f"{alert.summary}\n{labels} · a: alerts".strip(),
                title=f"{alert.severity.upper()} firing: {alert.rule}",
                severity="error" if alert.severity == "critical" else "warning",
                timeout=10,
            )

    def on_alert_actions_screen_command_requested(
        self, event: AlertActionsScreen.CommandRequested
    ) -> None:
        """Send a command the alerts screen asked for (its module is imported when opened)."""
        self.message = f"{event.label}: sent, waiting for the pool"
        self.refresh_frame()
        self._send_alert_command(event.command, event.args, event.label)

    @work(thread=True, group="commands")
    def _send_alert_command(self, name: str, args: dict[str, object], label: str) -> None:
        result = self.source.command(name, args)
        self.call_from_thread(self._alert_reply, name, label, result)

    def _alert_reply(self, name: str, label: str, result: CommandResult) -> None:
        if not result.ok:
            self.notify(f"{label}: {result.reason}", title="Refused by the pool", severity="error")
            self._show_message(f"{label} refused: {result.reason}")
            return
        reply = result.result
        if name == "ack_alert":
            text = f"{label}: acknowledged as {reply.get('by', '?')}"
        elif name == "silence":
            ends = reply.get("ends_at_ns")
            until = f", until {fmt.clock(int(ends))} UTC" if isinstance(ends, int) else ""
            text = f"{label}: silence {reply.get('silence_id', '?')} set{until}"
        else:
            text = f"{label}: removed"
        self._show_message(text)
