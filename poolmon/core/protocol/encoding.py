"""Frames to bytes: `encode(frame)`, and the shared-record BATCH path a server fans out.

The encoding half of the sans-IO codec (`poolmon.core.protocol.codec` describes the wire format).
A BATCH's records can be packed once (`pack_records`) and sent to many monitors behind a
per-connection head (`encode_batch_parts`), which is why those two are public.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from typing import Any

import msgpack

from poolmon.core.events import TASK_COLUMNS, Event, TaskBatch
from poolmon.core.protocol.frames import (
    Batch,
    Command,
    Frame,
    FrameError,
    Reply,
    Rollups,
    Subscribe,
    Welcome,
)
from poolmon.core.protocol.wire import (
    FRAME_TYPES,
    HOST_IS_LITTLE_ENDIAN,
    LENGTH_PREFIX,
    MAX_BODY_SIZE,
)


def _packb(value: Any) -> bytes:
    packed: bytes = msgpack.packb(value, use_bin_type=True, default=_fallback)
    return packed


# A BATCH body is the array [4, {seq, end, events, tasks}]: fixarray(2), 4, fixmap(4).
_BATCH_HEAD = b"\x92\x04\x84"


def _fallback(value: Any) -> Any:
    """Make a metadata value msgpack cannot pack into something it can (a string, or a list).

    Metadata is user-provided; a set or an exception object in it must not stop the endpoint.
    """
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if isinstance(value, array):
        return value.tolist()
    return repr(value)


_PACKED_EVENTS_KEY = msgpack.packb("events")
_PACKED_TASKS_KEY = msgpack.packb("tasks")


def _columns_blob(batch: TaskBatch) -> bytes:
    """The eight columns of `batch` as one little-endian int64 blob, column after column."""
    if HOST_IS_LITTLE_ENDIAN:
        return b"".join([getattr(batch, name).tobytes() for name in TASK_COLUMNS])
    parts = []
    for name in TASK_COLUMNS:
        col = array("q", getattr(batch, name))
        col.byteswap()
        parts.append(col.tobytes())
    return b"".join(parts)


def task_batch_to_wire(seq: int, batch: TaskBatch) -> list[Any]:
    """One task record as it appears in a BATCH frame: `[seq, rows, ops, error_types, columns]`."""
    return [seq, len(batch), list(batch.ops), list(batch.error_types), _columns_blob(batch)]


def event_to_wire(seq: int, event: Event) -> list[Any]:
    """One event record as it appears in a BATCH frame: `[seq, name, ts_ns, meas, meta]`."""
    return [seq, event.name, event.ts_ns, dict(event.measurements), dict(event.metadata)]


def pack_records(
    events: Sequence[tuple[int, Event]], tasks: Sequence[tuple[int, TaskBatch]]
) -> bytes:
    """The `events` and `tasks` entries of a BATCH body, packed once.

    A server sends the same records to every monitor with the same subscription; only `seq`
    and `end` differ per connection, so the records are packed once and shared
    (`encode_batch`). The result is the msgpack of the two key/value pairs, in that order.
    """
    return b"".join(
        (
            _PACKED_EVENTS_KEY,
            _packb([event_to_wire(s, e) for s, e in events]),
            _PACKED_TASKS_KEY,
            _packb([task_batch_to_wire(s, b) for s, b in tasks]),
        )
    )


def encode_batch_parts(seq: int, end: int, packed_records: bytes) -> tuple[bytes, bytes]:
    """A whole BATCH frame as `(head, packed_records)`: write both, in order, to send it.

    `head` holds the length prefix, the frame type and `seq`/`end`; keeping `packed_records`
    separate lets a server queue one shared object for many connections (scatter-gather send).
    """
    fields = _BATCH_HEAD + _packb("seq") + _packb(seq) + _packb("end") + _packb(end)
    length = len(fields) + len(packed_records)
    if length > MAX_BODY_SIZE:
        raise FrameError(f"frame body of {length} bytes exceeds 2**32-1", "oversized")
    return LENGTH_PREFIX.pack(length) + fields, packed_records


def _fields_of(frame: Frame) -> dict[str, Any]:
    if isinstance(frame, Welcome):
        return {
            "magic": frame.magic,
            "version": frame.version,
            "pool": frame.pool,
            "pid": frame.pid,
            "host": frame.host,
            "started_at_ns": frame.started_at_ns,
            "catalog_version": frame.catalog_version,
            "capabilities": list(frame.capabilities),
            "max_frame_size": frame.max_frame_size,
            "heartbeat_interval_ns": frame.heartbeat_interval_ns,
            "next_seq": frame.next_seq,
            "oldest_seq": frame.oldest_seq,
            "read_only": frame.read_only,
        }
    if isinstance(frame, Subscribe):
        sub: dict[str, Any] = {
            "events": list(frame.events),
            "tasks": frame.tasks,
            "history": frame.history,
            "resume_seq": frame.resume_seq,
        }
        # Sent only when not the default, so a rows subscription is byte-for-byte what it was.
        if frame.live_tasks != "rows":
            sub["live_tasks"] = frame.live_tasks
        if frame.rollups_since_s is not None:
            sub["rollups_since_s"] = frame.rollups_since_s
        if frame.packed_rollups:
            sub["packed_rollups"] = True
        return sub
    if isinstance(frame, Rollups):
        return {"rollups": list(frame.rollups), "until_s": frame.until_s}
    if isinstance(frame, Command | Reply):
        out = {name: getattr(frame, name) for name in frame.__slots__}
        out["args" if isinstance(frame, Command) else "result"] = dict(
            frame.args if isinstance(frame, Command) else frame.result
        )
        return out
    return {name: getattr(frame, name) for name in frame.__slots__}


def encode(frame: Frame) -> bytes:
    """Serialise one frame, length prefix included.

    Raises:
        FrameError: The frame's body would not fit a 32-bit length (code `oversized`). Callers
            with a smaller peer limit check `len(result) - HEADER_SIZE` themselves.
    """
    if isinstance(frame, Batch):
        head, packed = encode_batch_parts(
            frame.seq, frame.end, pack_records(frame.events, frame.tasks)
        )
        return head + packed
    code = FRAME_TYPES.get(type(frame))
    if code is None:
        raise TypeError(f"not a protocol frame: {type(frame).__name__}")
    body: bytes = msgpack.packb([code, _fields_of(frame)], use_bin_type=True, default=_fallback)
    if len(body) > MAX_BODY_SIZE:
        raise FrameError(f"frame body of {len(body)} bytes exceeds 2**32-1", "oversized")
    return LENGTH_PREFIX.pack(len(body)) + body
