"""Format version 2 (Zstandard blocks, sparse-packed columns) and version 1 files side by side.

A recorder now writes version 2; every file written before (version 1: zlib blocks, columns
packed in full) must keep replaying as it did. `data/v1-recorded-4b5de93.pmrec` is a real
pool (3,000 tasks and 40 ValueErrors) recorded by `poolmon record` at commit 4b5de93, the
last version-1 writer; the other version-1 files here are written with the version-1 path
(`pack_columns`, zlib, a version-1 header), which this poolmon keeps for reading only.
"""

from __future__ import annotations

import struct
from array import array
from pathlib import Path

import msgpack
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poolmon.core.events import Event, TaskBatch
from poolmon.core.protocol import (
    Batch,
    Close,
    Error,
    Frame,
    Heartbeat,
    HistoryEnd,
    Reply,
    Rollups,
    Welcome,
    decode_body,
    encode,
)
from poolmon.core.protocol.frames import HEADER_SIZE
from poolmon.core.recording.codecs import CODEC_STORED, CODEC_ZLIB, CODEC_ZSTD
from poolmon.core.recording.columns import (
    SPARSE_HEAD,
    pack_columns,
    pack_sparse,
    unpack_sparse,
)
from poolmon.core.recording.entries import decode_entry, frame_entry
from poolmon.core.recording.format import (
    BLOCK_HEADER_SIZE,
    ENTRY_FRAME,
    ENTRY_PACKED_BATCH,
    ENTRY_SPARSE_BATCH,
    FORMAT_VERSION,
    Entry,
    RecordingError,
    RecordingHeader,
    decode_block,
    encode_block,
    encode_header,
    read_block_header,
)
from poolmon.core.recording.rawbatch import batch_from_body
from poolmon.core.recording.scan import scan
from poolmon.runtime.recording.idle import IdleGate
from poolmon.runtime.recording.reader import RecordingFile
from poolmon.runtime.recording.replay import ReplaySource
from poolmon.runtime.recording.writer import RecordingWriter
from poolmon.testing.clock import ManualClock

T0 = 1_767_225_600_000_000_000
V1_FILE = Path(__file__).parent / "data" / "v1-recorded-4b5de93.pmrec"
HEADER = RecordingHeader(1, "orders", 4711, "db1", T0 - 10**9, T0, 5, "test")


def _trivial(rows: int, first_id: int = 100, seed: int = 0) -> TaskBatch:
    """Columns shaped like a saturated pool's trivial tasks (one worker's record)."""
    rng = np.random.default_rng(seed)
    cols = [
        np.arange(first_id, first_id + rows),
        np.full(rows, 1),
        np.zeros(rows, dtype=np.int64),
        T0 + np.cumsum(rng.integers(3_000, 6_000, rows)),
        rng.integers(20_000, 90_000, rows),
        rng.integers(1_000_000, 9_000_000, rows),
        np.zeros(rows, dtype=np.int64),
        np.zeros(rows, dtype=np.int64),
    ]
    return TaskBatch(("ident",), ("",), *(array("q", c.astype("<i8").tobytes()) for c in cols))


def _every_frame() -> list[Frame]:
    """One of every frame a monitor receives, batches with 0, 1 and many rows among them."""
    event = Event("poolmon.worker.state", T0, {"busy": 1.0}, {"worker": 3})
    return [
        Welcome(pool="orders", pid=4711, host="db1", started_at_ns=T0, catalog_version=5),
        Rollups(({"second": 1, "count": 3}, [1, 2]), until_s=17),
        HistoryEnd(live_seq=100, rollups_until_s=50, resumed=True, lost=3),
        Batch(100, 104, ((100, event),), ((101, _trivial(0)), (102, _trivial(1)))),
        Batch(104, 106, (), ((104, _trivial(2_000, 500)), (105, _trivial(7, 9, seed=3)))),
        Batch(106, 106),
        Heartbeat(ts_ns=T0, next_seq=106, dropped_records=1, dropped_tasks=2, dropped_events=3),
        Reply(1, False, {"size": 2}, "read-only connection"),
        Error("version", "speaks 2, server 1"),
        Close("shutdown"),
    ]


class _NeverBusy(IdleGate):
    def busy(self) -> bool:
        return False


def _received(frame: Frame) -> Frame:
    """The frame as the recorder's connection hands it over: a BATCH stays bytes."""
    body = encode(frame)[HEADER_SIZE:]
    return batch_from_body(body) or decode_body(body)


def test_every_frame_type_round_trips_through_the_recorders_writer(tmp_path: Path) -> None:
    path = tmp_path / "v2.pmrec"
    frames = _every_frame()
    writer = RecordingWriter(path, HEADER, idle=_NeverBusy(), block_s=0.05)
    for i, frame in enumerate(frames):
        writer.put(_received(frame), T0 + i)
    writer.close()
    rec = RecordingFile(path)
    try:
        assert rec.header.format_version == FORMAT_VERSION == 2
        assert {b.codec for b in rec.blocks} == {CODEC_ZSTD}
        kinds = [e.kind for b in rec.blocks for e in decode_block(rec._map, b)]
        items = [item for i in range(len(rec.blocks)) for item in rec.items(i)]
    finally:
        rec.close()
    assert kinds.count(ENTRY_SPARSE_BATCH) == 2  # the batches with task rows
    got = [(t, encode(f)) for t, f in items if isinstance(f, Frame)]
    assert got == [(T0 + i, encode(f)) for i, f in enumerate(frames)]  # byte for byte


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=0, max_size=8 * 40))
def test_sparse_columns_round_trip_any_int64(values: list[int]) -> None:
    rows = len(values) // 8
    blob = np.array(values[: rows * 8], dtype="<i8").tobytes()
    assert unpack_sparse(pack_sparse(blob, rows), rows) == blob
    assert unpack_sparse(pack_sparse(b"pad" + blob, rows, 3), rows) == blob  # read in place


def test_sparse_columns_keep_only_the_planes_that_vary() -> None:
    batch = _trivial(5_000)
    blob = b"".join(c.tobytes() for _, c in batch.columns())
    packed = pack_sparse(blob, len(batch))
    # task id: 1 plane; worker, op, status, error type: none; start, duration, wait: 2-3 each
    assert len(packed) <= SPARSE_HEAD + 11 * (len(batch) - 1)
    assert pack_sparse(b"", 0) == b""
    assert len(pack_sparse(blob[:64], 1)) == SPARSE_HEAD  # one row: its first values only
    with pytest.raises(ValueError, match="wrong length"):
        unpack_sparse(packed[:-1], len(batch))
    with pytest.raises(ValueError, match="need 64 bytes"):
        pack_sparse(blob[:63], 1)


def _v1_block(frames: list[Frame], level: int = 1) -> bytes:
    """A block as format version 1 wrote it: columns packed in full, zlib."""
    entries = []
    for i, frame in enumerate(frames):
        body = encode(frame)[HEADER_SIZE:]
        if isinstance(frame, Batch) and frame.tasks:
            fields = msgpack.unpackb(body, raw=False)
            for record in fields[1]["tasks"]:
                record[4] = pack_columns(record[4], record[1])
            entries.append(Entry(ENTRY_PACKED_BATCH, T0 + i, msgpack.packb(fields)))
        else:
            entries.append(Entry(ENTRY_FRAME, T0 + i, body))
    return encode_block(entries, CODEC_ZLIB, level)


def test_a_version_1_file_written_by_the_version_1_path_reads_the_same(tmp_path: Path) -> None:
    frames = _every_frame()
    path = tmp_path / "v1.pmrec"
    path.write_bytes(encode_header(HEADER, format_version=1) + _v1_block(frames))
    rec = RecordingFile(path)
    try:
        assert rec.header.format_version == 1
        assert rec.blocks[0].codec == CODEC_ZLIB
        got = [encode(f) for _, f in rec.items(0) if isinstance(f, Frame)]
    finally:
        rec.close()
    assert got == [encode(f) for f in frames]


def test_a_v2_block_is_no_bigger_than_version_1s_and_far_smaller_than_the_wire() -> None:
    frame = Batch(0, 1, (), ((0, _trivial(20_000)),))
    wire = encode(frame)[HEADER_SIZE:]
    block = encode_block([frame_entry(frame, T0)])
    assert len(block) < len(_v1_block([frame])) < len(wire) / 5


def test_every_codec_round_trips_a_block() -> None:
    entries = [frame_entry(f, T0 + i) for i, f in enumerate(_every_frame())]
    for codec, level in ((CODEC_STORED, 0), (CODEC_ZLIB, 1), (CODEC_ZLIB, 6), (CODEC_ZSTD, 1)):
        block = encode_block(entries, codec, level)
        info = read_block_header(block, 0)
        assert info.codec == codec
        assert [decode_entry(e) for e in decode_block(block, info)] == [
            decode_entry(e) for e in entries
        ]


def _recrc(block: bytearray) -> None:
    """Recompute a block's CRC, so only what the CRC cannot see is wrong."""
    import zlib

    crc = zlib.crc32(block[BLOCK_HEADER_SIZE:], zlib.crc32(block[: BLOCK_HEADER_SIZE - 4]))
    struct.pack_into(">I", block, BLOCK_HEADER_SIZE - 4, crc)


def test_a_zstd_body_that_does_not_decompress_is_damage_not_a_crash() -> None:
    block = bytearray(encode_block([frame_entry(f, T0) for f in _every_frame()]))
    block[BLOCK_HEADER_SIZE + 6 :] = bytes(len(block) - BLOCK_HEADER_SIZE - 6)  # zeroed
    _recrc(block)
    info = read_block_header(bytes(block), 0)
    with pytest.raises(RecordingError, match="does not decompress"):
        decode_block(bytes(block), info)
    unknown = bytearray(encode_block([frame_entry(Close("x"), T0)]))
    unknown[32] = 9  # the codec byte (after marker, sizes, times and count)
    with pytest.raises(RecordingError, match="impossible sizes or codec"):
        read_block_header(bytes(unknown), 0)


def test_the_real_version_1_recording_replays_to_the_pools_counts() -> None:
    rec = RecordingFile(V1_FILE)
    try:
        assert rec.header.format_version == 1
        assert {b.codec for b in rec.blocks} == {CODEC_ZLIB}
        kinds = {e.kind for b in rec.blocks for e in decode_block(rec._map, b)}
        assert ENTRY_PACKED_BATCH in kinds
        assert rec.damage is None
    finally:
        rec.close()
    source = ReplaySource(V1_FILE, clock=ManualClock())
    source.seek(source.timeline.end_ns)
    snap = source.snapshot(3600)
    assert snap.pool.name == "recorded"
    assert snap.tasks_finished_total == 3040
    assert snap.tasks_failed_total == 40
    source.stop()


def test_a_truncated_version_1_recording_replays_up_to_the_damage(tmp_path: Path) -> None:
    data = V1_FILE.read_bytes()
    blocks = scan(data, 1).blocks
    victim = blocks[len(blocks) // 2]
    path = tmp_path / "cut.pmrec"
    path.write_bytes(data[: victim.offset + 20])
    source = ReplaySource(path, clock=ManualClock())
    assert source.file.damage is not None
    assert source.file.damage.offset == victim.offset
    assert "ends inside a block header" in source.file.damage.reason
    source.seek(source.timeline.end_ns)
    assert f"stopped at byte {victim.offset:,}" in source.status().detail
    assert 0 < source.snapshot(3600).tasks_finished_total <= 3040
    source.stop()
    newer = bytearray(data)
    struct.pack_into(">H", newer, 8, FORMAT_VERSION + 1)
    (tmp_path / "newer.pmrec").write_bytes(bytes(newer))
    with pytest.raises(RecordingError, match=f"format version {FORMAT_VERSION + 1} is newer"):
        RecordingFile(tmp_path / "newer.pmrec")
