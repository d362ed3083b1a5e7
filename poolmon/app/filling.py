"""While the pool's history is arriving, the app holds its frame instead of redrawing it.

Why: attaching to a busy pool, the monitor folds 15 minutes of history in a fraction of a
second. Snapshots taken meanwhile show windows half filled in (figures that are neither the
history nor the present), and drawing them at 4 Hz took about a sixth of the attach's CPU,
competing with the fold for the interpreter (docs/BENCHMARKS.md, "attach to the first full
15-minute frame"). So while the source says it is `filling`, a refresh tick redraws only
when the connection status changed (the status line says "receiving history"; the figures
stay what they were, as when paused), the status is polled every `FILL_POLL_S`, and the
first complete frame is drawn as soon as the history is in, not at the next tick.
"""

from __future__ import annotations

from typing import Final

from textual.app import App
from textual.timer import Timer

from poolmon.core.snapshot import PoolSnapshot
from poolmon.runtime.source import SnapshotSource, SourceStatus

FILL_POLL_S: Final = 0.05
"""How often the status is looked at while the history arrives."""


class FillingMixin(App[None]):
    """The hold while the history arrives, for `PoolmonApp` (mixed in; see the module doc)."""

    source: SnapshotSource
    _status: SourceStatus
    _snapshot: PoolSnapshot | None
    _fill_poll: Timer | None = None

    def refresh_frame(self) -> None:
        """Pull a snapshot and redraw (`PoolmonApp.refresh_frame`)."""
        raise NotImplementedError("PoolmonApp provides refresh_frame")

    def hold_for_history(self, status: SourceStatus) -> bool:
        """Whether this refresh draws nothing: history arriving, a frame shown, status unchanged."""
        if not status.filling or self._snapshot is None:
            return False
        if self._fill_poll is None:
            self._fill_poll = self.set_interval(FILL_POLL_S, self._poll_filling)
        return status == self._status

    def _poll_filling(self) -> None:
        """Draw the first complete frame as soon as the history is in."""
        if self.source.status().filling:
            return
        if self._fill_poll is not None:
            self._fill_poll.stop()
            self._fill_poll = None
        self.refresh_frame()
