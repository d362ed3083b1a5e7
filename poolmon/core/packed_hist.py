"""Rollup histograms as packed integer arrays: the wire form a backfill decodes with numpy.

Why: a backfill of 15 busy minutes carries about a million sparse histogram bucket indexes
and counts. As msgpack arrays of ints each one became a Python int on both sides (encoded by
the pool, decoded, type-checked and turned back into numpy by the monitor): about half the
attaching monitor's CPU. Packed, a histogram's buckets and counts are two msgpack `bin`
values that `numpy.frombuffer` reads in one call each. docs/PROTOCOL.md ("Packed
histograms") is the normative layout:

* `buckets`: n little-endian unsigned 16-bit integers, strictly ascending, each < 1280;
* `counts`: n little-endian unsigned integers of 4 bytes each, or 8 bytes each when a count
  does not fit 32 bits (the width is `len(counts) / n`); every count >= 1.

An empty histogram is two empty `bin`s.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt

from poolmon.core.errors import ProtocolError
from poolmon.core.sketch import N_BUCKETS

BUCKET_DTYPE: Final = np.dtype("<u2")
COUNT_DTYPES: Final[dict[int, np.dtype[Any]]] = {4: np.dtype("<u4"), 8: np.dtype("<u8")}
_U32_MAX: Final = (1 << 32) - 1

I64 = npt.NDArray[np.int64]
IDX = npt.NDArray[np.intp]


def pack_hist(buckets: Any, counts: Any) -> tuple[bytes, bytes]:
    """The `(buckets, counts)` bins of a sparse histogram (sequences or arrays of ints)."""
    b = np.asarray(buckets, dtype=BUCKET_DTYPE)
    c = np.asarray(counts, dtype=np.int64)
    wide = bool(len(c)) and int(c.max()) > _U32_MAX
    return b.tobytes(), c.astype(COUNT_DTYPES[8 if wide else 4]).tobytes()


def unpack_hist(buckets: Any, counts: Any) -> tuple[IDX, I64]:
    """Bucket indexes and counts of a packed histogram, checked; ProtocolError when malformed."""
    if not isinstance(buckets, bytes | bytearray) or not isinstance(counts, bytes | bytearray):
        raise ProtocolError("malformed packed histogram: buckets and counts must be bin")
    n, odd = divmod(len(buckets), 2)
    width = len(counts) // n if n else 0
    if odd or (n and (width not in COUNT_DTYPES or width * n != len(counts))) or (not n and counts):
        raise ProtocolError("malformed packed histogram: bin lengths do not match")
    if not n:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int64)
    b = np.frombuffer(buckets, dtype=BUCKET_DTYPE)
    c = np.frombuffer(counts, dtype=COUNT_DTYPES[width])
    if int(b[-1]) >= N_BUCKETS or (n > 1 and bool((b[1:] <= b[:-1]).any())):
        raise ProtocolError("malformed packed histogram: buckets not ascending in 0..1279")
    if not c.all() or (width == 8 and int(c.max()) >= 1 << 63):
        raise ProtocolError("malformed packed histogram: a count is 0 or too large")
    return b.astype(np.intp), c.astype(np.int64)
