"""Recorded frames into a normal `Aggregator`, in fixed steps, under the recording's clock.

Why fixed steps: a replay must show at 02:47 exactly what a straight play to 02:47 shows,
whether it got there by playing, by seeking forward, or by seeking back to a checkpoint and
playing on. The aggregator's figures depend on which task rows are ingested together and on
"now" at each ingest, so both are tied to the recording, never to when the user pressed a
key: the timeline is cut into steps of `STEP_NS` (aligned to the epoch), each step's frames
are handled in order with the clock set to each frame's receive time (as the live monitor's
clock read when it got them), and the step's task rows are merged and ingested once at the
step's last receive time (the live monitor merges rows over 0.2 s the same way). Only whole
steps are applied, so any path to a time applies the same steps the same way.

The handling mirrors `poolmon.runtime.monitor.Monitor._handle` frame by frame (WELCOME,
BATCH, ROLLUPS, HISTORY_END, HEARTBEAT), plus the recorder's notes (link down: the gap a
reconnecting monitor would mark). A `RecordingFeed` pickles whole (aggregator, clock and
link state), which is what a replay checkpoint is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from poolmon.core.aggregator import Aggregator
from poolmon.core.batchmerge import claim_records, merge_batches
from poolmon.core.events import TaskBatch
from poolmon.core.protocol import Batch, Frame, Heartbeat, HistoryEnd, Rollups, Welcome
from poolmon.core.recording.entries import LINK_DOWN, RECORDER_DROPPED, Note
from poolmon.core.rollup import Rollup
from poolmon.core.snapshot import PoolInfo

STEP_NS: Final = 250_000_000
"""Replay steps: frames are applied a quarter second of recording at a time."""


class ReplayClock:
    """The aggregator's clock during a replay: the recording's time, set by the feed."""

    __slots__ = ("now_ns",)

    def __init__(self, now_ns: int = 0) -> None:
        self.now_ns = now_ns

    def time_ns(self) -> int:
        """The recording's current time."""
        return self.now_ns

    def monotonic_ns(self) -> int:
        """The same reading: a recording's time only moves forward within one play."""
        return self.now_ns


class RecordingFeed:
    """An aggregator and the link state a live monitor keeps, fed from recorded frames."""

    def __init__(self, **aggregator_options: float | int) -> None:
        self.clock = ReplayClock()
        self.aggregator = Aggregator(self.clock, **aggregator_options)  # type: ignore[arg-type]
        """The engine every screen reads."""
        self.server_dropped = 0
        """Records the pool dropped for the recorded connection (its last heartbeat)."""
        self.server_dropped_before = 0
        """The same, summed over earlier connections (each connection counts from zero)."""
        self.history_lost = 0
        """Records a backfill said were lost."""
        self.recorder_dropped = 0
        """Frames the recorder itself dropped (its disk was too slow)."""
        self.link_up = False
        """Whether the recorded monitor was connected at this point."""
        self.last_data_ns: int | None = None
        """Receive time of the last BATCH."""
        self.down_since_ns: int | None = None
        """When the link dropped, while it is down."""
        self.down_reason = ""
        """Why it dropped (the recorder's words)."""
        self.frames = 0
        """Entries applied so far."""

    @property
    def dropped(self) -> int:
        """Records lost in transport, as a live monitor's status line counts them."""
        return self.server_dropped_before + self.server_dropped + self.history_lost

    def apply_step(self, items: Iterable[tuple[int, Frame | Note]]) -> None:
        """Handle one step's frames in order, then ingest its task rows merged."""
        pending: list[TaskBatch] = []
        last = self.clock.now_ns
        for recv_ns, item in items:
            self.clock.now_ns = last = max(last, recv_ns)
            self.frames += 1
            if isinstance(item, Batch):
                pending.extend(claim_records(self.aggregator, item))
                self.last_data_ns = recv_ns
            elif isinstance(item, Welcome):
                self._flush(pending)
                self._welcome(item)
            elif isinstance(item, Rollups):
                for wire in item.rollups:
                    self.aggregator.ingest_rollup(Rollup.from_wire(wire))
            elif isinstance(item, HistoryEnd):
                self.history_lost += item.lost
                if item.lost:
                    self.aggregator.note_dropped(item.lost)
            elif isinstance(item, Heartbeat):
                self.server_dropped = item.dropped_records
            elif isinstance(item, Note):
                self._flush(pending)
                self._note(item, recv_ns)
        self._flush(pending)

    def _flush(self, pending: list[TaskBatch]) -> None:
        rows = [b for b in pending if len(b)]
        pending.clear()
        if rows:
            self.aggregator.ingest_tasks(merge_batches(rows))

    def _welcome(self, welcome: Welcome) -> None:
        agg = self.aggregator
        agg.note_link_up()
        if self.down_since_ns is not None:
            agg.mark_gap(self.down_since_ns, self.clock.now_ns)
        w = welcome
        agg.set_pool_info(PoolInfo(w.pool, w.pid, w.host, w.started_at_ns, w.version))
        if self.link_up is False and self.frames > 1:
            self.server_dropped_before += self.server_dropped
        self.server_dropped = 0
        self.link_up, self.down_since_ns, self.down_reason = True, None, ""

    def _note(self, note: Note, recv_ns: int) -> None:
        if note.note == LINK_DOWN:
            if self.down_since_ns is None:
                self.down_since_ns = self.last_data_ns or recv_ns
                self.aggregator.note_link_down(self.down_since_ns)
            self.link_up = False
            self.down_reason = str(note.fields.get("reason", ""))
        elif note.note == RECORDER_DROPPED:
            count = int(note.fields.get("frames", 0))
            self.recorder_dropped += count
