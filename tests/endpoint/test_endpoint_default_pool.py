"""A pool as shipped (monitor=path): its own endpoint answers stats and resize properly."""

from __future__ import annotations

from pathlib import Path

from poolmon import Pool
from poolmon.bench.tasks import ident
from poolmon.runtime.client import MonitorClient
from poolmon.runtime.telemetry import Telemetry


def test_served_pool_reports_computed_stats_and_resizes_as_control(tmp_path: Path) -> None:
    sock = tmp_path / "shipped.sock"
    with Pool(1, name="shipped", monitor=str(sock), telemetry=Telemetry()) as pool:
        assert pool.submit(ident, 1).result(20) == 1
        client = MonitorClient(sock)
        client.connect(subscribe=False)
        try:
            stats = client.command("stats", timeout_s=10)
            assert stats.ok, stats.reason
            plain = stats.result["pool"]
            # computed PoolStats properties survive the trip, not only dataclass fields
            assert {"busy", "idle", "tasks_done", "tasks_submitted"} <= set(plain)
            assert plain["tasks_done"] >= 1
            reply = client.command("resize", {"size": 2}, timeout_s=20)
            assert reply.ok, reply.reason
            assert pool.size == 2
        finally:
            client.close()
