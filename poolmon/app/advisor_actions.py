"""The app's advisor actions: apply a finding's fix, turn auto-tuning on or off.

A mixin of `PoolmonApp` so app.py stays about modes and the refresh. Both actions ask first
(`ConfirmScreen`), refuse at once with the reason on a read-only monitor, send the endpoint
command from a worker thread (never the UI thread) and show the pool's reply in the status
line and as a notification. After a change the pool's settings are read again (through the
tuning screen's `fetch_settings`), since some findings depend on them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App

from poolmon.app.advice import Advice
from poolmon.app.lazy import confirm
from poolmon.core.snapshot import PoolSnapshot
from poolmon.runtime.source import SnapshotSource, SourceStatus

if TYPE_CHECKING:
    from poolmon.core.advisor.model import Finding

if TYPE_CHECKING:
    _Base = App[None]
else:
    _Base = object


class AdvisorActions(_Base):
    """Advisor actions of `PoolmonApp` (see module doc)."""

    source: SnapshotSource
    read_only: bool
    advice: Advice
    _snapshot: PoolSnapshot | None
    _status: SourceStatus

    if TYPE_CHECKING:  # provided by PoolmonApp and TuningMixin; stubs here would shadow them

        def _show_message(self, text: str) -> None:
            """Show `text` in the status line."""

        def fetch_settings(self) -> None:
            """Read the pool's settings again."""

    def apply_finding(self, finding: Finding) -> None:
        """Confirm, then send a finding's action; refused with the reason in read-only mode."""
        action = finding.action
        if self.read_only or self._status.read_only:
            self.notify(
                f"Not applied: this monitor is read-only ({action.text}).",
                title="Read-only",
                severity="warning",
            )
            return
        if not action.applicable:
            self.notify(f"Nothing to apply: {action.text}", title="A hint, not a setting")
            return
        name, args = action.command()
        pool = self._snapshot.pool.name if self._snapshot else "the pool"
        question = f"Apply to {pool!r}: {action.text}?\n\n{finding.title}"

        def answered(yes: bool | None) -> None:
            if yes:
                self._show_message(f"{action.text}: sent, waiting for the pool")
                self._send_command(name, args, action.text)

        self.push_screen(confirm(question), answered)

    def toggle_autotune(self) -> None:
        """Confirm, then turn the pool's auto-tuning on or off."""
        if self.read_only or self._status.read_only:
            self.notify(
                "Auto-tuning not changed: this monitor is read-only.",
                title="Read-only",
                severity="warning",
            )
            return
        snap = self._snapshot
        enable = not (snap is not None and snap.autotune.enabled)
        pool = snap.pool.name if snap else "the pool"
        question = (
            f"Turn auto-tuning ON for {pool!r}? It resizes the pool by itself within its "
            "bounds, one validated change at a time, and rolls back what does not help."
            if enable
            else f"Turn auto-tuning OFF for {pool!r}? The size stays where it is."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                text = f"auto-tuning {'on' if enable else 'off'}"
                self._show_message(f"{text}: sent, waiting for the pool")
                self._send_command("autotune", {"enabled": enable}, text)

        self.push_screen(confirm(question), answered)

    @work(thread=True, group="commands")
    def _send_command(self, name: str, args: dict[str, Any], what: str) -> None:
        result = self.source.command(name, args)
        if result.ok:
            changed = result.result.get("changed")
            if isinstance(changed, dict) and changed:
                detail = ", ".join(f"{k} {v[0]} → {v[1]}" for k, v in changed.items())
            else:
                detail = ", ".join(f"{k} {v}" for k, v in result.result.items()) or "ok"
            text, severity = f"{what}: pool reports {detail}", "information"
        else:
            text, severity = f"{what} refused: {result.reason}", "warning"
        self.call_from_thread(self._show_message, text)
        self.call_from_thread(self.notify, text, severity=severity)
        if result.ok:
            self.call_from_thread(self.fetch_settings)
