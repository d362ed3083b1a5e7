"""Compare two aggregators' whole state (a uniquely named helper module, not a conftest)."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from poolmon.core.aggregator import Aggregator

WINDOWS = (60, 300, 900, 3600)
_SKIP = {"clock", "_handlers"}


def _walk(a: Any, b: Any, path: str, seen: set[int]) -> None:
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, np.ndarray):
        assert a.shape == b.shape, path
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), f"{path} differs"
        return
    if isinstance(a, dict):
        assert list(a) == list(b), f"{path}: keys {list(a)} != {list(b)}"
        for k in a:
            _walk(a[k], b[k], f"{path}[{k!r}]", seen)
        return
    if isinstance(a, list | tuple | deque):
        assert len(a) == len(b), f"{path}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _walk(x, y, f"{path}[{i}]", seen)
        return
    if isinstance(a, int | float | str | bytes | bool | type(None)):
        assert a == b or (a != a and b != b), f"{path}: {a!r} != {b!r}"
        return
    if id(a) in seen:
        return
    seen.add(id(a))
    names = list(getattr(a, "__dict__", {}))
    for cls in type(a).__mro__:
        names += [n for n in getattr(cls, "__slots__", ()) if n not in names]
    for name in names:
        if name not in _SKIP and hasattr(a, name):
            _walk(getattr(a, name), getattr(b, name), f"{path}.{name}", seen)


def compare_state(one: Aggregator, other: Aggregator) -> None:
    """Assert every attribute (arrays exactly, dicts in order) and every window's snapshot."""
    _walk(one, other, "agg", set())
    for window in WINDOWS:
        assert one.snapshot(window) == other.snapshot(window), f"snapshot({window})"
    assert one.summary() == other.summary()
