"""The pool's endpoint gives free C-heap pages back once a minute (issue #17)."""

from __future__ import annotations

import ctypes.util

import pytest

from poolmon.runtime.heaptrim import HeapTrim


@pytest.mark.skipif(ctypes.util.find_library("c") is None, reason="no C library to ask")
def test_the_heap_is_trimmed_once_per_period() -> None:
    trim = HeapTrim(every_ns=100)
    if not trim.available:
        pytest.skip("this C library has no malloc_trim")
    trim(None, 1_000)  # arms it
    trim(None, 1_050)
    assert trim.trims == 0
    trim(None, 1_100)
    trim(None, 1_150)
    assert trim.trims == 1
    trim(None, 1_200)
    assert trim.trims == 2
