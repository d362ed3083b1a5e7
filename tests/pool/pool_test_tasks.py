"""Task functions for the pool tests (importable by workers by module name)."""

from __future__ import annotations

import os
import threading
import time
from typing import Any


def add(a: int, b: int = 0, *, c: int = 0) -> int:
    return a + b + c


def echo(*args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return args, kwargs


class Point:
    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)

    def norm1(self) -> int:
        return abs(self.x) + abs(self.y)


class Unpicklable(Exception):
    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        self.lock = threading.Lock()


class NeedsTwoArgs(Exception):
    def __init__(self, a: str, b: str) -> None:
        super().__init__(a)
        self.b = b


def raise_unpicklable(msg: str) -> None:
    raise Unpicklable(msg)


def raise_bad_reduce() -> None:
    raise NeedsTwoArgs("one", "two")


def return_lock() -> Any:
    return threading.Lock()


def sleep_pid(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def spin(seconds: float) -> int:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return os.getpid()


def exit_worker(code: int) -> None:
    os._exit(code)


def emit_user_event(n: int) -> int:
    from poolmon import telemetry

    telemetry.emit("myapp.cache.hit", {"n": n}, {"key": f"k{n}"})
    return n


def hold_gil(n: int) -> int:
    """A long C loop that never releases the GIL (the worker's watchdog thread cannot run)."""
    return sum(range(n))
