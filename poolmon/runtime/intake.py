"""`IntakeMeter`: what a monitor receives from its pool, counted as frames arrive.

The monitor's client thread calls `note(frame)` for every frame before handling it, so the
counts cost a few attribute updates per frame (a task batch is one record per row, counted by
its length, never row by row). They answer "is the app keeping up?": the newest timestamp
received (an event's, a task's end, a heartbeat's) against now is the ingest lag; records and
frames received say how much flows; heartbeats carry what the pool's endpoint could not deliver
to this connection; HISTORY_END says what a resume could no longer backfill; the pool's own
`poolmon.resource.internals` events say what its telemetry costs on its side. Written by one
thread, read by the UI without a lock: each figure is a single int or a reference swap.
"""

from __future__ import annotations

from poolmon.core import catalog as C
from poolmon.core.clock import Clock
from poolmon.core.protocol import Batch, Heartbeat, HistoryEnd, Welcome
from poolmon.runtime.reconnecting import Disconnected


class IntakeMeter:
    """Counts of one monitor's incoming frames (see the module doc).

    Args:
        clock: Where "now" comes from (the monitor's clock).
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.frames = 0
        """Frames received (data and heartbeats)."""
        self.records = 0
        """Events plus task rows received."""
        self.newest_ts_ns: int | None = None
        """The newest timestamp received: an event's, a task's end or a heartbeat's."""
        self.connections = 0
        """Handshakes completed (the first attach and every reconnect)."""
        self.server_dropped = 0
        """Records the endpoint did not deliver to the current connection (latest heartbeat)."""
        self.server_dropped_before = 0
        """...and to earlier connections (each heartbeat count starts over on reconnect)."""
        self.history_lost = 0
        """Records a resume could not backfill (from HISTORY_END)."""
        self.internals: tuple[tuple[str, float], ...] = ()
        """The pool's latest `poolmon.resource.internals` measurements."""
        self.internals_at_ns: int | None = None
        """That event's timestamp."""
        self.frames_skipped = 0
        """Frames the monitor could not take and skipped (`frame_guard`)."""
        self.last_skip = ""
        """Why the last one was skipped."""

    def note(self, item: object) -> None:
        """Count one frame (anything else, such as the monitor's own disconnect notes, is not)."""
        if isinstance(item, Batch):
            self._batch(item)
        elif isinstance(item, Heartbeat):
            self.frames += 1
            self.server_dropped = item.dropped_records
            self._seen(item.ts_ns)
        elif isinstance(item, Welcome):
            self.frames += 1
            self.connections += 1
            self.server_dropped_before += self.server_dropped
            self.server_dropped = 0
        elif isinstance(item, HistoryEnd):
            self.frames += 1
            self.history_lost += item.lost
        elif not isinstance(item, Disconnected):
            self.frames += 1

    def _batch(self, item: Batch) -> None:
        self.frames += 1
        newest = 0
        for _, event in item.events:
            self.records += 1
            newest = max(newest, event.ts_ns)
            if event.name == C.RESOURCE_INTERNALS:
                self.internals = tuple((k, float(v)) for k, v in event.measurements.items())
                self.internals_at_ns = event.ts_ns
        for _, batch in item.tasks:
            n = len(batch)
            self.records += n
            if n:
                newest = max(newest, batch.start_ns[-1] + batch.duration_ns[-1])
        if newest:
            self._seen(newest)

    def _seen(self, ts_ns: int) -> None:
        if self.newest_ts_ns is None or ts_ns > self.newest_ts_ns:
            self.newest_ts_ns = ts_ns

    def lag_s(self) -> float | None:
        """Now minus the newest timestamp received (None before any)."""
        if self.newest_ts_ns is None:
            return None
        return max(0.0, (self.clock.time_ns() - self.newest_ts_ns) / 1e9)

    @property
    def reconnects(self) -> int:
        """Connections after the first."""
        return max(0, self.connections - 1)

    @property
    def server_lost(self) -> int:
        """Records the endpoint did not deliver, over every connection."""
        return self.server_dropped_before + self.server_dropped
