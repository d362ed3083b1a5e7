"""§6: arguments the pool itself rejects are `refused` (not `error`) in the command event."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from poolmon.runtime.client import MonitorClient
from poolmon.runtime.pool import Pool
from poolmon.runtime.telemetry import Telemetry


def test_out_of_range_resize_and_unknown_worker_are_refused(short_dir: Path) -> None:
    telemetry = Telemetry()
    events: list[dict[str, Any]] = []
    telemetry.attach("t", "poolmon.control.command", lambda n, m, meta: events.append(dict(meta)))
    pool = Pool(1, max_size=2, monitor=str(short_dir / "r.sock"), telemetry=telemetry)
    try:
        with MonitorClient(str(short_dir / "r.sock"), history=False) as client:
            too_big = client.command("resize", {"size": 3}, timeout_s=10)
            unknown = client.command("recycle_worker", {"worker_id": 999}, timeout_s=10)
            fine = client.command("resize", {"size": 2}, timeout_s=10)
        assert not too_big.ok
        assert "max_workers" in too_big.reason or "size" in too_big.reason
        assert not unknown.ok
        assert "no live worker with id 999" in unknown.reason
        assert fine.ok
        verdicts = [(e["command"], e["result"]) for e in events]
        assert verdicts == [("resize", "refused"), ("recycle_worker", "refused"), ("resize", "ok")]
        assert events[0]["reason"] == too_big.reason
    finally:
        pool.shutdown()
