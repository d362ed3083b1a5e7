"""The app's side of tuning: the pool's settings, confirmed changes, undo, worker recycle/kill.

Why a mixin of the app: commands leave only through the app's source (never from a widget),
each after a `ConfirmScreen`, in a worker thread; the reply comes back to the status line and
as a notification. The settings are fetched when the tuning screen opens, after every change,
and whenever the change log shows a change made elsewhere. Undo is this app's own stack of
confirmed changes: `z` sends the inverse `set` (marked `note: "undo"` so every change log can
say so), after confirmation; each `z` steps one change further back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual import events, work
from textual.app import App

from poolmon.app.lazy import TUNING, confirm
from poolmon.app.lazy import screen as lazy_screen
from poolmon.core.errors import ConfigError
from poolmon.core.snapshot import ControlChange, PoolSnapshot
from poolmon.core.tuning import SettingSpec, Value, format_value
from poolmon.runtime.source import CommandResult, SnapshotSource, SourceStatus

TUNING_ACTIONS = frozenset({"grow", "shrink", "edit", "undo", "recycle", "kill", "op_timeout"})
"""Actions that change the pool, on any screen: disabled (greyed out) in read-only mode."""

UNDO_DEPTH = 20
"""Changes this app remembers for undo."""


def describe_changes(changes: Mapping[str, tuple[Value, Value]] | Mapping[str, Any]) -> str:
    """`size 4 → 6, task_timeout_s none → 5` from {key: (from, to)}."""
    return ", ".join(
        f"{key} {format_value(pair[0])} → {format_value(pair[1])}" for key, pair in changes.items()
    )


class TuningMixin(App[None]):
    """Tuning commands for `PoolmonApp` (mixed in; see the module doc)."""

    source: SnapshotSource
    read_only: bool
    message: str
    _status: SourceStatus
    _snapshot: PoolSnapshot | None

    settings: tuple[SettingSpec, ...] = ()
    """The pool's settings as last fetched."""
    settings_status: str = "settings not loaded yet"
    """Where `settings` stand (loading, from when, or why they could not be read)."""
    _undo: list[dict[str, tuple[Value, Value]]]
    _changes_made: int = 0
    """Changes this app made (not undos), so `z` with nothing left can say why."""
    _log_seen: ControlChange | None = None
    _fetching: bool = False
    _settings_wanted: bool = False

    def refresh_frame(self) -> None:
        """Pull a snapshot and redraw (`PoolmonApp.refresh_frame`)."""
        raise NotImplementedError("PoolmonApp provides refresh_frame")

    # -- read-only ---------------------------------------------------------------------------

    def read_only_now(self) -> bool:
        """Whether changes are refused here: `--read-only`, or a read-only connection."""
        return self.read_only or self._status.read_only

    def read_only_reason(self) -> str:
        """Why changes are disabled, in words."""
        if self.read_only:
            return "read-only: attached with --read-only, so nothing here changes the pool"
        return "read-only: the pool gave this monitor a read-only connection"

    def action_explain_read_only(self) -> None:
        """Say why a change key does nothing (its binding is greyed out)."""
        self.notify(self.read_only_reason(), severity="warning", timeout=5)

    def on_key(self, event: events.Key) -> None:
        """A greyed-out change key was pressed: say why instead of doing nothing silently."""
        active = self.screen.active_bindings.get(event.key)
        if active is None or active.enabled:
            return
        action = active.binding.action.rpartition(".")[2].split("(")[0]
        if action not in TUNING_ACTIONS:
            return
        if self.read_only_now():
            self.action_explain_read_only()
        elif action == "undo":
            self.notify(self.nothing_to_undo(), timeout=4)

    # -- settings ----------------------------------------------------------------------------

    def tuning_fields(self, snapshot: PoolSnapshot) -> dict[str, Any]:
        """The tuning part of a `Frame`; fetches the settings again if a change was seen."""
        newest = snapshot.control_log[-1] if snapshot.control_log else None
        if newest is not None and newest != self._log_seen and newest.result == "ok":
            self._log_seen = newest
            if self._settings_wanted:  # the tuning screen was opened: keep them current
                self.fetch_settings()
        last = self._undo[-1] if self._undo else None
        return {
            "settings": self.settings,
            "settings_status": self.settings_status,
            "undo_hint": describe_changes(last) if last else "",
        }

    def fetch_settings(self) -> None:
        """Ask the pool for its settings (in a worker thread) unless a request is out."""
        self._settings_wanted = True
        if self._fetching:
            return
        self._fetching = True
        self._fetch_settings()

    def _command(self, name: str, args: Mapping[str, Any]) -> CommandResult:
        """Send one command from a worker thread; any failure becomes a refusal, never a crash."""
        try:
            return self.source.command(name, args)
        except Exception as exc:
            return CommandResult(False, reason=f"{type(exc).__name__}: {exc}")

    @work(thread=True, group="settings")
    def _fetch_settings(self) -> None:
        self.call_from_thread(self._settings_arrived, self._command("settings", {}))

    def _settings_arrived(self, result: CommandResult) -> None:
        self._fetching = False
        if not result.ok:
            self.settings_status = f"settings unavailable: {result.reason}"
        else:
            try:
                rows = result.result.get("settings") or []
                self.settings = tuple(SettingSpec.from_wire(row) for row in rows)
                self.settings_status = ""
            except (ConfigError, AttributeError, TypeError) as exc:
                self.settings_status = f"settings unreadable: {exc}"
        self.refresh_frame()

    def edit_setting(self, key: str) -> None:
        """Open the tuning screen with the edit line on `key` (the operations view's `e`)."""
        self.push_screen(lazy_screen(TUNING, edit_key=key))
        self.fetch_settings()
        self.refresh_frame()

    # -- changes -----------------------------------------------------------------------------

    def propose_change(
        self, values: Mapping[str, Value], before: Mapping[str, Value], *, undo: bool = False
    ) -> None:
        """Ask, then send `set` with `values`; `before` is what they were (for the question)."""
        if self.read_only_now():
            self.action_explain_read_only()
            return
        name = self._pool_name()
        moves = describe_changes({k: (before.get(k), v) for k, v in values.items()})
        verb = "Undo on" if undo else "Change on"
        question = f"{verb} pool {name}: {moves}?"

        def answered(yes: bool | None) -> None:
            if yes:
                self._show_message(f"set {moves}: sent, waiting for the pool")
                self._send_set(dict(values), undo)

        self.push_screen(confirm(question), answered)

    @work(thread=True, group="commands")
    def _send_set(self, values: dict[str, Value], undo: bool) -> None:
        args: dict[str, Any] = {"settings": values}
        if undo:
            args["note"] = "undo"
        self.call_from_thread(self._set_answered, self._command("set", args), undo)

    def _set_answered(self, result: CommandResult, undo: bool) -> None:
        if not result.ok:
            text = f"set refused: {result.reason}"
            self.notify(text, severity="error", timeout=8)
        else:
            changed = {k: (v[0], v[1]) for k, v in dict(result.result.get("changed") or {}).items()}
            if not changed:
                text = "set: the pool reports nothing changed (already those values)"
            else:
                text = f"{'undone' if undo else 'changed'}: {describe_changes(changed)}"
                if undo:
                    self._undo.pop()
                else:
                    self._changes_made += 1
                    self._undo.append(changed)
                    del self._undo[:-UNDO_DEPTH]
        self._show_message(text)
        self.fetch_settings()

    def nothing_to_undo(self) -> str:
        """Why `z` has nothing to undo: no change made yet, or every one undone already."""
        made = self._changes_made
        if not made:
            return "nothing to undo: this app has made no change yet"
        if made > UNDO_DEPTH:
            return (
                f"nothing left to undo: the last {UNDO_DEPTH} changes are undone "
                "(older ones are not kept)"
            )
        changes = "its change is" if made == 1 else f"all {made} of its changes are"
        return f"nothing left to undo: {changes} undone already"

    def action_undo_change(self) -> None:
        """Undo this app's last change: confirm, then send the inverse `set`."""
        if not self._undo:
            self.notify(self.nothing_to_undo(), timeout=4)
            return
        last = self._undo[-1]
        self.propose_change(
            {k: old for k, (old, _) in last.items()},
            {k: new for k, (_, new) in last.items()},
            undo=True,
        )

    # -- workers -----------------------------------------------------------------------------

    def confirm_worker_command(self, command: str, worker_id: int, pid: int | None) -> None:
        """Ask, then `recycle_worker` (graceful) or `kill_worker` (now) one worker."""
        if self.read_only_now():
            self.action_explain_read_only()
            return
        who = f"worker {worker_id}" + (f" (pid {pid})" if pid else "")
        if command == "kill_worker":
            question = (
                f"Kill {who} of pool {self._pool_name()} now? Its running task fails with "
                "WorkerKilled; a new worker takes its slot."
            )
        else:
            question = (
                f"Recycle {who} of pool {self._pool_name()}? It finishes its current task, "
                "then a fresh worker replaces it."
            )

        def answered(yes: bool | None) -> None:
            if yes:
                self._show_message(f"{command} {worker_id}: sent, waiting for the pool")
                self._send_worker_command(command, worker_id)

        self.push_screen(confirm(question), answered)

    @work(thread=True, group="commands")
    def _send_worker_command(self, command: str, worker_id: int) -> None:
        result = self._command(command, {"worker_id": worker_id})
        verb = "killed" if command == "kill_worker" else "recycling"
        text = (
            f"worker {worker_id}: {verb}, the pool replaces it"
            if result.ok
            else f"{command} {worker_id} refused: {result.reason}"
        )
        self.call_from_thread(self._worker_answered, text, result.ok)

    def _worker_answered(self, text: str, ok: bool) -> None:
        if not ok:  # a refusal must not be missed; a success is on the status line
            self.notify(text, severity="error", timeout=8)
        self._show_message(text)

    # -- helpers -----------------------------------------------------------------------------

    def _pool_name(self) -> str:
        snapshot = self._snapshot
        return repr(snapshot.pool.name) if snapshot is not None and snapshot.pool.name else "?"

    def _show_message(self, text: str) -> None:
        """Put a command's outcome on the status line and redraw."""
        self.message = text
        self.refresh_frame()
