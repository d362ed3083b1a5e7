"""The app's side of the stack view: send `worker_stack`, show the reply in `StackScreen`.

Why a mixin of the app: commands leave only through the app's source, in a worker thread
(the pool may take up to a couple of seconds when the in-worker dumper has to wait), and
the reply is handed to the modal on the UI thread. It needs a control connection: stacks
show arguments and source lines, so the pool refuses them to read-only monitors, and the
modal then says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual import work
from textual.app import App

from poolmon.runtime.source import CommandResult, SnapshotSource
from poolmon.screens.stack import StackScreen


class StacksMixin(App[None]):
    """`show_worker_stack` for `PoolmonApp` (mixed in; see the module doc)."""

    source: SnapshotSource

    def show_worker_stack(self, worker_id: int) -> None:
        """Open (or refresh) the stack modal of `worker_id` and ask the pool for its stack."""
        screen = self.screen
        if not (isinstance(screen, StackScreen) and screen.worker_id == worker_id):
            self.push_screen(StackScreen(worker_id))
        self._ask_stack(worker_id)

    @work(thread=True, group="stacks", exclusive=True)
    def _ask_stack(self, worker_id: int) -> None:
        try:
            result = self.source.command("worker_stack", {"worker_id": worker_id})
        except Exception as exc:
            result = CommandResult(False, reason=f"{type(exc).__name__}: {exc}")
        self.call_from_thread(
            self._stack_arrived, worker_id, result.ok, result.result, result.reason
        )

    def _stack_arrived(
        self, worker_id: int, ok: bool, reply: Mapping[str, Any], reason: str
    ) -> None:
        screen = self.screen
        if isinstance(screen, StackScreen) and screen.worker_id == worker_id:
            screen.show_reply(reply if ok else None, None if ok else reason)
