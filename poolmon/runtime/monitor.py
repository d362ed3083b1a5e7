"""The monitor: a client thread feeding an aggregator, and the snapshot source the app reads.

This is the glue between the pool's endpoint and the terminal app, and it imports no UI. A
`Monitor` owns one background thread that connects to the socket, ingests the history backfill
and the live stream into an `Aggregator`, and keeps a connection state (connecting, live,
stale, disconnected). When the connection drops it keeps the data, marks the gap, and
reconnects with exponential backoff, resuming from the last sequence number (or taking a fresh
backfill) so nothing is counted twice. The app pulls `snapshot(window_s)` on a timer; it never
receives a message per event.

`SnapshotSource` (poolmon/runtime/source.py) is the interface the app codes against; `Monitor`
implements it for a live pool and `poolmon.testing.streams.FeedSource` for generated streams
under a frozen clock.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

from poolmon.core.aggregator import Aggregator
from poolmon.core.batchmerge import claim_records, merge_batches
from poolmon.core.clock import Clock, SystemClock
from poolmon.core.errors import PoolmonError, ProtocolError
from poolmon.core.events import TaskBatch
from poolmon.core.protocol import Batch, Frame, Heartbeat, HistoryEnd, Rollups, Welcome
from poolmon.core.rollup_batch import fold_rollups
from poolmon.core.rollup_cols import rollup_cols
from poolmon.core.snapshot import PoolInfo, PoolSnapshot, WorkerView
from poolmon.runtime.client import Backoff, Disconnected, ReconnectingClient
from poolmon.runtime.frame_guard import skip_frame
from poolmon.runtime.heaptrim import HeapTrim, pin_mmap_threshold
from poolmon.runtime.intake import IntakeMeter
from poolmon.runtime.liveness import drop_kind, since
from poolmon.runtime.source import (
    CONNECTING,
    DISCONNECTED,
    LIVE,
    STALE,
    CommandResult,
    ConnectionState,
    SourceStatus,
)

T = TypeVar("T")

LOCAL_READ_COMMANDS: Final = frozenset({"ping", "stats", "settings"})
"""Commands a read-only monitor still sends (they change nothing; the pool allows them)."""

STALE_AFTER_S: Final = 5.0
"""No frame at all (not even a heartbeat) for this long turns a live connection stale."""

NOTICE_S: Final = 30.0
"""A pool restart is announced in the status detail this long."""

COALESCE_S: Final = 0.2
"""Task batches are merged for up to this long before the aggregator sees them."""
COALESCE_ROWS: Final = 50_000
"""...or until this many rows are waiting."""


class Monitor:
    """A live `SnapshotSource`: a client thread feeding an aggregator, with reconnection.

    Args:
        path: The pool's socket path.
        read_only: Ask the pool for a read-only connection, and refuse commands locally.
        clock: The aggregator's clock (the system clock by default).
        stale_after_s: Silence after which a live connection is reported stale.
        backoff: Reconnection delays (`poolmon.runtime.client.Backoff`).
        events: Event-name prefixes to subscribe to (`""`: every event, what the app needs).
        client: The name the pool sees for this connection.
        live_tasks: `"rows"` (what the app needs) or `"rollups"` (the watcher: per-second
            counts only, docs/PROTOCOL.md "Live rollups").
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        read_only: bool = False,
        clock: Clock | None = None,
        stale_after_s: float = STALE_AFTER_S,
        backoff: Backoff | None = None,
        events: tuple[str, ...] = ("",),
        client: str = "poolmon attach",
        live_tasks: str = "rows",
    ) -> None:
        self.path = path
        self.read_only = read_only
        self.clock: Clock = clock or SystemClock()
        self.aggregator = Aggregator(self.clock)
        """The engine; touch it only while holding `lock`."""
        self.lock = threading.Lock()
        """Serialises the client thread's ingestion and the app's reads."""
        self.stale_after_s = stale_after_s
        self.frames_seen = 0
        """Frames received from the pool over every connection (a drop notice is not one)."""
        self.histories = {True: 0, False: 0}
        """Completed histories by kind: resumed (True) or full backfill (False)."""
        self.intake = IntakeMeter(self.clock)
        """What arrives: lag, records, losses (the app's self-monitoring view reads it)."""
        self._client = ReconnectingClient(
            path, backoff=backoff, read_only=read_only, client=client, events=events,
            live_tasks=live_tasks,
        )  # fmt: skip
        self._thread: threading.Thread | None = None
        self._state: ConnectionState = CONNECTING
        self._detail = f"connecting to {path}"
        self._severity = "info"
        self._last_frame_mono_ns = 0
        self._last_data_wall_ns: int | None = None
        self._disconnected_at_ns: int | None = None
        self._server_dropped = 0
        self._history_lost = 0
        self._filling = False  # between WELCOME and HISTORY_END
        self._drop: tuple[str, str, float, int] | None = None
        self._notice: tuple[str, int] | None = None
        self._attempts = 0
        self._pending: list[TaskBatch] = []
        self._pending_rows = 0
        self._pending_since = 0.0
        self._heap_trim = HeapTrim()

    # -- SnapshotSource ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the client thread (it connects, backfills and follows the live stream)."""
        if self._thread is None:
            pin_mmap_threshold()  # poolmon.runtime.heaptrim: as in the pool, for the app
            self._thread = threading.Thread(target=self._run, name="poolmon-monitor", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the client thread and close the connection."""
        self._client.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def status(self) -> SourceStatus:
        """The connection status; a live connection silent for `stale_after_s` is stale."""
        state, detail, severity = self._state, self._detail, self._severity
        if state == DISCONNECTED:
            detail = self._drop_detail()
        elif not detail and self._notice is not None:
            text, at = self._notice
            if self.clock.monotonic_ns() - at < NOTICE_S * 1e9:
                detail, severity = text, "warning"
        if state == LIVE:
            silent_s = (self.clock.monotonic_ns() - self._last_frame_mono_ns) / 1e9
            if silent_s >= self.stale_after_s:
                state, detail, severity = STALE, f"no data for {silent_s:.0f}s", "warning"
        dropped = self._client.lost_records + self._server_dropped + self._history_lost
        client = self._client.client
        if client is not None:
            dropped += client.lost_records
        return SourceStatus(
            state, detail, severity, dropped, self.read_only, self._attempts, self._filling
        )

    def snapshot(self, window_s: int) -> PoolSnapshot:
        """The aggregator's snapshot, taken under the lock."""
        with self.lock:
            self._flush_locked()
            return self.aggregator.snapshot(window_s)

    def read(self, fn: Callable[[Aggregator], T]) -> T:
        """Run `fn` on the aggregator under the lock, held batches ingested first.

        For readers that need more than a snapshot in one consistent look (the headless
        watcher reads the snapshot and the since-attach totals together).
        """
        with self.lock:
            self._flush_locked()
            return fn(self.aggregator)

    def last_frame_age_s(self) -> float | None:
        """Seconds since the last frame from the pool (data or heartbeat); None before the first.

        A failed reconnection attempt is not a frame: while the pool is gone this only grows,
        so `poolmon_watcher_lag_seconds` says how old the figures are (docs/FLEET.md).
        """
        if not self.frames_seen:
            return None
        return (self.clock.monotonic_ns() - self._last_frame_mono_ns) / 1e9

    def rollups_until_s(self) -> int | None:
        """With live rollups: every second before this one is counted (None: not known yet)."""
        client = self._client.client
        return None if client is None else client.rollups_until_s

    def worker(self, worker_id: int, window_s: int) -> WorkerView | None:
        """One worker's detail, taken under the lock."""
        with self.lock:
            self._flush_locked()
            return self.aggregator.worker(worker_id, window_s)

    def command(self, name: str, args: Mapping[str, Any], timeout_s: float = 5.0) -> CommandResult:
        """Send a command through the endpoint's control channel and wait for the reply."""
        if self.read_only and name not in LOCAL_READ_COMMANDS:
            return CommandResult(False, reason="read-only mode")
        try:
            reply = self._client.command(name, args, timeout_s)
        except PoolmonError as exc:
            return CommandResult(False, reason=str(exc))
        return CommandResult(reply.ok, dict(reply.result), reply.reason)

    def drop_connection(self) -> None:
        """Break the connection as a failing link would; the monitor reconnects (tests)."""
        self._client.drop_connection()

    # -- the client thread -------------------------------------------------------------------

    def _run(self) -> None:
        try:
            for item in self._client.frames(poll_s=0.25):
                try:
                    self._handle(item)
                except Exception as exc:  # one unreadable frame costs its data, not the monitor
                    skip_frame(self, item, exc)
        except ProtocolError as exc:  # another protocol version, or not a poolmon socket
            self._drop = None  # nothing retries any more: say why, not "retrying in ..."
            self._set(DISCONNECTED, f"cannot monitor this pool: {exc}", "error")
        except Exception as exc:  # never let the thread die silently: say why on screen
            self._drop = None
            self._set(DISCONNECTED, f"monitor stopped: {type(exc).__name__}: {exc}", "error")

    def _set(self, state: ConnectionState, detail: str, severity: str = "info") -> None:
        self._state, self._detail, self._severity = state, detail, severity

    def _handle(self, item: Frame | Disconnected) -> None:
        self.intake.note(item)
        now_ns = self.clock.monotonic_ns()
        self._heap_trim(None, now_ns)
        if isinstance(item, Disconnected):  # no frame from the pool: its silence goes on
            self._attempts = item.attempt
            if self._disconnected_at_ns is None:
                self._disconnected_at_ns = self._last_data_wall_ns or self.clock.time_ns()
            self._on_drop(item, self._disconnected_at_ns)
            return
        self._last_frame_mono_ns = now_ns
        self.frames_seen += 1
        if isinstance(item, Welcome):
            self._on_welcome(item)
        elif isinstance(item, Batch):
            with self.lock:
                self._ingest_batch_locked(item)
            self._last_data_wall_ns = self.clock.time_ns()
            if self._state != LIVE:
                self._set(LIVE, "")
        elif isinstance(item, Rollups):
            rollups = rollup_cols(item.rollups)  # read (and checked) outside the lock
            with self.lock:
                self._flush_locked()  # held rows first: a rollup adds only what they lack
                fold_rollups(self.aggregator, rollups)
        elif isinstance(item, HistoryEnd):
            self._filling = False
            self.histories[item.resumed] += 1
            self._history_lost += item.lost
            if item.lost:
                with self.lock:
                    self.aggregator.note_dropped(item.lost)
            self._set(LIVE, "")
        elif isinstance(item, Heartbeat):
            self._server_dropped = item.dropped_records
            if self._state == CONNECTING:
                self._set(LIVE, "")

    def _ingest_batch_locked(self, item: Batch) -> None:
        """Every record of a BATCH in sequence order, each claimed once (docs/METRICS.md).

        Events are ingested at once and task batches held for merging, so the sequence
        number is claimed on arrival: a record a resume or backfill sends again is dropped
        here, whatever its kind, before it can count twice.
        """
        for record in claim_records(self.aggregator, item):
            self._queue_locked(record)

    def _queue_locked(self, batch: TaskBatch) -> None:
        """Hold a batch for merging; ingest the held ones when enough time or rows piled up."""
        if not self._pending:
            self._pending_since = time.monotonic()
        self._pending.append(batch)
        self._pending_rows += len(batch)
        if (
            self._pending_rows >= COALESCE_ROWS
            or time.monotonic() - self._pending_since >= COALESCE_S
        ):
            self._flush_locked()

    def _flush_locked(self) -> None:
        """Ingest the held batches as one (caller holds `lock`)."""
        if not self._pending:
            return
        merged = merge_batches(self._pending)
        self._pending, self._pending_rows = [], 0
        if len(merged):
            self.aggregator.ingest_tasks(merged)  # sequence numbers claimed on arrival

    def _on_drop(self, item: Disconnected, last_data_ns: int) -> None:
        """Freeze the figures at the last data and say what the drop means (docs/APP.md)."""
        with self.lock:
            self._flush_locked()
            agg = self.aggregator
            agg.note_link_down(last_data_ns)
            kind = drop_kind(item.reason, agg.pool, agg.pool_state == "terminated")
        self._drop, self._filling = (kind, item.reason, item.retry_in_s, item.attempt), False
        self._set(DISCONNECTED, kind, "error")

    def _drop_detail(self) -> str:
        """`pool exited (...) · last data 12:03:04 UTC, 35s ago · retrying in 1.2s ...`."""
        if self._drop is None:
            return self._detail
        kind, reason, retry_s, attempt = self._drop
        parts = [kind]
        if self._disconnected_at_ns is not None:
            parts.append(f"last data {since(self._disconnected_at_ns, self.clock.time_ns())}")
        parts += [f"retrying in {retry_s:.1f}s (attempt {attempt})", reason]
        return " · ".join(parts)

    def _on_welcome(self, welcome: Welcome) -> None:
        self._attempts = 0
        self._drop = None
        info = PoolInfo(
            welcome.pool, welcome.pid, welcome.host, welcome.started_at_ns, welcome.version
        )
        with self.lock:
            self._flush_locked()
            agg = self.aggregator
            old, restarts = agg.pool, agg.pool_restarts
            agg.note_link_up()
            if self._disconnected_at_ns is not None:
                # The stretch we missed is a gap until the backfill (or resume) fills it in.
                agg.mark_gap(self._disconnected_at_ns, self.clock.time_ns())
            agg.set_pool_info(info)
            if agg.pool_restarts > restarts:  # another instance (docs/METRICS.md)
                was = f"was {old.pid}" if old.pid != info.pid else "same process"
                text = f"pool restarted: new pid {info.pid} ({was})"
                self._notice = (text, self.clock.monotonic_ns())
        self._disconnected_at_ns, self._filling = None, True
        self._set(CONNECTING, f"attached to {welcome.pool} (pid {welcome.pid}); receiving history")
