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
    """Where each task record's columns are in a BATCH body: (bin offset, bin header, rows).

    The columns are nearly all of a body; `_Cursor` reads the small items between them and
    jumps over each column bin, so the body is never copied to find them.
    """
    cursor = _Cursor(body)
    if cursor.do("read_array_header") != 2:
        raise FrameError("batch is not [type, fields]")
    cursor.do("skip")
    spans: list[tuple[int, int, int]] = []
    for _ in range(cursor.do("read_map_header")):
        if cursor.do("unpack") != "tasks":
            cursor.do("skip")
            continue
        for _ in range(cursor.do("read_array_header")):
            if cursor.do("read_array_header") != 5:
                raise FrameError("task record is not [seq, rows, ops, error_types, columns]")
            cursor.do("skip")
            rows = cursor.do("unpack")
            cursor.do("skip")
            cursor.do("skip")
            at = cursor.tell()
            head = _BIN_HEADER.get(body[at]) if at < len(body) else None
            size = rows * 8 * TASK_COLUMN_COUNT if _uint(rows) else -1
            if head is None or int.from_bytes(body[at + 1 : at + head], "big") != size:
                raise FrameError("task columns are not a bin of rows x 64 bytes")
            if at + head + size > len(body):
                raise FrameError("task columns cut short")
            spans.append((at, head, rows))
            cursor.jump(at + head + size)
    return spans


class _Cursor:
    """`msgpack.Unpacker` over a window of a body that can jump ahead (see `_column_spans`).

    An Unpacker copies all it is fed (20 us for a 170 KB body, 8 ns a task); a window of
    `WINDOW` bytes holds the small items, and grows when an item does not fit in it.
    """

    WINDOW: Final = 8192

    def __init__(self, body: bytes) -> None:
        self._view = memoryview(body)
        self._open(0, self.WINDOW)

    def _open(self, at: int, size: int) -> None:
        self._base, self._size = at, size
        self._unpacker = msgpack.Unpacker(raw=False, max_buffer_size=max(size, 1 << 20))
        self._unpacker.feed(self._view[at : at + size])

    def tell(self) -> int:
        """Offset in the body of the next item."""
        return self._base + int(self._unpacker.tell())

    def jump(self, at: int) -> None:
        """Continue at body offset `at` (after a bin read by offsets)."""
        self._open(at, self.WINDOW)

    def do(self, operation: str) -> Any:
        """Run an Unpacker operation on the next item, widening the window if it is cut."""
        while True:
            at = self.tell()
            try:
                return getattr(self._unpacker, operation)()
            except msgpack.OutOfData:
                if self._base + self._size >= len(self._view):
                    raise
                self._open(at, self._size * 8)
