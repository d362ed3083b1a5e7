"""BATCH frames kept as received bytes: the head read, the columns sparse-packed, losslessly.

The recorder's cheap path must store exactly what the decode-and-re-encode path stored:
these tests compare the two byte for byte on batches with events, several task records and
random columns, split at every point of the stream.
"""

from __future__ import annotations

from array import array

import msgpack
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poolmon.core.events import Event, TaskBatch
from poolmon.core.protocol import Batch, Decoder, FrameError, Heartbeat, encode
from poolmon.core.protocol.frames import HEADER_SIZE
from poolmon.core.recording.entries import decode_entry, frame_entry
from poolmon.core.recording.format import ENTRY_FRAME, ENTRY_SPARSE_BATCH
from poolmon.core.recording.rawbatch import UndecodedBatch, batch_from_body, packed_batch_entry

T0 = 1_767_225_600_000_000_000


def _tasks(rows: int, seed: int) -> TaskBatch:
    rng = np.random.default_rng(seed)
    cols = [rng.integers(-(2**62), 2**62, rows) for _ in range(8)]
    cols[2] = rng.integers(0, 2, rows)  # op index
    cols[7] = rng.integers(0, 2, rows)  # error type index
    arrays = [array("q", c.astype(np.int64).tobytes()) for c in cols]
    return TaskBatch(("fetch", "store"), ("", "ValueError"), *arrays)


def _batch(seq: int, records: int, rows: int) -> Batch:
    events = ((seq, Event("poolmon.worker.state", T0, {"busy": 1.0}, {"worker": 3})),)
    tasks = tuple((seq + 1 + i, _tasks(rows, seq + i)) for i in range(records))
    return Batch(seq, seq + 1 + records + 2, events, tasks)


def _body(frame: Batch | Heartbeat) -> bytes:
    return encode(frame)[HEADER_SIZE:]


@settings(max_examples=40, deadline=None)
@given(
    seq=st.integers(0, 2**40),
    records=st.integers(0, 3),
    rows=st.integers(0, 300),
)
def test_packing_the_received_bytes_stores_what_packing_the_decoded_batch_stored(
    seq: int, records: int, rows: int
) -> None:
    batch = _batch(seq, records, rows)
    raw = batch_from_body(_body(batch))
    assert isinstance(raw, UndecodedBatch)
    assert (raw.seq, raw.end) == (batch.seq, batch.end)
    entry, counted = packed_batch_entry(raw.body, T0)
    assert counted == records * rows
    if records:
        assert entry == frame_entry(batch, T0)  # a decoded batch is stored as its bytes are
        assert entry.kind == ENTRY_SPARSE_BATCH
    else:
        assert entry.kind == ENTRY_FRAME
    assert decode_entry(entry) == batch


def test_items_larger_than_the_packers_window_are_read_whole() -> None:
    """Events and op names of tens of KB (past the 8 KB window the packer reads them in)."""
    rng = np.random.default_rng(5)
    names = tuple(f"op-{i}-" + "x" * 200 for i in range(300))
    cols = [array("q", rng.integers(0, 2**40, 500).tobytes()) for _ in range(8)]
    cols[2] = array("q", rng.integers(0, len(names), 500).tobytes())
    cols[7] = array("q", [0] * 500)
    tasks = TaskBatch(names, ("",), *cols)
    big = Event("poolmon.log", T0, {}, {"text": "y" * 40_000})
    batch = Batch(7, 12, ((7, big), (8, big)), ((9, tasks), (10, tasks)))
    entry, rows = packed_batch_entry(_body(batch), T0)
    assert (entry.kind, rows) == (ENTRY_SPARSE_BATCH, 1000)
    assert entry == frame_entry(batch, T0)
    assert decode_entry(entry) == batch


def test_a_batch_cut_short_is_stored_as_received() -> None:
    body = _body(_batch(3, 2, 40))
    for cut in (10, len(body) // 2, len(body) - 1):
        entry, rows = packed_batch_entry(body[:cut], T0)
        assert (entry.kind, entry.payload, rows) == (ENTRY_FRAME, body[:cut], 0)


def test_an_undecoded_batch_is_a_batch_whose_records_decode_when_read() -> None:
    batch = _batch(10, 2, 50)
    raw = batch_from_body(_body(batch))
    assert isinstance(raw, Batch)
    assert "body=<" in repr(raw)  # the repr does not decode
    assert raw.events == batch.events
    assert [(s, len(b)) for s, b in raw.tasks] == [(s, len(b)) for s, b in batch.tasks]


def test_other_frames_and_other_layouts_are_left_to_the_full_decoder() -> None:
    assert batch_from_body(_body(Heartbeat(T0))) is None
    reordered = msgpack.packb([4, {"end": 5, "seq": 1, "events": [], "tasks": []}])
    assert batch_from_body(reordered) is None
    backwards = msgpack.packb([4, {"seq": 9, "end": 5, "events": [], "tasks": []}])
    with pytest.raises(FrameError, match="end 5 before seq 9"):
        batch_from_body(backwards)
    negative = msgpack.packb([4, {"seq": -1, "end": 5, "events": [], "tasks": []}])
    with pytest.raises(FrameError, match="unsigned"):
        batch_from_body(negative)


def test_a_batch_with_damaged_task_records_is_stored_as_received() -> None:
    damaged = msgpack.packb([4, {"seq": 1, "end": 2, "tasks": [[1, 3, ["op"], [""], b"short"]]}])
    entry, rows = packed_batch_entry(damaged, T0)
    assert (entry.kind, entry.payload, rows) == (ENTRY_FRAME, damaged, 0)


@settings(max_examples=30, deadline=None)
@given(cuts=st.lists(st.integers(1, 4000), max_size=8))
def test_the_decoders_bodies_are_the_frames_bodies_however_the_stream_is_cut(
    cuts: list[int],
) -> None:
    frames = [_batch(1, 1, 20), Heartbeat(T0, 5), _batch(40, 0, 0), _batch(90, 2, 3)]
    stream = b"".join(encode(f) for f in frames)
    decoder = Decoder()
    bodies: list[bytes] = []
    pos = 0
    for cut in sorted(set(cuts)):
        bodies += decoder.bodies(stream[pos:cut])
        pos = max(pos, cut)
    bodies += decoder.bodies(stream[pos:])
    assert bodies == [_body(f) for f in frames]
    assert decoder.pending == 0


def test_the_decoders_bodies_survive_a_cut_at_every_byte_and_a_byte_at_a_time() -> None:
    frames = [_batch(1, 1, 3), Heartbeat(T0, 5), _batch(40, 0, 0)]
    stream = b"".join(encode(f) for f in frames)
    expected = [_body(f) for f in frames]
    for cut in range(len(stream) + 1):
        decoder = Decoder()
        got = decoder.bodies(stream[:cut]) + decoder.bodies(memoryview(stream)[cut:])
        assert (got, decoder.pending) == (expected, 0), cut
    decoder = Decoder()
    one_by_one = [b for i in range(len(stream)) for b in decoder.bodies(stream[i : i + 1])]
    assert one_by_one == expected


def test_the_decoders_bodies_check_a_length_prefix_split_across_reads() -> None:
    decoder = Decoder(max_frame_size=100)
    oversized = encode(_batch(1, 1, 10))
    assert decoder.bodies(oversized[:2]) == []
    with pytest.raises(FrameError, match="exceeds the maximum of 100"):
        decoder.bodies(oversized[2:])
    assert decoder.pending == 0


def test_the_decoders_bodies_refuse_an_oversized_frame_and_stay_failed() -> None:
    decoder = Decoder(max_frame_size=100)
    with pytest.raises(FrameError, match="exceeds the maximum of 100"):
        decoder.bodies(encode(_batch(1, 1, 10)))
    with pytest.raises(FrameError):
        decoder.bodies(encode(Heartbeat(T0)))
