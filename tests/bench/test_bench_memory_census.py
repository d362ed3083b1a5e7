"""The census counts what Python holds: a held megabyte shows up, once, and goes when freed."""

from __future__ import annotations

import numpy as np

from poolmon.bench.memory_census import gc_bytes


def test_gc_bytes_sees_held_bytes_and_arrays_once() -> None:
    before = gc_bytes()
    blob = b"x" * 2**20
    held = [blob, blob, {"again": blob}, np.zeros(2**17)]  # 1 MiB of bytes, 1 MiB of float64
    with_them = gc_bytes()
    grown = with_them - before
    assert abs(grown - 2 * 2**20) < 64 * 1024  # each counted once (not three times), +- noise
    del held, blob
    assert abs(gc_bytes() - before) < 64 * 1024
