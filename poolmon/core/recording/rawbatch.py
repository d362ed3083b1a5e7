"""BATCH frames kept as received bytes: what a recorder stores without decoding them.

Why: `poolmon record` runs on the pool's machine, and at 100k+ tasks/s a full decode of every
BATCH (events to dicts, task columns to arrays, every field checked) and its re-encoding cost
the saturated pool a measurable share of its CPU (docs/BENCHMARKS.md, "Record and replay").
A recorder needs only two things from a BATCH as it arrives: its `seq` and `end` (to resume
after a reconnect and to count lost records, as any monitor does), which sit at the head of
the body, and, in its writer thread, where the task columns are, to pack them for
compression (`columns.pack_sparse`). `UndecodedBatch` is a `Batch` that reads just the head
and decodes its records only if someone reads them; `packed_batch_entry` packs the columns
into a new body, leaving every other byte as the pool sent it.
"""

from __future__ import annotations

from typing import Any, Final

import msgpack

from poolmon.core.events import Event, TaskBatch
from poolmon.core.protocol import Batch, FrameError, decode_body
from poolmon.core.protocol.wire import TASK_COLUMN_COUNT
from poolmon.core.recording.columns import pack_sparse
from poolmon.core.recording.format import ENTRY_FRAME, ENTRY_SPARSE_BATCH, Entry

BATCH_PREFIX: Final = b"\x92\x04"
"""How every BATCH body starts: the msgpack array of two, then type 4."""

_HEAD_BYTES: Final = 48
"""Enough of a body for `[4, {"seq": u64, "end": u64, ...` (at most 3 + 2 * (4 + 9) bytes)."""

_BIN_HEADER: Final = {0xC4: 2, 0xC5: 3, 0xC6: 5}
"""msgpack bin 8/16/32 markers -> bytes before the data."""


class UndecodedBatch(Batch):
    """A BATCH whose `seq` and `end` are read from its head and whose records stay bytes.

    It is a real `Batch`: reading `events` or `tasks` decodes the body then (once, checked by
    the protocol's decoder, FrameError if it is not valid), so anything that handles batches
    handles this one. A recorder never reads them and stores `body` instead.

    Attributes:
        body: The frame body exactly as received (no length prefix).
    """

    __slots__ = ("_decoded", "body")

    body: bytes
    _decoded: Batch | None

    def __init__(self, body: bytes, seq: int, end: int) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "end", end)
        object.__setattr__(self, "body", body)
        object.__setattr__(self, "_decoded", None)

    @property
    def events(self) -> tuple[tuple[int, Event], ...]:
        """The batch's events, decoded on first use."""
        return self._records().events

    @property
    def tasks(self) -> tuple[tuple[int, TaskBatch], ...]:
        """The batch's task batches, decoded on first use."""
        return self._records().tasks

    def _records(self) -> Batch:
        if self._decoded is None:
            decoded = decode_body(self.body)
            if not isinstance(decoded, Batch):
                raise FrameError("an undecoded BATCH body decodes to another frame")
            object.__setattr__(self, "_decoded", decoded)
            return decoded
        return self._decoded

    def __repr__(self) -> str:
        return f"UndecodedBatch(seq={self.seq}, end={self.end}, body=<{len(self.body)} bytes>)"


def batch_from_body(body: bytes) -> Batch | None:
    """An `UndecodedBatch` for a BATCH body that starts with `seq` and `end`, else None.

    Every pool writes `seq` and `end` first; None means another frame, or a BATCH laid out
    otherwise: decode it fully.

    Raises:
        FrameError: The head says BATCH but `seq`/`end` are not valid.
    """
    if not body.startswith(BATCH_PREFIX):
        return None
    unpacker = msgpack.Unpacker(raw=False)
    unpacker.feed(body[:_HEAD_BYTES])
    try:
        unpacker.read_array_header()
        unpacker.skip()
        if unpacker.read_map_header() < 2:
            return None
        k1, seq, k2, end = (unpacker.unpack() for _ in range(4))
    except (msgpack.OutOfData, ValueError, TypeError):
        return None
    if (k1, k2) != ("seq", "end"):
        return None
    if not (_uint(seq) and _uint(end)):
        raise FrameError("batch seq and end must be unsigned integers")
    if end < seq:
        raise FrameError(f"batch end {end} before seq {seq}")
    return UndecodedBatch(body, seq, end)


def _uint(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def packed_batch_entry(body: bytes, recv_ns: int) -> tuple[Entry, int]:
    """The recording entry for a received BATCH body, and the task rows it holds.

    Each task record's `columns` bin is replaced by its sparse-packed form
    (`columns.pack_sparse`, read in place from `body`), every other byte stays as received:
    an `ENTRY_SPARSE_BATCH`. A body whose task records are not laid out as the protocol says
    is stored as it came (`ENTRY_FRAME`, 0 rows): the replay's decoder then reports it where
    it is.
    """
    try:
        spans = _column_spans(body)
    except (FrameError, msgpack.OutOfData, ValueError, TypeError):
        return Entry(ENTRY_FRAME, recv_ns, body), 0
    if not spans:
        return Entry(ENTRY_FRAME, recv_ns, body), 0
    parts: list[bytes] = []
    done = 0
    rows_total = 0
    for at, head, rows in spans:
        packed = pack_sparse(body, rows, at + head)
        parts += (body[done:at], _bin_header(len(packed)), packed)
        done = at + head + rows * 8 * TASK_COLUMN_COUNT
        rows_total += rows
    parts.append(body[done:])
    return Entry(ENTRY_SPARSE_BATCH, recv_ns, b"".join(parts)), rows_total


def _bin_header(size: int) -> bytes:
    """The shortest msgpack bin header for `size` bytes (what msgpack itself writes)."""
    if size < 1 << 8:
        return bytes((0xC4, size))
    if size < 1 << 16:
        return bytes((0xC5,)) + size.to_bytes(2, "big")
    return bytes((0xC6,)) + size.to_bytes(4, "big")


def _column_spans(body: bytes) -> list[tuple[int, int, int]]:
    """Where each task record's columns are in a BATCH body: (bin offset, bin header, rows)."""
    unpacker = msgpack.Unpacker(raw=False, max_buffer_size=len(body) + 1)
    unpacker.feed(body)
    if unpacker.read_array_header() != 2:
        raise FrameError("batch is not [type, fields]")
    unpacker.skip()
    spans: list[tuple[int, int, int]] = []
    for _ in range(unpacker.read_map_header()):
        if unpacker.unpack() != "tasks":
            unpacker.skip()
            continue
        for _ in range(unpacker.read_array_header()):
            if unpacker.read_array_header() != 5:
                raise FrameError("task record is not [seq, rows, ops, error_types, columns]")
            unpacker.skip()
            rows = unpacker.unpack()
            unpacker.skip()
            unpacker.skip()
            at = unpacker.tell()
            unpacker.skip()
            head = _BIN_HEADER.get(body[at])
            size = rows * 8 * TASK_COLUMN_COUNT if _uint(rows) else -1
            if head is None or unpacker.tell() - at != head + size:
                raise FrameError("task columns are not a bin of rows x 64 bytes")
            spans.append((at, head, rows))
    return spans
