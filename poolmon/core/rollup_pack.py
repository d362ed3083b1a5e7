"""A closed rollup as one small byte string: how the endpoint's history keeps 16 minutes cheaply.

The history used to keep each closed second twice, as a `Rollup` of Python tuples and as its
wire dict of Python lists: about 220 KB a second for 20 operations with wide latency spreads,
two hundred MiB for the 16 minutes (every small int a 28-byte object, every tuple slot a
pointer). A closed second is never read again except to be sent in a backfill, so it is kept
the way it will leave: the wire dict, msgpack-packed, with each histogram's sorted bucket
indexes stored as differences (small numbers msgpack packs in one byte), zlib-compressed at
level 1. That is about 3.4 KB a second for the same load (`python -m poolmon.bench memory`),
packed once per second in the endpoint's thread (about 1 ms) and unpacked only when a monitor
attaches. `unpack_rollup(pack_rollup(r)) == r.to_wire()` exactly.
"""

from __future__ import annotations

import zlib
from itertools import accumulate
from typing import Any, Final

import msgpack

from poolmon.core.errors import ProtocolError
from poolmon.core.rollup import Rollup

PACK_VERSION: Final = 1
"""First byte of a packed rollup; bumped when the layout changes."""


def _delta(hist: list[Any]) -> list[Any]:
    buckets, counts, sum_ns, lo, hi = hist
    deltas = [b - a for a, b in zip([0, *buckets], buckets, strict=False)]
    return [deltas, counts, sum_ns, lo, hi]


def _undelta(hist: list[Any]) -> list[Any]:
    deltas, counts, sum_ns, lo, hi = hist
    return [list(accumulate(deltas)), counts, sum_ns, lo, hi]  # in C: a backfill has ~1M


def pack_rollup(rollup: Rollup) -> bytes:
    """The rollup's wire dict, delta-coded, packed and compressed (see module doc)."""
    wire = rollup.to_wire()
    wire["op"] = [[name, n, failed, _delta(h)] for name, n, failed, h in wire["op"]]
    wire["d"] = _delta(wire["d"])
    wire["q"] = _delta(wire["q"])
    return bytes([PACK_VERSION]) + zlib.compress(msgpack.packb(wire), 1)


def unpack_rollup(blob: bytes) -> dict[str, Any]:
    """Inverse of `pack_rollup`: the rollup's `to_wire()` dict; ProtocolError when damaged."""
    if not blob or blob[0] != PACK_VERSION:
        raise ProtocolError("packed rollup: unknown layout version")
    try:
        wire: dict[str, Any] = msgpack.unpackb(zlib.decompress(blob[1:]))
        wire["op"] = [[name, n, failed, _undelta(h)] for name, n, failed, h in wire["op"]]
        wire["d"] = _undelta(wire["d"])
        wire["q"] = _undelta(wire["q"])
    except (zlib.error, ValueError, TypeError, KeyError) as exc:
        raise ProtocolError(f"packed rollup is damaged: {exc!r}") from None
    return wire
