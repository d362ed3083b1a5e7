"""Turning one flush worth of numbered records into BATCH frames for many connections.

Records are filtered once per distinct subscription and packed once per chunk; each connection
then gets a small head of its own (its `seq`, `end`) in front of the shared packed bytes. A
connection whose output queue is already full gets nothing encoded for it: its loss is counted
from the filtered record counts, so a stalled monitor costs a comparison, not a copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from poolmon.core.events import Event, TaskBatch
from poolmon.core.protocol.codec import pack_records
from poolmon.runtime.endpoint.connection import Connection, matches
from poolmon.runtime.endpoint.fitting import queue_batch
from poolmon.runtime.endpoint.history import Record

CHUNK_BYTES: Final = 4 * 1024 * 1024
"""Estimated payload at which a flush is split into several BATCH frames."""
_EVENT_COST: Final = 160  # rough packed size of an event, for chunking only


@dataclass(slots=True)
class Chunk:
    """Records of one BATCH frame for one subscription, covering sequence numbers [lo, hi)."""

    lo: int
    hi: int
    events: list[tuple[int, Event]]
    tasks: list[tuple[int, TaskBatch]]
    task_rows: int
    packed: bytes | None = None

    @property
    def records(self) -> int:
        """Records in the chunk."""
        return len(self.events) + len(self.tasks)

    def pack(self) -> bytes:
        """The shared packed records (computed on first use)."""
        if self.packed is None:
            self.packed = pack_records(self.events, self.tasks)
        return self.packed


def split(
    records: Sequence[tuple[int, Record]],
    lo: int,
    hi: int,
    key: tuple[tuple[str, ...], bool],
    chunk_bytes: int = CHUNK_BYTES,
) -> list[Chunk]:
    """Filter `records` by a subscription key and cut them into chunks.

    The chunks together cover the sequence numbers [lo, hi) exactly, in order.
    """
    prefixes, want_tasks = key
    everything = prefixes == ("",)
    chunks: list[Chunk] = []
    current = Chunk(lo, hi, [], [], 0)
    size = 0
    for seq, record in records:
        if isinstance(record, TaskBatch):
            if not want_tasks:
                continue
            current.tasks.append((seq, record))
            current.task_rows += len(record)
            size += 64 * len(record)
        else:
            if not everything and not matches(prefixes, record.name):
                continue
            current.events.append((seq, record))
            size += _EVENT_COST
        if size >= chunk_bytes:
            current.hi = seq + 1
            chunks.append(current)
            current = Chunk(seq + 1, hi, [], [], 0)
            size = 0
    if current.records or not chunks:
        chunks.append(current)
    else:
        chunks[-1].hi = hi
    return chunks


def deliver(conn: Connection, chunks: Sequence[Chunk], limit: int) -> None:
    """Queue `chunks` to `conn`, or drop (and count) what does not fit under `limit` bytes."""
    for chunk in chunks:
        if not chunk.records:
            continue
        if conn.out_bytes >= limit:
            conn.drop(chunk.records, chunk.task_rows, len(chunk.events))
            continue
        seq = chunk.lo if conn.gap else min(conn.sent_end, chunk.lo)
        # split for this connection if it announced a smaller max_frame_size (fitting.py)
        queue_batch(conn, seq, chunk.hi, chunk.events, chunk.tasks, chunk.pack())
        conn.sent_end = chunk.hi
        conn.gap = False
