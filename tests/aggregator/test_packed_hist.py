"""Packed rollup histograms (docs/PROTOCOL.md, "Packed histograms"): exact, and strict."""

from __future__ import annotations

import msgpack
import numpy as np
import pytest

from poolmon.core.errors import ProtocolError
from poolmon.core.packed_hist import pack_hist, unpack_hist
from poolmon.core.rollup import Hist, OpRollup, Rollup


def test_the_documented_worked_example() -> None:
    buckets, counts = pack_hist([0, 515, 516, 585], [1, 2, 1, 1])
    assert buckets == b"\x00\x00\x03\x02\x04\x02\x49\x02"
    assert counts == b"\x01\x00\x00\x00\x02\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00"
    b, c = unpack_hist(buckets, counts)
    assert b.tolist() == [0, 515, 516, 585]
    assert c.tolist() == [1, 2, 1, 1]


def test_counts_widen_to_8_bytes_only_when_needed() -> None:
    assert len(pack_hist([1, 2], [1, 2**32 - 1])[1]) == 8
    buckets, counts = pack_hist([1, 2], [1, 2**32])
    assert len(counts) == 16
    assert unpack_hist(buckets, counts)[1].tolist() == [1, 2**32]


def test_a_rollup_round_trips_packed_through_msgpack() -> None:
    dur = Hist((10, 500, 1279), (3, 1, 7), 123.0, 5, 900)
    rollup = Rollup(
        9_000_000_000, 11, (10, 1, 0, 0, 0),
        (OpRollup("a", 11, 1, dur, (0, 0)),), ((0, 11, 1),), (("ValueError", 1),),
        dur, Hist((0,), (11,), 0.0, 0, 0),
    )  # fmt: skip
    wire = msgpack.unpackb(msgpack.packb(rollup.to_wire(packed=True)))
    assert wire["v"] == 2
    assert isinstance(wire["d"][0], bytes)
    assert Rollup.from_wire(wire) == rollup
    assert Rollup.from_wire(rollup.to_wire()) == rollup


@pytest.mark.parametrize(
    ("buckets", "counts"),
    [
        (b"\x01", b"\x01\x00\x00\x00"),  # odd bucket bytes
        (b"\x01\x00", b"\x01\x00\x00"),  # 3-byte count
        (b"\x01\x00", b""),  # counts missing
        (b"", b"\x01\x00\x00\x00"),  # counts without buckets
        (b"\x00\x05", b"\x01\x00\x00\x00"),  # bucket 1280
        (b"\x02\x00\x01\x00", b"\x01\x00\x00\x00\x01\x00\x00\x00"),  # not ascending
        (b"\x02\x00\x02\x00", b"\x01\x00\x00\x00\x01\x00\x00\x00"),  # repeated
        (b"\x02\x00", b"\x00\x00\x00\x00"),  # a zero count
        ([2], [1]),  # int lists in a packed rollup
    ],
)
def test_malformed_packed_histograms_are_protocol_errors(buckets: object, counts: object) -> None:
    with pytest.raises(ProtocolError):
        unpack_hist(buckets, counts)
    wire = Rollup(0, 0, (0, 0, 0, 0, 0), (), (), (), Hist(), Hist()).to_wire(packed=True)
    wire["d"] = [buckets, counts, 1.0, 1, 1]
    with pytest.raises(ProtocolError):
        Rollup.from_wire(wire)


def test_empty_and_large_histograms() -> None:
    assert [a.tolist() for a in unpack_hist(b"", b"")] == [[], []]
    everything = np.arange(1280)
    b, c = unpack_hist(*pack_hist(everything, everything + 1))
    assert (b == everything).all()
    assert (c == everything + 1).all()
