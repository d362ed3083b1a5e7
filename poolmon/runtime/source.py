"""What the terminal app reads from, whatever feeds it: the source interface and its values.

Why apart from `monitor`: the app, the fleet, replays, the self-watch and the test sources all
code against `SnapshotSource` and exchange `SourceStatus` and `CommandResult`; only one of
them (`Monitor`) is the live socket client. Keeping the interface here lets each of them
import it without the client's machinery, and keeps `monitor` to the client.
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
        state: connecting, live, stale or disconnected (a replay: `REPLAY 60x playing`).
        detail: Words for the status line: why it dropped, when the next attempt is.
        severity: info, warning or error (how `detail` is coloured).
        dropped: Events lost in transport since attaching (sequence gaps, server drops).
        read_only: Whether commands that change the pool are refused locally.
        attempts: Connection attempts since the last successful one.
        filling: The history (backfill or resume) is still arriving: figures are partial.
    """

    state: ConnectionState | str = "connecting"
    detail: str = ""
    severity: str = "info"
    dropped: int = 0
    read_only: bool = False
    attempts: int = 0
    filling: bool = False


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
