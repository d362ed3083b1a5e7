"""The monitor: a client thread feeding an aggregator, and the snapshot source the app reads.

This is the glue between the pool's endpoint and the terminal app, and it imports no UI. A
`Monitor` owns one background thread that connects to the socket, ingests the history backfill
and the live stream into an `Aggregator`, and keeps a connection state (connecting, live,
stale, disconnected). When the connection drops it keeps the data, marks the gap, and
reconnects with exponential backoff, resuming from the last sequence number (or taking a fresh
backfill) so nothing is counted twice. The app pulls `snapshot(window_s)` on a timer; it never
receives a message per event.

`SnapshotSource` is the interface the app codes against; `Monitor` implements it for a live
pool and `poolmon.testing.streams.FeedSource` for generated streams under a frozen clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol

from poolmon.core.snapshot import PoolSnapshot, WorkerView

ConnectionState = Literal["connecting", "live", "stale", "disconnected"]
"""Where the connection to the pool stands."""

CONNECTING: Final = "connecting"
LIVE: Final = "live"
STALE: Final = "stale"
DISCONNECTED: Final = "disconnected"


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """The connection as the app shows it.

    Attributes:
        state: connecting, live, stale or disconnected.
        detail: Words for the status line: why it dropped, when the next attempt is.
        severity: info, warning or error (how `detail` is coloured).
        dropped: Events lost in transport since attaching (sequence gaps, server drops).
        read_only: Whether commands that change the pool are refused locally.
        attempts: Connection attempts since the last successful one.
    """

    state: ConnectionState = "connecting"
    detail: str = ""
    severity: str = "info"
    dropped: int = 0
    read_only: bool = False
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class CommandResult:
    """The pool's answer to a command (or the local reason it was never sent).

    Attributes:
        ok: Whether the pool carried it out.
        result: What the command returned (e.g. `{"size": 5}` for resize).
        reason: Why it was refused or failed; empty when `ok`.
    """

    ok: bool
    result: Mapping[str, Any] = field(default_factory=dict)
    reason: str = ""


class SnapshotSource(Protocol):
    """What the terminal app reads: snapshots, worker detail, status; and commands out."""

    def start(self) -> None:
        """Begin connecting/ingesting in the background (returns at once)."""
        ...

    def stop(self) -> None:
        """Stop the background work and release the connection."""
        ...

    def status(self) -> SourceStatus:
        """The current connection status."""
        ...

    def snapshot(self, window_s: int) -> PoolSnapshot:
        """Everything the overview shows, over the last `window_s` seconds."""
        ...

    def worker(self, worker_id: int, window_s: int) -> WorkerView | None:
        """One worker's full detail, or None if unknown."""
        ...

    def command(self, name: str, args: Mapping[str, Any], timeout_s: float = 5.0) -> CommandResult:
        """Send a control command and wait for the pool's reply (blocking: call off the UI)."""
        ...
