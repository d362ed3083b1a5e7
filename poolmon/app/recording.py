"""The app's `R`: record the attached pool to a file while watching it, and stop again.

Why a second connection and not the app's own: a `Recorder` is exactly what `poolmon record`
runs (same client, reconnects, bounded writer, size cap), so a recording made from the app
is the same file a command-line recording would be, and the app's own ingest path stays
untouched. The status line says `● REC orders-20260101-020304.pmrec 1.2 MB` for as long as
it records; `R` again stops it and says where the file is and what it holds. Files go to
`$XDG_STATE_HOME/poolmon/recordings/` (`~/.local/state/poolmon/recordings/`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from poolmon.core.snapshot import PoolSnapshot
from poolmon.runtime.monitor import Monitor
from poolmon.runtime.source import SnapshotSource

if TYPE_CHECKING:
    from poolmon.runtime.recording.recorder import Recorder


class RecordingMixin(App[None]):
    """`R` for `PoolmonApp` (mixed in; see the module doc)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("R", "record", "Record", show=False, tooltip="Record this pool to a file")
    ]
    """
    | Key | Action |
    | :- | :- |
    | `R` | Start / stop recording the pool (file name in the status line). |
    """

    source: SnapshotSource
    _snapshot: PoolSnapshot | None
    recorder: Recorder | None = None
    """The recording in progress, if any."""

    def action_record(self) -> None:
        """Start recording the attached pool, or stop the recording in progress."""
        if self.recorder is not None:
            self.stop_recording("stopped with R")
            return
        if getattr(self, "replay", None) is not None:
            self.notify("This is a replay: it is already a recording.", severity="warning")
            return
        if not isinstance(self.source, Monitor):
            self.notify("Recording needs a live pool (attach to one).", severity="warning")
            return
        from poolmon.runtime.recording.recorder import Recorder, default_recording_path
        from poolmon.runtime.recording.writer import RecordingPathError  # on first use: start-up

        snap = self._snapshot
        name = snap.pool.name if snap is not None and snap.pool.name else "pool"
        try:
            path = default_recording_path(name, time.time_ns())
            self.recorder = Recorder(self.source.path, path, client="poolmon attach R").start()
        except (RecordingPathError, OSError) as exc:
            self.notify(f"Cannot record: {exc}", title="Recording", severity="error")
            return
        self.notify(f"Recording to {path}", title="Recording", timeout=6)

    def stop_recording(self, reason: str) -> None:
        """Stop the recording in progress (if any) and say what it holds."""
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return
        recorder.stop(reason)
        self.notify(f"{recorder.path}: {recorder.summary()}", title="Recording saved", timeout=10)

    def recording_detail(self, detail: str) -> str:
        """The status line's detail with `● REC file 1.2 MB` in front while recording."""
        recorder = self.recorder
        if recorder is None:
            return detail
        if recorder.ended.is_set():
            self.stop_recording(recorder.end_reason)
            return detail
        size = recorder.writer.bytes / 1e6 if recorder.writer is not None else 0.0
        words = f"● REC {recorder.path.name} {size:.1f} MB"
        return f"{words} · {detail}" if detail else words

    def on_unmount(self) -> None:
        """Quitting ends the recording cleanly (its last block and end note written)."""
        recorder, self.recorder = self.recorder, None
        if recorder is not None:
            recorder.stop("the app quit")
