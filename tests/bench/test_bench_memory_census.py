"""The census counts what Python holds: held megabytes show up, once, and go when freed.

The suite runs in one process with other tests' threads still winding down, so the census
moves by up to about a MiB on its own: the payload is large and the checks allow for that.
"""

from __future__ import annotations

import numpy as np

from poolmon.bench.memory_census import gc_bytes

MIB = 2**20


def test_gc_bytes_sees_held_bytes_and_arrays_once() -> None:
    before = gc_bytes()
    blob = b"x" * (32 * MIB)
    held = [blob, blob, {"again": blob}, np.zeros(2 * MIB)]  # 32 MiB of bytes, 16 of float64
    grown = gc_bytes() - before
    assert abs(grown - 48 * MIB) < 4 * MIB  # each counted once: three times would be 112 MiB
    del held, blob
    assert abs(gc_bytes() - before) < 4 * MIB
