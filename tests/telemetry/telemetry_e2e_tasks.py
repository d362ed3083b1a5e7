"""Task functions for the telemetry end-to-end tests (importable by worker processes)."""

from __future__ import annotations

import os
import signal
import time

import poolmon.telemetry as telemetry


def ident(x: int) -> int:
    return x


def fail(message: str) -> None:
    raise ValueError(message)


def sleep_for(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def crash() -> None:
    os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(10)


def emit_user_event(key: str) -> int:
    telemetry.emit("myapp.cache.hit", {"count": 1}, {"key": key})
    with telemetry.span("myapp.load", {"key": key}):
        pass
    return os.getpid()
