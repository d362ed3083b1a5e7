"""`ReplaySource`: a `SnapshotSource` that plays a recording into a normal aggregator.

Why a source like any other: every screen of the app then works on a replay exactly as on a
live pool, because it reads the same snapshots from the same `Aggregator`; only "now" is the
recording's time (`poolmon.core.recording.feed.ReplayClock`). Nothing runs in the background:
each `snapshot()` moves the timeline to where it should be (playing: by the viewer's clock
times the speed) and applies the recorded frames up to there, in the feed's fixed steps.

Seeking back restores the nearest checkpoint before the target (a pickled copy of the whole
feed, taken every `checkpoint_s` (5 s) of recording as play passes it, zlib-compressed and kept in
an anonymous temporary file, so an hour's checkpoints cost disk, not memory) or starts over,
then plays forward: the result equals a straight play to the same point, because the
feed applies the same steps the same way whichever path led there (tests check it). Commands
are refused: a recording cannot be steered.
"""

from __future__ import annotations

import bisect
import os
import pickle
import tempfile
import threading
import zlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final, TypeVar

from poolmon.core import catalog as C
from poolmon.core.aggregator import Aggregator
from poolmon.core.alerts.model import AlertsView
from poolmon.core.clock import Clock, SystemClock
from poolmon.core.errors import ProtocolError
from poolmon.core.protocol import Batch, HistoryEnd
from poolmon.core.recording.entries import LINK_DOWN, RECORDER_DROPPED, Note
from poolmon.core.recording.feed import STEP_NS, RecordingFeed
from poolmon.core.recording.timeline import Timeline, parse_seek
from poolmon.core.snapshot import PoolSnapshot, WorkerView
from poolmon.runtime.recording.reader import Item, RecordingFile
from poolmon.runtime.source import CommandResult, SourceStatus

T = TypeVar("T")

CHECKPOINT_S: Final = 5
"""Recording seconds between checkpoints (a seek plays at most this much).

Each checkpoint is the whole aggregator pickled and compressed, about 0.35 MiB once an hour's
windows are full (on disk, in the spill file): 5 s costs ~250 MiB of temporary disk per hour
of recording played and keeps a seek to ~0.5 s even on a loaded 2-core machine; 15 s took
three times longer (docs/BENCHMARKS.md, investigate)."""
SILENCE_GAP_NS: Final = 5_000_000_000
"""No frame at all for this long is a gap (a live monitor would have shown it stale)."""
CATCH_UP_LIMIT_NS: Final = 30_000_000_000
"""A first backfill that ends later than this after the first frame does not move the start."""
MARKS: Final = ("alert", "crash", "gap")
"""What `next_mark` can jump to."""

REFUSAL: Final = "a recording cannot be steered: {what} acts on a live pool; attach to it instead"
"""What a control key says on a replay."""


class ReplaySource:
    """Plays the recording at `path` (see the module doc).

    Args:
        path: The recording.
        clock: The viewer's clock (its monotonic reading paces play).
        checkpoint_s: Recording seconds between checkpoints.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        clock: Clock | None = None,
        checkpoint_s: int = CHECKPOINT_S,
    ) -> None:
        self.file = RecordingFile(path)
        self.clock: Clock = clock or SystemClock()
        self.timeline = Timeline(self._caught_up_ns(), self.file.last_ns)
        """Position, play state and speed; its start is where the recorder had caught up."""
        self.checkpoint_ns = checkpoint_s * 1_000_000_000
        self.lock = threading.Lock()
        """Serialises the app's reads and timeline changes."""
        self.feed = RecordingFeed()
        self._cursor = (0, 0)
        self._applied_ns = self.file.first_ns - self.file.first_ns % STEP_NS
        self._checkpoints: dict[int, tuple[int, int, tuple[int, int]]] = {}
        """Checkpoint time -> (offset, length) in the spill file, and the cursor there."""
        self._spill = tempfile.TemporaryFile(prefix="poolmon-replay-")  # noqa: SIM115 (closed by stop)
        self.checkpoint_bytes = 0
        """Bytes of checkpoints spilled so far."""
        self._checkpoint_times: list[int] = []
        self._live_cursor = (0, 0)

    def _caught_up_ns(self) -> int:
        """Where the replay starts: the first step after the recorder's first backfill ended.

        The recorder connects, and the pool's WELCOME and its history (the minutes before the
        recording began) arrive over the next fraction of a second. Starting at the first
        frame showed an empty screen with no pool name at `0s`; starting once the backfill is
        in shows the pool as the recorder first saw it. A recording without a backfill (or
        whose backfill never ended within `CATCH_UP_LIMIT_NS`) starts at its first frame.
        """
        first = self.file.first_ns
        for index in range(len(self.file.blocks)):
            try:
                items = self.file.items(index)
            except IndexError:
                break
            for recv_ns, item in items:
                if recv_ns - first > CATCH_UP_LIMIT_NS:
                    return first
                if isinstance(item, HistoryEnd):
                    return min((recv_ns // STEP_NS + 1) * STEP_NS, self.file.last_ns)
        return first

    # -- SnapshotSource ----------------------------------------------------------------------

    def start(self) -> None:
        """Nothing runs in the background; the first snapshot applies the first frames."""

    def stop(self) -> None:
        """Release the file and the checkpoints."""
        self.file.close()
        self._spill.close()

    def status(self) -> SourceStatus:
        """`REPLAY 60x playing` as the state; where the replay is and stands as the detail."""
        with self.lock:
            mono = self.clock.monotonic_ns()
            at = self.timeline.position(mono)
            tl = self.timeline
            mode = "playing" if tl.playing else ("at end" if at >= tl.end_ns else "paused")
            state = f"REPLAY {tl.speed}x {mode}"
            parts = [
                f"{self.file.path.name} {length_words(at - tl.start_ns)} of "
                f"{length_words(tl.end_ns - tl.start_ns)}"
            ]
            severity = "info"
            if not self.feed.link_up and self.feed.down_reason:
                parts.append(f"recorded link down: {self.feed.down_reason}")
                severity = "warning"
            if self.feed.recorder_dropped:
                parts.append(f"recorder dropped {self.feed.recorder_dropped:,} frames")
                severity = "warning"
            damage = self.file.damage
            if damage is not None and at >= tl.end_ns:
                parts.append(f"replay stopped early: {damage.describe()}")
                severity = "error"
            elif damage is not None:
                parts.append(f"file damaged after {length_words(tl.end_ns - tl.start_ns)}")
                severity = "warning"
            return SourceStatus(state, " · ".join(parts), severity, self.feed.dropped, True)

    def snapshot(self, window_s: int) -> PoolSnapshot:
        """The aggregator's snapshot at the timeline's position."""
        return self.read(lambda agg: agg.snapshot(window_s))

    def worker(self, worker_id: int, window_s: int) -> WorkerView | None:
        """One worker's detail at the timeline's position."""
        return self.read(lambda agg: agg.worker(worker_id, window_s))

    def read(self, fn: Callable[[Aggregator], T]) -> T:
        """Move to the timeline's position and run `fn` on the aggregator there."""
        with self.lock:
            at = self.timeline.position(self.clock.monotonic_ns())
            self._goto(at)
            self.feed.clock.now_ns = at
            return fn(self.feed.aggregator)

    def command(self, name: str, args: Mapping[str, Any], timeout_s: float = 5.0) -> CommandResult:
        """Refused: there is no pool behind a recording."""
        return CommandResult(False, reason=REFUSAL.format(what=name))

    # -- the timeline ------------------------------------------------------------------------

    def position_ns(self) -> int:
        """The recording time shown."""
        with self.lock:
            return self.timeline.position(self.clock.monotonic_ns())

    def toggle_play(self) -> None:
        """Play or pause."""
        with self.lock:
            self.timeline.toggle(self.clock.monotonic_ns())

    def faster(self) -> int:
        """The next speed (1x, 10x, 60x, 600x, then 1x again); returns it."""
        with self.lock:
            self.timeline.faster(self.clock.monotonic_ns())
            return self.timeline.speed

    def seek(self, target_ns: int) -> int:
        """Move to `target_ns` (clamped) and apply the frames up to it; returns the position."""
        with self.lock:
            at = self.timeline.seek(target_ns, self.clock.monotonic_ns())
            self._goto(at)
            return at

    def seek_text(self, text: str) -> int:
        """Seek to a typed time (`02:47`, `+5m`, `-30s`, `12m`, `end`); ValueError if bad."""
        tl = self.timeline
        return self.seek(parse_seek(text, self.position_ns(), tl.start_ns, tl.end_ns))

    def next_mark(self, kind: str) -> int | None:
        """The time just after the next alert firing, worker crash or gap; None if none."""
        if kind not in MARKS:
            raise ValueError(f"mark must be one of {MARKS}")
        with self.lock:
            at = self.timeline.position(self.clock.monotonic_ns())
            firing: set[str] = set()
            view = self.feed.aggregator.alert_state.view
            if view is not None:
                firing = {a.id for a in view.alerts if a.state == "firing"}
            found = self._find(kind, at, firing)
        return None if found is None else (found // STEP_NS + 1) * STEP_NS

    # -- applying frames ---------------------------------------------------------------------

    def _goto(self, at_ns: int) -> None:
        boundary = at_ns - at_ns % STEP_NS
        if boundary == self._applied_ns:
            return
        times = self._checkpoint_times
        i = bisect.bisect_right(times, boundary) - 1
        best = times[i] if i >= 0 else None
        if boundary < self._applied_ns:
            if best is None:
                self._restart()
            else:
                self._restore(best)
        elif best is not None and best > self._applied_ns:
            self._restore(best)
        self._advance(boundary)

    def _restart(self) -> None:
        self.feed = RecordingFeed()
        self._cursor = (0, 0)
        self._applied_ns = self.file.first_ns - self.file.first_ns % STEP_NS

    def _restore(self, at_ns: int) -> None:
        offset, length, cursor = self._checkpoints[at_ns]
        self._spill.seek(offset)
        self.feed = pickle.loads(zlib.decompress(self._spill.read(length)))
        self._cursor = cursor
        self._applied_ns = at_ns

    def _advance(self, boundary: int) -> None:
        """Apply every entry received before `boundary`, one whole step at a time."""
        group: list[Item] = []
        step = None
        for index, pos, (recv_ns, item) in self._entries():
            if recv_ns >= boundary:
                self._cursor = (index, pos)
                break
            this = recv_ns // STEP_NS
            if step is not None and this != step:
                self._apply(group, this * STEP_NS)
                group = []
            step = this
            group.append((recv_ns, item))
        else:
            self._cursor = (len(self.file.blocks), 0)
        if group:
            self._apply(group, None)
        self._applied_ns = boundary

    def _apply(self, group: list[Item], next_step_ns: int | None) -> None:
        self.feed.apply_step(group)
        if next_step_ns is None:
            return
        mark = next_step_ns - next_step_ns % self.checkpoint_ns
        if mark > group[-1][0] and mark not in self._checkpoints:
            self._save(mark)

    def _save(self, at_ns: int) -> None:
        """Checkpoint: the feed now holds exactly the entries received before `at_ns`."""
        index, pos = self._peek_cursor()
        blob = zlib.compress(pickle.dumps(self.feed, pickle.HIGHEST_PROTOCOL), 1)
        offset = self._spill.seek(0, os.SEEK_END)
        self._spill.write(blob)
        self.checkpoint_bytes += len(blob)
        self._checkpoints[at_ns] = (offset, len(blob), (index, pos))
        bisect.insort(self._checkpoint_times, at_ns)

    def _peek_cursor(self) -> tuple[int, int]:
        return self._live_cursor

    def _entries(self) -> Iterator[tuple[int, int, Item]]:
        """Entries from the cursor on, with their (block, position); `_live_cursor` follows."""
        index, pos = self._cursor
        while index < len(self.file.blocks):
            try:
                items = self.file.items(index)
            except IndexError:
                return
            while pos < len(items):
                self._live_cursor = (index, pos)
                yield index, pos, items[pos]
                pos += 1
            index, pos = index + 1, 0
        self._live_cursor = (index, 0)

    def _find(self, kind: str, after_ns: int, firing: set[str]) -> int | None:
        """The receive time of the first `kind` mark after `after_ns` (scans, applies nothing)."""
        index = max(0, bisect.bisect_right([b.first_ns for b in self.file.blocks], after_ns) - 1)
        previous = None
        while index < len(self.file.blocks):
            try:
                items = self.file.items(index)
            except IndexError:
                return None
            for recv_ns, item in items:
                if recv_ns > after_ns and _is_mark(kind, item, recv_ns, previous, firing):
                    return recv_ns
                previous = recv_ns
            index += 1
        return None


def _is_mark(kind: str, item: object, recv_ns: int, previous: int | None, firing: set[str]) -> bool:
    """Whether a recorded frame is the start of an alert firing, a crash or a gap."""
    if kind == "gap":
        if isinstance(item, Note):
            return item.note in (LINK_DOWN, RECORDER_DROPPED)
        if isinstance(item, HistoryEnd):
            return item.lost > 0
        return previous is not None and recv_ns - previous >= SILENCE_GAP_NS
    if not isinstance(item, Batch):
        return False
    for _, event in item.events:
        if kind == "crash" and event.name == C.WORKER_EXIT:
            if event.metadata.get("reason") == "crash":
                return True
        elif kind == "alert" and event.name == C.ALERT_STATE:
            try:
                view = AlertsView.from_wire(event.metadata.get("view"))
            except ProtocolError:
                continue
            now = {a.id for a in view.alerts if a.state == "firing"}
            if now - firing:
                return True
            firing.intersection_update(now)
    return False


def length_words(ns: int) -> str:
    """`1h02m03s`, `2m03s`, `3s`: a length of recording."""
    secs = max(0, ns // 1_000_000_000)
    if secs >= 3600:
        return f"{secs // 3600}h{secs % 3600 // 60:02d}m{secs % 60:02d}s"
    if secs >= 60:
        return f"{secs // 60}m{secs % 60:02d}s"
    return f"{secs}s"
