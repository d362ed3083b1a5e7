"""The endpoint around a real `poolmon.Pool`: tasks stream out, stats and resize work."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from poolmon.core.protocol import Batch, HistoryEnd
from poolmon.runtime.client import MonitorClient
from poolmon.runtime.endpoint import EndpointServer
from poolmon.runtime.telemetry import Telemetry

pytestmark = pytest.mark.integration


def square(x: int) -> int:
    return x * x


def test_real_pool_streams_tasks_and_obeys_commands(short_dir: Path) -> None:
    from poolmon import Pool

    telemetry = Telemetry()
    pool = Pool(2, name="realpool", monitor=False, telemetry=telemetry)
    server = EndpointServer(pool, telemetry, path=short_dir / "realpool.sock").start()
    try:
        with MonitorClient(server.path, history=False) as client:
            assert client.welcome is not None
            assert client.welcome.pool == "realpool"
            assert isinstance(client.recv(5), HistoryEnd)
            time.sleep(0.1)  # the pool notices a new batch listener on its next 20 ms tick
            futures = [pool.submit(square, i) for i in range(200)]
            assert [f.result(timeout=30) for f in futures] == [i * i for i in range(200)]
            seen: set[int] = set()
            deadline = time.monotonic() + 15
            while len(seen) < 200 and time.monotonic() < deadline:
                frame = client.recv(0.2)
                if isinstance(frame, Batch):
                    for _, batch in frame.tasks:
                        seen.update(batch.task_id)
            assert len(seen) >= 200
            stats = client.command("stats", timeout_s=10)
            assert stats.ok
            assert stats.result["pool"]["size"] == 2
            assert stats.result["pool"]["tasks_done"] >= 200
            reply = client.command("resize", {"size": 3}, timeout_s=30)
            assert reply.ok, reply.reason
            assert pool.size == 3
            too_big = client.command("resize", {"size": pool.max_size + 1})
            assert not too_big.ok
    finally:
        server.close()
        pool.shutdown()
