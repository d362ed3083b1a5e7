"""`Recorder`: attach to a pool like a monitor and write everything it receives to a file.

Why the monitor's own client: a recording must hold what a monitor would have received -
the backfill on attach, the live stream, a resume or a fresh backfill after a reconnect - so
the recorder runs the same `ReconnectingClient` (same handshake, subscription, resume and
backoff) and stores each frame with its receive time. Its connection is a `RawMonitorClient`:
BATCH frames, nearly all the bytes, are kept as received (only their `seq`/`end` head is
read), and the writer thread packs their task columns straight from those bytes. A dropped
link is stored as a note (the replay shows the gap exactly where the live monitor did). The
connection is read-only: a recorder never changes the pool. The file is opened (and its path
checked) before the first connection, so a bad path fails at once; the header is written
when the pool's WELCOME says who it is.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from poolmon import __version__
from poolmon.core.errors import ProtocolError
from poolmon.core.protocol import Welcome
from poolmon.core.recording.entries import LINK_DOWN
from poolmon.core.recording.format import RecordingHeader
from poolmon.runtime.client import Backoff, Disconnected, ReconnectingClient
from poolmon.runtime.recording.rawclient import RawMonitorClient
from poolmon.runtime.recording.writer import RecordingWriter, check_output


class Recorder:
    """Records the pool at `socket_path` into `path` (see the module doc).

    Args:
        socket_path: The pool's socket.
        path: The recording file.
        max_bytes: Size cap per file (None: none).
        rotate: At the cap, continue in a next part instead of stopping.
        force: Overwrite an existing file.
        client: The name the pool sees (`poolmon record`, `poolmon attach`).
        backoff: Reconnection delays.
    """

    def __init__(
        self,
        socket_path: str | os.PathLike[str],
        path: Path,
        *,
        max_bytes: int | None = None,
        rotate: bool = False,
        force: bool = False,
        client: str = "poolmon record",
        backoff: Backoff | None = None,
    ) -> None:
        check_output(path, force)
        self.path = path
        self.max_bytes = max_bytes
        self.rotate = rotate
        self.force = force
        self.client_name = client
        self.writer: RecordingWriter | None = None
        """The file writer, once the pool's WELCOME arrived."""
        self.ended = threading.Event()
        """Set when the recording ended by itself (size cap, disk error, protocol refused)."""
        self.end_reason = ""
        """Why it ended by itself."""
        self.links = 0
        """Connections made (1 + reconnects)."""
        self.link_state = "connecting"
        """connecting, recording or reconnecting."""
        self._client = ReconnectingClient(
            socket_path,
            backoff=backoff,
            client_class=RawMonitorClient,
            read_only=True,
            client=client,
            events=("",),
        )
        self._thread: threading.Thread | None = None

    def start(self) -> Recorder:
        """Connect and record in a background thread (returns at once)."""
        self._thread = threading.Thread(target=self._run, name="poolmon-record", daemon=True)
        self._thread.start()
        return self

    def stop(self, reason: str = "stopped") -> None:
        """Stop receiving, write what is queued and an end note, close the file."""
        self._client.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.writer is not None:
            self.writer.close(reason)

    def _run(self) -> None:
        try:
            for item in self._client.frames(poll_s=0.25):
                recv_ns = time.time_ns()
                if isinstance(item, Disconnected):
                    self.link_state = "reconnecting"
                    if self.writer is not None:
                        self.writer.note(LINK_DOWN, recv_ns, reason=item.reason)
                    continue
                if isinstance(item, Welcome):
                    self.links += 1
                    self.link_state = "recording"
                    if self.writer is None:
                        self.writer = self._open(item, recv_ns)
                if self.writer is not None:
                    self.writer.put(item, recv_ns)
                    if self.writer.stopped:
                        self._end(self.writer.stopped)
                        return
        except ProtocolError as exc:
            self._end(f"cannot record this pool: {exc}")

    def _open(self, welcome: Welcome, recv_ns: int) -> RecordingWriter:
        header = RecordingHeader(
            protocol_version=welcome.version,
            pool=welcome.pool,
            pid=welcome.pid,
            host=welcome.host,
            pool_started_at_ns=welcome.started_at_ns,
            started_at_ns=recv_ns,
            catalog_version=welcome.catalog_version,
            recorder=f"{self.client_name} {__version__}",
        )
        return RecordingWriter(
            self.path,
            header,
            max_bytes=self.max_bytes,
            rotate=self.rotate,
            force=self.force,
            on_stop=self._end,
        )

    def _end(self, reason: str) -> None:
        if not self.ended.is_set():
            self.end_reason = reason
            self.ended.set()
            self._client.stop()

    def summary(self) -> str:
        """`12,345 frames, 1,234,567 tasks, 8.1 MB (6.6 bytes a task), 0 dropped`."""
        w = self.writer
        if w is None:
            return "nothing recorded (the pool never answered)"
        per_task = f" ({w.bytes / w.tasks:.1f} bytes a task)" if w.tasks else ""
        parts = f", {w.header.part} files" if w.header.part > 1 else ""
        return (
            f"{w.frames:,} frames, {w.tasks:,} tasks, {w.bytes / 1e6:.1f} MB{per_task}{parts}, "
            f"{w.dropped_frames:,} frames dropped by a slow disk, "
            f"{self.lost_records():,} records the pool could not send, {self.links - 1} reconnects"
        )

    def lost_records(self) -> int:
        """Records the pool dropped for this recorder (its buffer overflowed), all connections."""
        client = self._client.client
        return self._client.lost_records + (client.lost_records if client is not None else 0)


def recordings_dir() -> Path:
    """Where the app's `R` writes: `$XDG_STATE_HOME/poolmon/recordings` (or ~/.local/state)."""
    from poolmon.runtime.alerting.state_file import default_state_root

    return default_state_root() / "recordings"


def default_recording_path(pool: str, now_ns: int) -> Path:
    """`<recordings_dir>/<pool>-20260101-020304.pmrec` (UTC), the folder created."""
    from poolmon.runtime.alerting.state_file import safe_dir_name

    folder = recordings_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now_ns / 1e9))
    return folder / f"{safe_dir_name(pool)}-{stamp}.pmrec"
