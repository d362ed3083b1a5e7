"""`DemoService`: a real pool, serving its monitor endpoint at a chosen path, under demo load.

The pool is an ordinary `poolmon.Pool`: its endpoint and resource sampler are the ones every
pool runs, so the demo shows exactly what `poolmon attach` shows for a user's own pool.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from poolmon.demo.driver import DemoLoad


class DemoService:
    """Everything `poolmon demo` runs on the pool side, started and stopped together.

    Args:
        name: Pool name.
        workers: Pool size.
        socket_path: Where the endpoint listens.
        rate_per_s: Demo submissions per second.
        slowdown: Every task takes this many times longer (`DemoLoad`).
    """

    def __init__(
        self,
        name: str,
        workers: int,
        socket_path: str | os.PathLike[str],
        rate_per_s: float = 300.0,
        slowdown: float = 1.0,
    ) -> None:
        self.name = name
        self.workers = workers
        self.socket_path = Path(socket_path)
        self.rate_per_s = rate_per_s
        self.slowdown = slowdown
        self.pool: Any = None
        """The running `poolmon.Pool`."""
        self._services: list[Any] = []

    def start(self) -> DemoService:
        """Start the pool (with its endpoint and sampler), then the load."""
        from poolmon import Pool

        self.pool = Pool(self.workers, name=self.name, monitor=str(self.socket_path))
        self._services.append(DemoLoad(self.pool, self.rate_per_s, slowdown=self.slowdown).start())
        return self

    def stop(self) -> None:
        """Stop the load, then shut the pool down (which stops its endpoint and sampler)."""
        while self._services:
            service = self._services.pop()
            try:
                if hasattr(service, "stop"):
                    service.stop()
                else:
                    service.close()
            except Exception as exc:  # keep stopping the rest; say what failed
                print(f"poolmon demo: stopping {type(service).__name__}: {exc}")
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
