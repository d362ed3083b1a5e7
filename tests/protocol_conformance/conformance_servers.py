"""The server half of the conformance tests: real poolmon pools and endpoints (may import poolmon).

Why a second module: the client half (`wireclient`) must not import poolmon, and the fixtures
here are the only place that does; the tests then speak to what these start through the wire.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from poolmon import Pool
from poolmon.runtime.endpoint import EndpointServer
from poolmon.runtime.telemetry import Telemetry


def square(x: int) -> int:
    """A task (module level, so workers can import it)."""
    return x * x


def fail_on_odd(x: int) -> int:
    """A task that raises ValueError for odd x."""
    if x % 2:
        raise ValueError(f"odd {x}")
    return x


def nap(seconds: float) -> float:
    """A task that takes a while."""
    time.sleep(seconds)
    return seconds


@contextmanager
def socket_dir(base: str = "/tmp") -> Iterator[Path]:
    """A short folder under `base` (Unix socket paths are limited to about 100 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="pmconf", dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def real_pool(name: str, base: str = "/tmp", **kwargs: Any) -> Iterator[tuple[Pool, str]]:
    """A real `poolmon.Pool` serving its endpoint at a socket of its own; yields (pool, path)."""
    with socket_dir(base) as folder:
        path = str(folder / "sock" / f"{name}.sock")
        kwargs.setdefault("telemetry", Telemetry())
        pool = Pool(2, name=name, monitor=path, min_size=1, max_size=4, **kwargs)
        try:
            pool.wait_ready(30)
            yield pool, path
        finally:
            pool.shutdown(cancel_futures=True)


class BrokenControl:
    """A pool stand-in whose parts fail on purpose, to provoke what no valid pool does.

    `started_at_ns` raises (so a HELLO meets a server bug: ERROR internal) when `broken_hello`
    is set, and `resize` raises a RuntimeError (a valid command failing in the pool: the
    command's event says `error`).
    """

    def __init__(self, broken_hello: bool) -> None:
        self.name = "broken"
        self.broken_hello = broken_hello

    @property
    def started_at_ns(self) -> int:
        if self.broken_hello:
            raise RuntimeError("started_at_ns is broken on purpose")
        return time.time_ns()

    def stats(self) -> dict[str, Any]:
        return {"size": 1}

    def resize(self, size: int) -> None:
        raise RuntimeError("the pool is shutting down")

    def set_task_timeout(self, seconds: float | None) -> None:
        pass

    def set_health_check_interval(self, seconds: float) -> None:
        pass

    def recycle_worker(self, worker_id: int) -> None:
        pass


@contextmanager
def broken_endpoint(broken_hello: bool, **kwargs: Any) -> Iterator[str]:
    """A real EndpointServer around `BrokenControl`; yields its socket path."""
    with socket_dir() as folder:
        server = EndpointServer(
            BrokenControl(broken_hello), Telemetry(), path=folder / "b.sock", **kwargs
        ).start()
        try:
            yield str(server.path)
        finally:
            server.close()


def open_to_everyone(path: str) -> None:
    """Let any local user reach the socket, so only the server's uid check can refuse them.

    What an operator would do to share a pool; the endpoint makes the folder 0700 and the
    socket 0600, so without this a peer of another uid fails in connect() (EACCES) and never
    reaches SO_PEERCRED.
    """
    folder = os.path.dirname(path)
    for directory in (os.path.dirname(folder), folder):
        os.chmod(directory, 0o755)
    os.chmod(path, 0o666)
