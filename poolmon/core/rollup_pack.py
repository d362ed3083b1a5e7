"""A closed rollup as one small byte string: how the endpoint's history keeps 16 minutes cheaply.

The history used to keep each closed second twice, as a `Rollup` of Python tuples and as its
wire dict of Python lists: about 220 KB a second for 20 operations with wide latency spreads,
two hundred MiB for the 16 minutes (every small int a 28-byte object, every tuple slot a
pointer). A closed second is never read again except to be sent in a backfill, so it is kept
close to the way it will leave: its packed wire dict (version 2, histograms as little-endian
arrays, `poolmon.core.packed_hist`), with the buckets and counts of all its histograms joined
into two arrays, the bucket numbers delta-coded (mod 2**16) and both arrays byte-shuffled
(every value's first bytes, then every value's second bytes, ...: the high bytes are nearly
all zero), msgpack-packed and zlib-compressed at level 1. About 1.3 KB a second for the
benchmark's 2,000 tasks/s of four operations (3-5 % more than the int-list layout before);
packed once per second in the endpoint's thread and unpacked (a few numpy calls, no Python
int per value) only when a monitor attaches.

`unpack_rollup(pack_rollup(r)) == r.to_wire(packed=True)` exactly, and `as_lists` turns that
into `r.to_wire()` for a monitor that did not ask for packed histograms.
"""

from __future__ import annotations

import zlib
from typing import Any, Final

import msgpack
import numpy as np

from poolmon.core.errors import ProtocolError
from poolmon.core.packed_hist import unpack_hist
from poolmon.core.rollup import WIRE_VERSION, Rollup

PACK_VERSION: Final = 2
"""First byte of a packed rollup with joined, shuffled arrays; bumped when the layout changes."""
PACK_PLAIN: Final = 3
"""First byte of a packed rollup kept as its plain wire dict (a count did not fit 32 bits)."""
_U2, _U4 = np.dtype("<u2"), np.dtype("<u4")


def _hists(wire: dict[str, Any]) -> list[list[Any]]:
    """Every histogram of a wire dict, in a fixed order (operations, then `d`, then `q`)."""
    return [op[3] for op in wire["op"]] + [wire["d"], wire["q"]]


def _shuffle(a: np.ndarray[Any, Any]) -> bytes:
    return a.view(np.uint8).reshape(-1, a.itemsize).T.tobytes()


def _unshuffle(raw: bytes, dtype: np.dtype[Any]) -> np.ndarray[Any, Any]:
    planes = np.frombuffer(raw, dtype=np.uint8).reshape(dtype.itemsize, -1)
    return np.ascontiguousarray(planes.T).view(dtype).ravel()


def pack_rollup(rollup: Rollup) -> bytes:
    """The rollup's packed wire dict, arrays joined and shuffled, compressed (see module doc)."""
    wire = rollup.to_wire(packed=True)
    hists = _hists(wire)
    if any(len(h[1]) != 2 * len(h[0]) for h in hists):  # a count of 2**32 or more
        return bytes([PACK_PLAIN]) + zlib.compress(msgpack.packb(wire), 1)
    buckets = np.frombuffer(b"".join(h[0] for h in hists), dtype=_U2)
    counts = np.frombuffer(b"".join(h[1] for h in hists), dtype=_U4)
    wire["hn"] = [len(h[0]) // 2 for h in hists]
    wire["hb"] = _shuffle(np.diff(buckets, prepend=np.uint16(0)).astype(_U2))
    wire["hc"] = _shuffle(counts)
    for h in hists:
        h[0] = h[1] = b""
    return bytes([PACK_VERSION]) + zlib.compress(msgpack.packb(wire), 1)


def unpack_rollup(blob: bytes) -> dict[str, Any]:
    """Inverse of `pack_rollup`: the rollup's `to_wire(packed=True)`; ProtocolError if damaged."""
    if not blob or blob[0] not in (PACK_VERSION, PACK_PLAIN):
        raise ProtocolError("packed rollup: unknown layout version")
    try:
        wire: dict[str, Any] = msgpack.unpackb(zlib.decompress(blob[1:]))
        if blob[0] == PACK_PLAIN:
            return wire
        lens = wire.pop("hn")
        deltas = _unshuffle(wire.pop("hb"), _U2)
        buckets = np.cumsum(deltas, dtype=_U2).tobytes()
        counts = _unshuffle(wire.pop("hc"), _U4).tobytes()
        pos = 0
        for h, n in zip(_hists(wire), lens, strict=True):
            h[0], h[1] = buckets[2 * pos : 2 * (pos + n)], counts[4 * pos : 4 * (pos + n)]
            pos += n
    except (zlib.error, ValueError, TypeError, KeyError, IndexError) as exc:
        raise ProtocolError(f"packed rollup is damaged: {exc!r}") from None
    return wire


def as_lists(wire: dict[str, Any]) -> dict[str, Any]:
    """A packed (version 2) wire dict as version 1, histograms as int lists (older monitors)."""

    def lists(h: list[Any]) -> list[Any]:
        b, c = unpack_hist(h[0], h[1])
        return [b.tolist(), c.tolist(), *h[2:]]

    out = dict(wire, v=WIRE_VERSION)
    out["op"] = [[name, n, failed, lists(h)] for name, n, failed, h in wire["op"]]
    out["d"], out["q"] = lists(wire["d"]), lists(wire["q"])
    return out
