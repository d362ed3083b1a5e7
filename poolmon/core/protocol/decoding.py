"""Bytes to frames: `decode_body(body)` and the incremental, fail-closed `Decoder`.

The decoding half of the sans-IO codec (`poolmon.core.protocol.codec` describes the wire format).
Every field is checked (`fields`); anything that is not a valid frame raises `FrameError` and a
`Decoder` that saw it stays failed, because a byte stream cannot be resynchronised after garbage.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Mapping
from typing import Any, Final

import msgpack
import numpy as np

from poolmon.core.events import TASK_COLUMNS, Event, TaskBatch
from poolmon.core.protocol import fields as f
from poolmon.core.protocol.frames import (
    DEFAULT_MAX_FRAME_SIZE,
    HEADER_SIZE,
    LIVE_TASKS,
    Batch,
    Close,
    Command,
    Error,
    Frame,
    FrameError,
    Heartbeat,
    Hello,
    HistoryEnd,
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
    TASK_COLUMN_COUNT,
)

_LE_INT64 = np.dtype("<i8")


def _task_batch(record: Any) -> tuple[int, TaskBatch]:
    if not isinstance(record, list) or len(record) != 5:
        raise FrameError("task record must be [seq, rows, ops, error_types, columns]")
    seq, rows, ops, errs, blob = record
    seq = f.check_uint("task seq", seq)
    rows = f.check_uint("task rows", rows)
    ops = f.check_str_tuple("task ops", ops)
    errs = f.check_str_tuple("task error_types", errs)
    if not isinstance(blob, bytes):
        raise FrameError("task columns must be bin")
    if len(blob) != rows * 8 * TASK_COLUMN_COUNT:
        raise FrameError(f"task columns hold {len(blob)} bytes, {rows} rows need {rows * 64}")
    if not errs or errs[0] != "":
        raise FrameError("task error_types[0] must be ''")
    grid = np.frombuffer(blob, dtype=_LE_INT64).reshape(TASK_COLUMN_COUNT, rows)
    if rows:
        op_col, err_col = grid[TASK_COLUMNS.index("op")], grid[TASK_COLUMNS.index("error_type")]
        if op_col.min() < 0 or op_col.max() >= len(ops):
            raise FrameError("task op index outside the ops table")
        if err_col.min() < 0 or err_col.max() >= len(errs):
            raise FrameError("task error_type index outside the error_types table")
    cols = []
    view = memoryview(blob)
    width = rows * 8
    for i in range(TASK_COLUMN_COUNT):
        col = array("q")
        col.frombytes(view[i * width : (i + 1) * width])
        if not HOST_IS_LITTLE_ENDIAN:
            col.byteswap()
        cols.append(col)
    return seq, TaskBatch(ops, errs, *cols)


def _event(record: Any) -> tuple[int, Event]:
    if not isinstance(record, list) or len(record) != 5:
        raise FrameError("event record must be [seq, name, ts_ns, measurements, metadata]")
    seq, name, ts_ns, meas, meta = record
    return f.check_uint("event seq", seq), Event(
        f.check_str("event name", name),
        f.check_int("event ts_ns", ts_ns),
        f.check_measurements(meas),
        f.check_map("event metadata", meta),
    )


def _batch(m: Mapping[str, Any]) -> Batch:
    seq = f.uint(m, "seq")
    end = f.uint(m, "end")
    if end < seq:
        raise FrameError(f"batch end {end} before seq {seq}")
    events = tuple(_event(r) for r in f.lst(m, "events", []))
    tasks = tuple(_task_batch(r) for r in f.lst(m, "tasks", []))
    for s, _ in (*events, *tasks):
        if not seq <= s < end:
            raise FrameError(f"record seq {s} outside the batch's [{seq}, {end})")
    return Batch(seq, end, events, tasks)


def _hello(m: Mapping[str, Any]) -> Hello:
    f.check_magic(m)
    return Hello(
        version=f.uint(m, "version"),
        client=f.string(m, "client", ""),
        pid=f.uint(m, "pid", 0),
        read_only=f.boolean(m, "read_only", False),
        max_frame_size=f.uint(m, "max_frame_size", DEFAULT_MAX_FRAME_SIZE),
    )


def _welcome(m: Mapping[str, Any]) -> Welcome:
    f.check_magic(m)
    return Welcome(
        version=f.uint(m, "version"),
        pool=f.string(m, "pool"),
        pid=f.uint(m, "pid"),
        host=f.string(m, "host", ""),
        started_at_ns=f.integer(m, "started_at_ns", 0),
        catalog_version=f.uint(m, "catalog_version", 0),
        capabilities=f.check_str_tuple("capabilities", m.get("capabilities", [])),
        max_frame_size=f.uint(m, "max_frame_size", DEFAULT_MAX_FRAME_SIZE),
        heartbeat_interval_ns=f.uint(m, "heartbeat_interval_ns", 1_000_000_000),
        next_seq=f.uint(m, "next_seq", 0),
        oldest_seq=f.uint(m, "oldest_seq", 0),
        read_only=f.boolean(m, "read_only", False),
    )


def _subscribe(m: Mapping[str, Any]) -> Subscribe:
    resume = m.get("resume_seq")
    since = m.get("rollups_since_s")
    live_tasks = f.check_str("live_tasks", m.get("live_tasks", "rows"))
    if live_tasks not in LIVE_TASKS:
        raise FrameError(f"field 'live_tasks' must be one of {', '.join(LIVE_TASKS)}")
    return Subscribe(
        events=f.check_str_tuple("events", m.get("events", [""])),
        tasks=f.boolean(m, "tasks", True),
        history=f.boolean(m, "history", True),
        resume_seq=None if resume is None else f.check_uint("resume_seq", resume),
        live_tasks=live_tasks,
        rollups_since_s=None if since is None else f.check_uint("rollups_since_s", since),
        packed_rollups=f.boolean(m, "packed_rollups", False),
    )


def _rollups(m: Mapping[str, Any]) -> Rollups:
    return Rollups(tuple(f.lst(m, "rollups", [])), f.integer(m, "until_s", 0))


def _history_end(m: Mapping[str, Any]) -> HistoryEnd:
    return HistoryEnd(
        live_seq=f.uint(m, "live_seq"),
        rollups_until_s=f.integer(m, "rollups_until_s", 0),
        resumed=f.boolean(m, "resumed", False),
        lost=f.uint(m, "lost", 0),
    )


def _heartbeat(m: Mapping[str, Any]) -> Heartbeat:
    return Heartbeat(
        ts_ns=f.integer(m, "ts_ns"),
        next_seq=f.uint(m, "next_seq", 0),
        dropped_records=f.uint(m, "dropped_records", 0),
        dropped_tasks=f.uint(m, "dropped_tasks", 0),
        dropped_events=f.uint(m, "dropped_events", 0),
    )


def _command(m: Mapping[str, Any]) -> Command:
    return Command(f.uint(m, "id"), f.string(m, "name"), f.check_map("args", m.get("args", {})))


def _reply(m: Mapping[str, Any]) -> Reply:
    return Reply(
        id=f.uint(m, "id"),
        ok=f.boolean(m, "ok"),
        result=f.check_map("result", m.get("result", {})),
        reason=f.string(m, "reason", ""),
    )


def _error(m: Mapping[str, Any]) -> Error:
    return Error(f.string(m, "code"), f.string(m, "message", ""))


def _close(m: Mapping[str, Any]) -> Close:
    return Close(f.string(m, "reason", ""))


_DECODERS: Final[dict[int, Callable[[Mapping[str, Any]], Frame]]] = {
    FRAME_TYPES[frame_class]: decoder
    for frame_class, decoder in (
        (Hello, _hello),
        (Welcome, _welcome),
        (Subscribe, _subscribe),
        (Batch, _batch),
        (Rollups, _rollups),
        (HistoryEnd, _history_end),
        (Heartbeat, _heartbeat),
        (Command, _command),
        (Reply, _reply),
        (Error, _error),
        (Close, _close),
    )
}
"""Type number -> its body decoder; the numbers come from `FRAME_TYPES`, written down once."""


def decode_body(body: bytes | memoryview) -> Frame:
    """Turn one frame body (without its length prefix) into a frame.

    Raises:
        FrameError: The body is not msgpack, not `[type, fields]`, of an unknown type, or has
            missing or mistyped fields.
    """
    try:
        doc = msgpack.unpackb(body, raw=False, strict_map_key=True, use_list=True)
    except Exception as exc:  # msgpack raises several unrelated types for bad input
        raise FrameError(f"frame body is not valid msgpack ({type(exc).__name__}: {exc})") from exc
    if not isinstance(doc, list) or len(doc) != 2 or not isinstance(doc[1], dict):
        raise FrameError("frame body must be the msgpack array [type, fields]")
    code = doc[0]
    decoder = _DECODERS.get(code) if isinstance(code, int) and not isinstance(code, bool) else None
    if decoder is None:
        raise FrameError(f"unknown frame type {code!r}")
    return decoder(doc[1])


class Decoder:
    """Incremental frame decoder: feed it bytes as they arrive, get whole frames back.

    Bytes of an incomplete frame are kept until the rest arrives, so any split of a stream into
    chunks decodes to the same frames. At most `max_frame_size + 4` bytes of an incomplete frame
    are ever held: a length prefix above the limit fails at once, before its body is read.

    Args:
        max_frame_size: Largest body accepted, in bytes.
    """

    __slots__ = ("_buf", "_failed", "max_frame_size")

    def __init__(self, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        if not 1 <= max_frame_size <= MAX_BODY_SIZE:
            raise ValueError(f"max_frame_size must be in 1..{MAX_BODY_SIZE}, not {max_frame_size}")
        self.max_frame_size = max_frame_size
        self._buf = bytearray()
        self._failed: FrameError | None = None

    @property
    def pending(self) -> int:
        """Bytes received that do not yet form a whole frame."""
        return len(self._buf)

    def feed(self, data: bytes | bytearray | memoryview) -> list[Frame]:
        """Add received bytes and return every frame they complete, in order.

        Returns:
            The completed frames; empty when more bytes are needed.

        Raises:
            FrameError: The stream is not valid protocol (code `oversized` for a length above
                `max_frame_size`). The decoder then stays failed: every later call raises the
                same error, because a byte stream cannot be resynchronised after garbage.
        """
        bodies = self.bodies(data)
        try:
            return [decode_body(body) for body in bodies]
        except FrameError as exc:
            self._failed = exc
            self._buf.clear()
            raise

    def bodies(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        """Like `feed`, but the completed frames' bodies as received, undecoded.

        For a reader that stores frames rather than handling them (`poolmon record`): only
        the length prefixes are read, and each body byte is copied once, from `data` (or from
        the held start of a frame that `data` completes) into its body; only the bytes of a
        frame still incomplete are kept.

        Raises:
            FrameError: A length of 0 or above `max_frame_size`; the decoder stays failed.
        """
        if self._failed is not None:
            raise self._failed
        bodies: list[bytes] = []
        try:
            with memoryview(data) as view:
                pos = self._finish_held(view, bodies)
                size = len(view)
                while size - pos >= HEADER_SIZE:
                    length = self._length(view, pos)
                    start = pos + HEADER_SIZE
                    if size - start < length:
                        break
                    bodies.append(bytes(view[start : start + length]))
                    pos = start + length
                self._buf += view[pos:]
        except FrameError as exc:
            self._failed = exc
            self._buf.clear()
            raise
        return bodies

    def _finish_held(self, view: memoryview, bodies: list[bytes]) -> int:
        """Complete the held partial frame from `view`; how many bytes of `view` it took."""
        buf = self._buf
        if not buf:
            return 0
        pos = 0
        if len(buf) < HEADER_SIZE:
            pos = min(HEADER_SIZE - len(buf), len(view))
            buf += view[:pos]
            if len(buf) < HEADER_SIZE:
                return pos
        length = self._length(buf, 0)
        need = HEADER_SIZE + length - len(buf)
        if len(view) - pos < need:
            buf += view[pos:]
            return len(view)
        with memoryview(buf) as held:
            bodies.append(b"".join((held[HEADER_SIZE:], view[pos : pos + need])))
        buf.clear()
        return pos + need

    def _length(self, data: bytes | bytearray | memoryview, pos: int) -> int:
        """The checked body length of the prefix at `pos`."""
        (length,) = LENGTH_PREFIX.unpack_from(data, pos)
        if length == 0:
            raise FrameError("frame of length 0")
        if length > self.max_frame_size:
            raise FrameError(
                f"frame of {length} bytes exceeds the maximum of {self.max_frame_size}",
                "oversized",
            )
        return int(length)

    def eof(self) -> None:
        """Declare the stream ended; complain if it ended inside a frame.

        Raises:
            FrameError: Bytes of an incomplete frame were pending (a truncated frame).
        """
        if self._failed is not None:
            raise self._failed
        if self._buf:
            self._failed = FrameError(
                f"stream ended inside a frame ({len(self._buf)} bytes pending)"
            )
            self._buf.clear()
            raise self._failed
