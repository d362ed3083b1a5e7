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


def exit_after(seconds: float, code: int) -> None:
    time.sleep(seconds)
    os._exit(code)


def emit_user_event(n: int) -> int:
    from poolmon import telemetry

    telemetry.emit("myapp.cache.hit", {"n": n}, {"key": f"k{n}"})
    return n


def hold_gil(n: int) -> int:
    """A long C loop that never releases the GIL (the worker's watchdog thread cannot run)."""
    return sum(range(n))


class ExitOnUnpickle:
    """Pickles fine; unpickling it calls sys.exit(3) (a BaseException from user data)."""

    def __reduce__(self) -> tuple[Any, tuple[int]]:
        import sys

        return (sys.exit, (3,))


def return_exit_on_unpickle() -> ExitOnUnpickle:
    return ExitOnUnpickle()


class FalsyError(Exception):
    """An exception whose truth value is False (result() must raise it all the same)."""

    def __bool__(self) -> bool:
        return False


def raise_falsy(delay: float) -> None:
    time.sleep(delay)
    raise FalsyError("falsy but real")


class BadStrError(Exception):
    """An exception whose __str__ raises SystemExit (describing it must not kill anything)."""

    def __str__(self) -> str:
        raise SystemExit(4)


def raise_bad_str() -> None:
    raise BadStrError()


def make_point(i: int) -> Point:
    return Point(i, -i)


_initialized: list[Any] = []


def init_record(*values: Any) -> None:
    """An initializer: remembers its arguments in the worker."""
    _initialized.append(values)


def initialized() -> list[Any]:
    return list(_initialized)


def init_fail(message: str) -> None:
    raise ValueError(message)


def pid_and_initialized() -> tuple[int, list[Any]]:
    return os.getpid(), list(_initialized)


def init_fail_if_exists(path: str) -> None:
    """An initializer that fails once `path` exists (a replacement's environment broke)."""
    if os.path.exists(path):
        raise RuntimeError(f"{path} exists")
