"""Task functions for the failure tests: importable by name, so workers can unpickle them."""

from __future__ import annotations


def parse_order(order_id: int) -> int:
    """Raise a ValueError from two frames deep, with a message naming the order."""
    return _check_order(order_id)


def _check_order(order_id: int) -> int:
    raise ValueError(f"order {order_id} has no line items")


def huge_failure(size: int) -> int:
    """Raise from deep recursion with a huge message: both must reach the monitor clipped."""
    return _ping(size, 200)


def _ping(size: int, depth: int) -> int:
    if depth:
        return _pong(size, depth - 1)  # alternating frames: Python does not fold them
    raise RuntimeError("x" * size)


def _pong(size: int, depth: int) -> int:
    return _ping(size, depth)
