"""The frames of the monitor protocol, one frozen dataclass per frame type.

A frame is what one length-prefixed message on the monitor socket carries (docs/PROTOCOL.md).
These classes are plain values: the codec (`poolmon.core.protocol.codec`) turns them into bytes
and back, and the server and client only move those bytes. Keeping the values separate from
the codec is what lets the same frames be built in a test, checked against the spec's byte
dumps, or replayed from a recording without a socket.

Direction: `C>S` frames are sent by a monitor (client), `S>C` by the pool's endpoint (server),
`both` by either side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias

from poolmon.core.errors import ProtocolError
from poolmon.core.events import Event, TaskBatch

PROTOCOL_VERSION: Final = 1
"""Bumped on any incompatible change to framing or to a frame's required fields."""

PROTOCOL_MAGIC: Final = "poolmon"
"""Sent in HELLO and WELCOME so that a stray peer speaking msgpack is told apart at once."""

DEFAULT_MAX_FRAME_SIZE: Final = 16 * 1024 * 1024
"""Largest frame body (bytes, excluding the 4-byte length prefix) a peer accepts by default."""

HEADER_SIZE: Final = 4
"""Bytes in the length prefix (unsigned 32-bit big-endian body length)."""

CAPABILITIES: Final[tuple[str, ...]] = (
    "events",
    "tasks",
    "history",
    "rollups",
    "resume",
    "commands",
    "heartbeat",
    "live_rollups",
    "packed_rollups",
)
"""What a version-1 server offers; listed in WELCOME so clients can adapt without a version bump."""

LIVE_TASKS: Final[tuple[str, ...]] = ("rows", "rollups")
"""The values of `Subscribe.live_tasks`."""


@dataclass(frozen=True, slots=True)
class Hello:
    """C>S, first frame of a connection: who the monitor is and what it speaks.

    Attributes:
        version: Protocol version the client speaks (`PROTOCOL_VERSION`).
        client: Free-form client name, for the pool's logs and `poolmon.control.command`.
        pid: The monitor's process id (0 if unknown).
        read_only: Ask for a connection that may not change the pool.
        max_frame_size: Largest frame the client accepts; the server never sends a bigger one.
        magic: Always `PROTOCOL_MAGIC`.
    """

    version: int = PROTOCOL_VERSION
    client: str = ""
    pid: int = 0
    read_only: bool = False
    max_frame_size: int = DEFAULT_MAX_FRAME_SIZE
    magic: str = PROTOCOL_MAGIC


@dataclass(frozen=True, slots=True)
class Welcome:
    """S>C, the answer to HELLO: who the pool is and what this server offers.

    Attributes:
        version: Protocol version the server speaks (equal to the client's, or it sends ERROR).
        pool: Pool name.
        pid: Pool process id.
        host: Host name.
        started_at_ns: When the pool started (wall clock, ns since the epoch).
        catalog_version: `poolmon.core.catalog.CATALOG_VERSION` of the pool.
        capabilities: Features offered (`CAPABILITIES`).
        max_frame_size: Largest frame the server accepts.
        heartbeat_interval_ns: The server sends HEARTBEAT at least this often.
        next_seq: Sequence number the next live record will get.
        oldest_seq: Oldest record sequence number still held for resume.
        read_only: Whether the connection is read-only (asked for, or imposed by the server).
        magic: Always `PROTOCOL_MAGIC`.
    """

    version: int = PROTOCOL_VERSION
    pool: str = ""
    pid: int = 0
    host: str = ""
    started_at_ns: int = 0
    catalog_version: int = 0
    capabilities: tuple[str, ...] = CAPABILITIES
    max_frame_size: int = DEFAULT_MAX_FRAME_SIZE
    heartbeat_interval_ns: int = 1_000_000_000
    next_seq: int = 0
    oldest_seq: int = 0
    read_only: bool = False
    magic: str = PROTOCOL_MAGIC


@dataclass(frozen=True, slots=True)
class Subscribe:
    """C>S: start (or change) the stream of records this connection receives.

    Attributes:
        events: Event-name prefixes; a prefix matches the name itself and every dotted name
            below it (`poolmon.worker` matches `poolmon.worker.exit`, not `poolmon.workers`).
            `""` matches every event; an empty tuple subscribes to no plain events.
        tasks: Whether to receive task batches.
        history: Whether to receive the history backfill before the live stream.
        resume_seq: Resume from this record sequence number (one past the last one received)
            instead of a full backfill, if the server still holds it.
        live_tasks: How live tasks arrive (with `tasks`): `"rows"`, one row per task in BATCH
            frames; `"rollups"`, one ROLLUPS frame per closed second instead (capability
            `live_rollups`; docs/PROTOCOL.md, "Live rollups"): a monitor that exports counters
            needs no per-task rows, and a pool's second costs it one small frame.
        rollups_since_s: With `live_tasks="rollups"` and `resume_seq`: the first second whose
            rollup the client lacks (the `until_s` it last received), so a resume resends the
            seconds closed while it was away.
        packed_rollups: Receive ROLLUPS with packed histograms (rollup version 2, capability
            `packed_rollups`; docs/PROTOCOL.md, "Packed histograms"): a 15-minute backfill
            is a million bucket numbers and counts, which as msgpack ints cost the monitor
            most of its attach time; as little-endian arrays numpy reads them in one call.
    """

    events: tuple[str, ...] = ("",)
    tasks: bool = True
    history: bool = True
    resume_seq: int | None = None
    live_tasks: str = "rows"
    rollups_since_s: int | None = None
    packed_rollups: bool = False


@dataclass(frozen=True, slots=True)
class Batch:
    """S>C: records of the pool's telemetry stream, filtered by the connection's subscription.

    Every record (one event, or one task batch) has a sequence number assigned by the server in
    the order it reached the endpoint. The frame covers sequence numbers `[seq, end)`; records
    filtered out by the subscription are simply absent. If a frame's `seq` is greater than the
    previous frame's `end`, the records in between were lost (the connection's buffer was full).

    Attributes:
        seq: First sequence number covered.
        end: One past the last sequence number covered.
        events: `(seq, Event)` pairs, ascending.
        tasks: `(seq, TaskBatch)` pairs, ascending.
    """

    seq: int
    end: int
    events: tuple[tuple[int, Event], ...] = ()
    tasks: tuple[tuple[int, TaskBatch], ...] = ()


@dataclass(frozen=True, slots=True)
class Rollups:
    """S>C, history: per-second rollups of task batches (`poolmon.core.rollup` wire form).

    Attributes:
        rollups: Rollups in ascending second order, each as its `to_wire()` value.
        until_s: Every rollup sent on this connection covers a second strictly before this one
            (Unix seconds); tasks of second `until_s` and later arrive as raw task batches.
    """

    rollups: tuple[Any, ...] = ()
    until_s: int = 0


@dataclass(frozen=True, slots=True)
class HistoryEnd:
    """S>C: the backfill (or resume) is complete; live records follow.

    Attributes:
        live_seq: Sequence number of the first live record.
        rollups_until_s: `Rollups.until_s` of this connection's backfill (0 when none was sent).
        resumed: True when the server resumed from `Subscribe.resume_seq`, False for a full
            backfill (the client should then replace, not add to, what it had).
        lost: Records between `resume_seq` and the oldest record held (0 when resumed whole).
    """

    live_seq: int
    rollups_until_s: int = 0
    resumed: bool = False
    lost: int = 0


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """Both directions: the peer is alive; the server's also carries this connection's losses.

    Attributes:
        ts_ns: Sender's wall clock.
        next_seq: Server: sequence number of the next record. Client: 0.
        dropped_records: Server: records not delivered to this connection since it opened.
        dropped_tasks: Server: task rows among them.
        dropped_events: Server: plain events among them.
    """

    ts_ns: int
    next_seq: int = 0
    dropped_records: int = 0
    dropped_tasks: int = 0
    dropped_events: int = 0


@dataclass(frozen=True, slots=True)
class Command:
    """C>S: ask the pool to do something; answered by one REPLY with the same `id`.

    Attributes:
        id: Client-chosen identifier, echoed in the reply.
        name: Command name (docs/PROTOCOL.md lists them and their arguments).
        args: Keyword arguments.
    """

    id: int
    name: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reply:
    """S>C: the outcome of one COMMAND.

    Attributes:
        id: The command's `id`.
        ok: Whether it was carried out.
        result: What it returned (command-specific).
        reason: Why it was refused or failed (empty when `ok`).
    """

    id: int
    ok: bool
    result: Mapping[str, Any] = field(default_factory=dict)
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Error:
    """Both directions: a fatal problem with this connection; the sender closes it next.

    Attributes:
        code: Machine-readable reason (`ERROR_CODES`).
        message: Human-readable detail.
    """

    code: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class Close:
    """Both directions: an orderly goodbye; the sender closes the connection next.

    Attributes:
        reason: Why (`shutdown`, `client_exit`, ...).
    """

    reason: str = ""


Frame: TypeAlias = (
    Hello | Welcome | Subscribe | Batch | Rollups | HistoryEnd | Heartbeat | Command | Reply | Error
) | Close
"""Any frame."""

ERROR_CODES: Final[tuple[str, ...]] = (
    "protocol",
    "version",
    "oversized",
    "unexpected",
    "forbidden",
    "internal",
)
"""Error codes: malformed input, unsupported version, frame too big, frame out of place, peer
not allowed, server bug. A pool that stops says goodbye with CLOSE `shutdown`, not an ERROR."""


class FrameError(ProtocolError):
    """Input that is not a valid frame: garbage, truncated, oversized, unknown or misplaced.

    Attributes:
        code: One of `ERROR_CODES`, to put in the ERROR frame sent back before closing.
    """

    def __init__(self, message: str, code: str = "protocol") -> None:
        super().__init__(message)
        self.code = code
