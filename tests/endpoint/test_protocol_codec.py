"""The sans-IO codec: round trips, chunking, and every kind of bad input."""

from __future__ import annotations

import struct

import msgpack
import pytest

from poolmon.core.events import Event, TaskBatch
from poolmon.core.protocol import (
    Batch,
    Close,
    Command,
    Decoder,
    Error,
    FrameError,
    Heartbeat,
    Hello,
    HistoryEnd,
    Reply,
    Rollups,
    Subscribe,
    Welcome,
    encode,
)

BATCH = TaskBatch.from_rows(
    [
        (1, 0, "fetch", 1_000, 20, 30, 0, ""),
        (2, 1, "parse", 1_100, 21, 31, 1, "ValueError"),
        (3, 1, "fetch", 1_200, -5, 2**62, 2, ""),
    ]
)

FRAMES = [
    Hello(client="test", pid=42, read_only=True, max_frame_size=1024),
    Welcome(pool="p", pid=7, host="h", started_at_ns=5, catalog_version=1, next_seq=9),
    Subscribe(events=("poolmon.worker", "myapp"), tasks=False, history=False, resume_seq=12),
    Subscribe(events=()),
    Batch(
        5, 9, ((5, Event("x.y", 3, {"a": 1, "b": 2.5}, {"pool": "p", "n": None})),), ((7, BATCH),)
    ),
    Batch(0, 0),
    Rollups(({"second": 1, "count": 3}, [1, 2]), until_s=17),
    HistoryEnd(live_seq=100, rollups_until_s=50, resumed=True, lost=3),
    Heartbeat(ts_ns=123, next_seq=4, dropped_records=1, dropped_tasks=2, dropped_events=3),
    Command(1, "resize", {"size": 3}),
    Reply(1, False, {"size": 2}, "read-only connection"),
    Error("version", "speaks 2, server 1"),
    Close("shutdown"),
]


@pytest.mark.parametrize("frame", FRAMES, ids=lambda fr: type(fr).__name__)
def test_every_frame_round_trips(frame: object) -> None:
    assert Decoder().feed(encode(frame)) == [frame]  # type: ignore[arg-type]


def test_any_split_of_the_stream_gives_the_same_frames() -> None:
    stream = b"".join(encode(fr) for fr in FRAMES)
    for step in (1, 2, 3, 7, 64, len(stream)):
        dec = Decoder()
        out = []
        for i in range(0, len(stream), step):
            out += dec.feed(stream[i : i + step])
        assert out == FRAMES
        assert dec.pending == 0
        dec.eof()


def test_task_columns_are_little_endian_int64_column_after_column() -> None:
    data = encode(Batch(7, 8, (), ((7, BATCH),)))
    body = msgpack.unpackb(data[4:], raw=False)
    seq, rows, ops, errs, blob = body[1]["tasks"][0]
    assert (seq, rows, ops, errs) == (7, 3, ["fetch", "parse"], ["", "ValueError"])
    cols = struct.unpack("<24q", blob)
    assert cols[0:3] == (1, 2, 3)  # task_id
    assert cols[15:18] == (30, 31, 2**62)  # wait_ns
    assert struct.unpack(">I", data[:4])[0] == len(data) - 4


def test_unpackable_metadata_is_stringified_not_fatal() -> None:
    (frame,) = Decoder().feed(encode(Batch(0, 1, ((0, Event("e", 1, {}, {"x": object()})),))))
    assert isinstance(frame, Batch)
    assert frame.events[0][1].metadata["x"].startswith("<object")


def _framed(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


BAD = {
    "garbage": b"GET / HTTP/1.1\r\n\r\n",
    "zero_length": b"\x00\x00\x00\x00",
    "not_msgpack": _framed(b"\xc1\xc1\xc1"),
    "trailing_data": _framed(msgpack.packb([11, {}]) + b"\x00"),
    "not_an_array": _framed(msgpack.packb({"t": 1})),
    "unknown_type": _framed(msgpack.packb([99, {}])),
    "bool_type": _framed(msgpack.packb([True, {}])),
    "missing_field": _framed(msgpack.packb([8, {"name": "x"}])),
    "wrong_type": _framed(msgpack.packb([8, {"id": "1", "name": "x"}])),
    "negative_seq": _framed(msgpack.packb([4, {"seq": -1, "end": 0}])),
    "no_magic": _framed(msgpack.packb([1, {"version": 1}])),
    "short_columns": _framed(
        msgpack.packb([4, {"seq": 0, "end": 1, "tasks": [[0, 2, ["f"], [""], b"\0" * 8]]}])
    ),
    "op_out_of_range": _framed(
        msgpack.packb([4, {"seq": 0, "end": 1, "tasks": [[0, 1, [], [""], b"\0" * 64]]}])
    ),
    "record_outside_batch": _framed(
        msgpack.packb([4, {"seq": 0, "end": 1, "events": [[5, "e", 1, {}, {}]]}])
    ),
    "bad_measurement": _framed(
        msgpack.packb([4, {"seq": 0, "end": 1, "events": [[0, "e", 1, {"a": "x"}, {}]]}])
    ),
    "int_map_key": _framed(msgpack.packb([8, {"id": 1, "name": "x", "args": {1: 2}}])),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_raises_frame_error_and_poisons_the_decoder(name: str) -> None:
    dec = Decoder()
    with pytest.raises(FrameError) as info:
        dec.feed(BAD[name])
    assert str(info.value)
    with pytest.raises(FrameError):
        dec.feed(encode(Close()))


def test_oversized_length_fails_before_the_body_arrives() -> None:
    dec = Decoder(max_frame_size=100)
    with pytest.raises(FrameError) as info:
        dec.feed(struct.pack(">I", 101))
    assert info.value.code == "oversized"
    assert Decoder(max_frame_size=100).feed(_framed(msgpack.packb([11, {"reason": "x" * 80}])))


def test_truncated_stream_is_reported_at_eof() -> None:
    dec = Decoder()
    assert dec.feed(encode(Close("bye"))[:-1]) == []
    with pytest.raises(FrameError, match="inside a frame"):
        dec.eof()


def test_encode_rejects_non_frames() -> None:
    with pytest.raises(TypeError):
        encode("hello")  # type: ignore[arg-type]
