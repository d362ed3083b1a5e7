"""Entries to and from what a monitor handles: protocol frames and the recorder's notes.

Why a separate step from the block layout: the writer turns each frame it receives into an
entry (packing a BATCH's task columns so the block compresses to a few bytes a task), and a
replay turns entries back into the very frames the live monitor handled, checked by the
protocol's own decoder. Notes carry what is not a frame: the link went down (and why), came
back, or the recorder itself dropped frames because the disk was too slow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import msgpack

from poolmon.core.protocol import Batch, Frame, FrameError, decode_body, encode
from poolmon.core.protocol.frames import HEADER_SIZE
from poolmon.core.recording.columns import unpack_columns, unpack_sparse
from poolmon.core.recording.format import (
    ENTRY_FRAME,
    ENTRY_NOTE,
    ENTRY_PACKED_BATCH,
    ENTRY_SPARSE_BATCH,
    Entry,
    RecordingError,
)
from poolmon.core.recording.rawbatch import packed_batch_entry

LINK_DOWN: Final = "link_down"
"""Note: the connection to the pool dropped (`reason`, the recorder retries)."""
RECORDER_DROPPED: Final = "recorder_dropped"
"""Note: the recorder dropped `frames` frames (`bytes`) because its disk could not keep up."""
END: Final = "end"
"""Note: the recording ended on purpose (`reason`: duration, size cap, stopped, pool gone)."""
NOTES: Final = frozenset({LINK_DOWN, RECORDER_DROPPED, END})


@dataclass(frozen=True, slots=True)
class Note:
    """Something the recorder wrote that is not a protocol frame.

    Attributes:
        note: `LINK_DOWN`, `RECORDER_DROPPED`, `END`, or a name from a newer poolmon.
        fields: The rest of the note's map.
    """

    note: str
    fields: dict[str, Any] = field(default_factory=dict)


def frame_entry(frame: Frame, recv_ns: int) -> Entry:
    """The entry for a received frame (a BATCH with task rows gets its columns packed).

    A decoded BATCH is encoded as the pool would have sent it and packed like the bytes an
    undecoding recorder received (`rawbatch.packed_batch_entry`): one layout, one code path.
    """
    body = encode(frame)[HEADER_SIZE:]
    if isinstance(frame, Batch) and frame.tasks:
        return packed_batch_entry(body, recv_ns)[0]
    return Entry(ENTRY_FRAME, recv_ns, body)


def note_entry(note: str, recv_ns: int, **fields: Any) -> Entry:
    """The entry for a note of the recorder's own."""
    payload: bytes = msgpack.packb({"note": note, **fields}, use_bin_type=True)
    return Entry(ENTRY_NOTE, recv_ns, payload)


def decode_entry(entry: Entry) -> Frame | Note:
    """The frame (or note) an entry holds, checked by the protocol's decoder.

    Raises:
        RecordingError: The payload is not a valid frame or note.
    """
    try:
        if entry.kind == ENTRY_FRAME:
            return decode_body(entry.payload)
        if entry.kind == ENTRY_SPARSE_BATCH:
            return decode_body(_unpacked_body(entry.payload, unpack_sparse))
        if entry.kind == ENTRY_PACKED_BATCH:
            return decode_body(_unpacked_body(entry.payload, unpack_columns))
        fields = msgpack.unpackb(entry.payload, raw=False)
    except (FrameError, ValueError, TypeError, msgpack.ExtraData) as exc:
        raise RecordingError(f"a recorded frame does not decode: {exc}") from None
    if not isinstance(fields, dict) or not isinstance(fields.get("note"), str):
        raise RecordingError("a recorded note is not a map with a name")
    name = fields.pop("note")
    return Note(name, fields)


def _unpacked_body(payload: bytes, unpack: Callable[[bytes, int], bytes]) -> bytes:
    """A packed BATCH body with its task columns restored (by `unpack`): the protocol's body.

    `unpack` is `unpack_sparse` (format version 2's entries) or `unpack_columns` (version 1).
    """
    body = msgpack.unpackb(payload, raw=False, strict_map_key=True)
    if not (isinstance(body, list) and len(body) == 2 and isinstance(body[1], dict)):
        raise FrameError("packed batch is not [type, fields]")
    for record in body[1].get("tasks", []):
        if not (isinstance(record, list) and len(record) == 5 and isinstance(record[4], bytes)):
            raise FrameError("packed task record is not [seq, rows, ops, error_types, columns]")
        record[4] = unpack(record[4], int(record[1]))
    packed: bytes = msgpack.packb(body, use_bin_type=True)
    return packed
