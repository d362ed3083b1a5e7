"""`DemoService`: a real pool with its monitor endpoint, resource sampler and demo load.

Starts the endpoint and the resource sampler itself around a `Pool(monitor=False)`, so the
demo works the same whether or not the pool wires those services in by default.
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
    """

    def __init__(
        self,
        name: str,
        workers: int,
        socket_path: str | os.PathLike[str],
        rate_per_s: float = 300.0,
    ) -> None:
        self.name = name
        self.workers = workers
        self.socket_path = Path(socket_path)
        self.rate_per_s = rate_per_s
        self.pool: Any = None
        """The running `poolmon.Pool`."""
        self._services: list[Any] = []

    def start(self) -> DemoService:
        """Start the pool, the endpoint, the sampler and the load (in that order)."""
        from poolmon import Pool
        from poolmon.runtime.endpoint.server import EndpointServer
        from poolmon.runtime.resources.monitor import ResourceMonitor

        self.pool = Pool(self.workers, name=self.name, monitor=False)
        telemetry = self.pool.telemetry
        endpoint = EndpointServer(self.pool, telemetry, path=self.socket_path).start()
        self._services.append(endpoint)
        pool = self.pool

        def targets() -> dict[int, int]:
            found = {-1: os.getpid()}
            for worker in pool.stats().workers:
                found[worker.worker_id] = worker.pid
            return found

        sampler = ResourceMonitor(targets, telemetry, self.name)
        sampler.start()
        self._services.append(sampler)
        self._services.append(DemoLoad(self.pool, self.rate_per_s).start())
        return self

    def stop(self) -> None:
        """Stop the load, the sampler and the endpoint, then shut the pool down."""
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
