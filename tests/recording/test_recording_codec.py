"""The recording codec without IO: header, packed columns, blocks, entries and the tolerant scan."""

from __future__ import annotations

import struct
from array import array

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poolmon.core.events import Event, TaskBatch
from poolmon.core.protocol import Batch, Heartbeat, Welcome, encode
from poolmon.core.protocol.frames import HEADER_SIZE
from poolmon.core.recording.columns import pack_columns, unpack_columns
from poolmon.core.recording.entries import (
    LINK_DOWN,
    Note,
    decode_entry,
    frame_entry,
    note_entry,
)
from poolmon.core.recording.format import (
    ENTRY_FRAME,
    ENTRY_SPARSE_BATCH,
    FORMAT_VERSION,
    MAGIC,
    RecordingError,
    RecordingHeader,
    decode_block,
    decode_header,
    encode_block,
    encode_header,
    read_block_header,
)
from poolmon.core.recording.scan import scan

T0 = 1_767_225_600_000_000_000
HEADER = RecordingHeader(1, "orders", 4711, "db1", T0 - 10**9, T0, 5, "test")


def _batch(rows: int, seed: int = 0) -> TaskBatch:
    rng = np.random.default_rng(seed)
    start = T0 + np.cumsum(rng.integers(1_000, 50_000, rows))
    cols = [
        np.arange(rows) + 100,
        rng.integers(0, 4, rows),
        rng.integers(0, 2, rows),
        start,
        rng.integers(500, 90_000, rows),
        rng.integers(0, 10**7, rows),
        (rng.random(rows) < 0.1).astype(np.int64),
        np.zeros(rows, dtype=np.int64),
    ]
    cols[7] = cols[6]  # failed rows have error type 1
    arrays = [array("q", c.astype(np.int64).tobytes()) for c in cols]
    return TaskBatch(("fetch", "store"), ("", "ValueError"), *arrays)


def test_header_round_trip_keeps_unknown_keys() -> None:
    data = encode_header(HEADER)
    assert data.startswith(MAGIC)
    assert decode_header(data, 1) == HEADER
    newer = RecordingHeader(1, "orders", 4711, "db1", T0, T0, extra={"zone": "eu-1"})
    assert decode_header(encode_header(newer), 1).extra == {"zone": "eu-1"}


def test_newer_format_version_is_refused_with_a_clear_message() -> None:
    data = bytearray(encode_header(HEADER))
    struct.pack_into(">H", data, 8, FORMAT_VERSION + 1)
    newer = rf"version {FORMAT_VERSION + 1} is newer .*\({FORMAT_VERSION}\).* upgrade poolmon"
    with pytest.raises(RecordingError, match=newer):
        decode_header(bytes(data), 1)


def test_newer_protocol_version_is_refused_with_a_clear_message() -> None:
    data = encode_header(RecordingHeader(2, "orders", 1, "h", T0, T0))
    with pytest.raises(RecordingError, match="protocol version 2 frames; this poolmon speaks"):
        decode_header(data, 1)


def test_not_a_recording() -> None:
    with pytest.raises(RecordingError, match="not a poolmon recording"):
        decode_header(b"hello world, this is text", 1)
    with pytest.raises(RecordingError, match="only 3 bytes"):
        decode_header(b"PMR", 1)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=8, max_size=8 * 40))
def test_packed_columns_round_trip_any_int64(values: list[int]) -> None:
    rows = len(values) // 8
    blob = np.array(values[: rows * 8], dtype="<i8").tobytes()
    packed = pack_columns(blob, rows)
    assert len(packed) == len(blob)
    assert unpack_columns(packed, rows) == blob


def test_packed_columns_compress_a_real_looking_batch_far_better() -> None:
    import zlib

    batch = _batch(5_000)
    blob = b"".join(c.tobytes() for _, c in batch.columns())
    packed = pack_columns(blob, len(batch))
    assert len(zlib.compress(packed)) < 0.75 * len(zlib.compress(blob))


def test_batch_entry_decodes_to_the_same_frame() -> None:
    frame = Batch(
        10, 13, ((10, Event("poolmon.worker.state", T0, {"x_ns": 5}, {"worker_id": 1})),),
        ((11, _batch(300, 1)), (12, _batch(7, 2))),
    )  # fmt: skip
    entry = frame_entry(frame, T0 + 5)
    assert entry.kind == ENTRY_SPARSE_BATCH
    assert entry.payload != encode(frame)[HEADER_SIZE:]  # the columns are packed
    back = decode_entry(entry)
    assert encode(back) == encode(frame)  # byte for byte the protocol's frame


def test_other_frames_are_stored_as_the_protocol_sends_them() -> None:
    welcome = Welcome(pool="orders", pid=4711, host="db1", started_at_ns=T0)
    entry = frame_entry(welcome, T0)
    assert entry.kind == ENTRY_FRAME
    assert entry.payload == encode(welcome)[HEADER_SIZE:]
    assert decode_entry(entry) == welcome
    note = decode_entry(note_entry(LINK_DOWN, T0, reason="reset"))
    assert note == Note(LINK_DOWN, {"reason": "reset"})


def test_block_round_trip_and_header_fields() -> None:
    entries = [frame_entry(Heartbeat(T0 + i, i), T0 + i * 1000) for i in range(20)]
    block = encode_block(entries)
    info = read_block_header(block, 0)
    assert (info.first_ns, info.last_ns, info.count, info.size) == (
        T0, T0 + 19_000, 20, len(block)
    )  # fmt: skip
    assert decode_block(block, info) == entries


def _file(blocks: int) -> tuple[bytes, list[int]]:
    """A small recording of `blocks` blocks; returns the bytes and each block's offset."""
    data = bytearray(encode_header(HEADER))
    offsets = []
    for b in range(blocks):
        offsets.append(len(data))
        ts = T0 + b * 10**9
        data += encode_block(
            [frame_entry(Heartbeat(ts, b), ts), frame_entry(Heartbeat(ts, b), ts + 5)]
        )
    return bytes(data), offsets


def test_scan_of_a_whole_file() -> None:
    data, offsets = _file(5)
    result = scan(data, 1)
    assert [b.offset for b in result.blocks] == offsets
    assert result.damage is None
    assert (result.first_ns, result.last_ns) == (T0, T0 + 4 * 10**9 + 5)


def test_every_cut_point_keeps_every_complete_block_and_says_where() -> None:
    data, offsets = _file(4)
    ends = [*offsets[1:], len(data)]
    for cut in range(offsets[0], len(data)):
        result = scan(data[:cut], 1)
        complete = sum(1 for end in ends if end <= cut)
        assert len(result.blocks) == complete, cut
        if cut in offsets:
            assert result.damage is None
        else:
            assert result.damage is not None
            assert result.damage.offset == offsets[complete]
            assert "file ends inside a block" in result.damage.reason
            expected = None if complete == 0 else T0 + (complete - 1) * 10**9 + 5
            assert result.damage.time_ns == expected


def test_a_flipped_byte_stops_the_scan_at_that_block() -> None:
    data, offsets = _file(4)
    for victim in (offsets[2] + 2, offsets[2] + 30, offsets[2] + 50, len(data) - 3):
        bad = bytearray(data)
        bad[victim] ^= 0x40
        result = scan(bytes(bad), 1)
        block = max(i for i, o in enumerate(offsets) if o <= victim)
        assert len(result.blocks) == block
        assert result.damage is not None
        assert result.damage.offset == offsets[block]
