"""Cutting records into frames no bigger than a monitor accepts (its HELLO `max_frame_size`).

Why: records are chunked by an estimate of their packed size, shared by every monitor with
the same subscription; a monitor that announced a small `max_frame_size` used to lose every
chunk that came out bigger than that, whole (a client announcing 64 KiB got between 15 and
1,594 of 5,050 task rows). Here a frame that does not fit is split for that one connection:
first between records (halving the sequence range), then a single task record between its
rows; each part of a split task record is a task record with the same `seq`, in a BATCH of
its own that covers `[seq, seq + 1)` (docs/PROTOCOL.md §4). Only an event record too big on
its own is dropped, and counted. This runs only when a frame does not fit, so the common
path pays one length comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from poolmon.core.events import Event, TaskBatch
from poolmon.core.protocol import Rollups
from poolmon.core.protocol.codec import encode, encode_batch_parts, pack_records
from poolmon.runtime.endpoint.connection import Connection

MIN_MAX_FRAME_SIZE: Final = 64 * 1024
"""The smallest `max_frame_size` a client may announce (docs/PROTOCOL.md §3): every frame but
an oversized single event record fits in it (a control frame is well under 1 KiB, a task row
64 bytes, a rollup a few hundred bytes)."""


def queue_batch(
    conn: Connection,
    lo: int,
    hi: int,
    events: Sequence[tuple[int, Event]],
    tasks: Sequence[tuple[int, TaskBatch]],
    packed: bytes | None = None,
) -> None:
    """Queue the records as BATCH frames covering [lo, hi), each within `conn.max_frame_size`."""
    if packed is None:
        packed = pack_records(events, tasks)
    head, body = encode_batch_parts(lo, hi, packed)
    if len(head) + len(body) - 4 <= conn.max_frame_size:
        conn.queue(head, body)
        return
    seqs = sorted([s for s, _ in events] + [s for s, _ in tasks])
    if len(seqs) > 1:
        mid = seqs[len(seqs) // 2]  # > seqs[0]: every record has a sequence number of its own
        queue_batch(
            conn, lo, mid, [r for r in events if r[0] < mid], [r for r in tasks if r[0] < mid]
        )
        queue_batch(
            conn, mid, hi, [r for r in events if r[0] >= mid], [r for r in tasks if r[0] >= mid]
        )
        return
    if tasks and len(tasks[0][1]) > 1:
        seq, batch = tasks[0]
        half = len(batch) // 2
        queue_batch(conn, lo, seq + 1, [], [(seq, _rows(batch, 0, half))])
        queue_batch(conn, seq, hi, [], [(seq, _rows(batch, half, len(batch)))])
        return
    rows = len(tasks[0][1]) if tasks else 0
    conn.drop(1, rows, len(events))  # one record that cannot fit on its own


def queue_rollups(conn: Connection, wires: tuple[Any, ...], until_s: int) -> None:
    """Queue ROLLUPS frames for `wires`, halving any frame that would not fit the connection."""
    frame = encode(Rollups(wires, until_s))
    if len(frame) - 4 <= conn.max_frame_size or len(wires) <= 1:
        conn.queue(frame)
        return
    half = len(wires) // 2
    queue_rollups(conn, wires[:half], until_s)
    queue_rollups(conn, wires[half:], until_s)


def _rows(batch: TaskBatch, a: int, b: int) -> TaskBatch:
    """Rows [a, b) of a task batch, with the same name tables."""
    return TaskBatch.trusted(
        batch.ops, batch.error_types, *(column[a:b] for _, column in batch.columns())
    )
