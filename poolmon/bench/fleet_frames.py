"""`frame_ms_20_pools`: the app's frame with 20 pools attached at 2,000 tasks/s each.

Part of `python -m poolmon.bench investigate` (registered there in a few lines). A producer
process serves 20 real endpoints (one `EndpointServer` and `Telemetry` each, on Unix sockets)
and emits 2,000 task rows a second into each (200-row batches every 100 ms, a realistic spread
of operations, latencies and 1 % errors), plus each pool's status every second. This process
runs what `poolmon attach --all` runs: a `Fleet` with one `Monitor` per pool and the app,
headless at 160x50, refreshing at 4 Hz.

Figures (the app's own frame clock, `poolmon.runtime.selfwatch`, from the refresh tick's start
until the screen is rendered; like `bench app`'s frame figures, CPU time: the UI thread's, so
a machine busy with other work does not inflate it):

* `frame_ms_20_pools`: median frame on the pools overview (20 rows, each a `PoolSummary`).
* `frame_ms_20_pools_p95`: its 95th percentile.
* `frame_wall_ms_20_pools`: the median in wall time (adds waits for the GIL, which 20 client
  threads share, and for a CPU; on a shared machine, mostly the latter).
* `frame_ms_20_pools_one_open`: median frame with one pool's full overview open (its full
  snapshot) while the other 19 keep ingesting.
* `app_cpu_fraction_20_pools`: this process's CPU over wall time on the pools overview.
* `records_per_s_20_pools`: records the 20 monitors received per second (target 40,000 task
  rows plus events), and `lag_s_max_20_pools`: the worst ingest lag seen at the end.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import tempfile
import time
from array import array
from pathlib import Path
from typing import Any

from poolmon.bench.app import _FakeControl

POOLS = 20
"""Pools attached at once."""
TASKS_PER_S = 2_000
"""Task rows per second into each pool."""
BATCH_ROWS = 200
"""Rows per batch (one batch per pool every 100 ms)."""


class _Control(_FakeControl):
    """Just enough of a pool for an endpoint to serve, under its own name."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


def _produce(folder: str, pools: int, eps: int, seconds: float, ready: Any) -> None:
    """Producer process: `pools` endpoints, `eps` task rows per second into each."""
    import numpy as np

    from poolmon.core import catalog as cat
    from poolmon.core.events import TaskBatch
    from poolmon.runtime.endpoint.server import EndpointServer
    from poolmon.runtime.telemetry import Telemetry

    served = []
    for i in range(pools):
        telemetry = Telemetry()
        name = f"pool-{i:02d}"
        server = EndpointServer(_Control(name), telemetry, path=f"{folder}/{name}.sock").start()
        served.append((name, telemetry, server))
    rng = np.random.default_rng(7)
    rows = BATCH_ROWS
    ops = ("resize_image", "score_model", "fetch_profile")

    def col(a: Any) -> array[int]:
        out = array("q")
        out.frombytes(np.ascontiguousarray(a, dtype=np.int64).tobytes())
        return out

    ready.set()
    interval = rows / eps
    task_id = 0
    next_tick = time.monotonic()
    next_status = next_tick
    end = next_tick + seconds
    try:
        while time.monotonic() < end:
            now_ns = time.time_ns()
            status_due = time.monotonic() >= next_status
            for n, (name, telemetry, _) in enumerate(served):
                slow = 4.0 if n == 0 else 1.0  # one pool is slower: its rows differ
                duration = rng.lognormal(np.log(2e6 * slow), 0.6, rows)
                failed = rng.random(rows) < 0.01
                batch = TaskBatch(
                    ops,
                    ("", "ValueError"),
                    col(np.arange(task_id, task_id + rows)),
                    col(rng.integers(0, 8, rows)),
                    col(rng.integers(0, len(ops), rows)),
                    col(now_ns - 150_000_000 + np.sort(rng.integers(0, 100_000_000, rows))),
                    col(duration),
                    col(rng.integers(0, 200_000, rows)),
                    col(failed),
                    col(failed),
                )
                task_id += rows
                meta = {"pool": name}
                telemetry.emit_tasks(batch, meta)
                if status_due:
                    stats = {"size": 8, "busy": 6, "idle": 2, "queue_depth": 0, "utilization": 0.75}
                    telemetry.emit(cat.POOL_STATUS, stats, meta)
            if status_due:
                next_status += 1.0
            next_tick += interval
            delay = next_tick - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    finally:
        for _, _, server in served:
            server.close()


def measure(seconds: float, pools: int = POOLS, eps: int = TASKS_PER_S) -> dict[str, float]:
    """Run the producer and the app on the fleet; return the module's figures."""
    from poolmon.app.app import PoolmonApp
    from poolmon.runtime.fleet import Fleet, FleetSource
    from poolmon.runtime.monitor import Monitor
    from poolmon.screens.pool_overview import PoolOverviewScreen
    from poolmon.screens.pools import PoolsScreen

    ctx = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="pm-fleet-", dir="/tmp") as folder:
        ready = ctx.Event()
        producer = ctx.Process(target=_produce, args=(folder, pools, eps, 2 * seconds + 20, ready))
        producer.start()
        try:
            if not ready.wait(60):
                raise RuntimeError("the producer did not start")
            fleet = Fleet([], lambda p: Monitor(p), discover=True, directory=Path(folder))
            app = PoolmonApp(FleetSource(fleet), refresh_hz=4)
            out: dict[str, float] = {}

            async def run() -> None:
                async with app.run_test(size=(160, 50)) as pilot:
                    deadline = time.monotonic() + 30
                    while len(fleet.members) < pools and time.monotonic() < deadline:
                        await pilot.pause(0.25)
                    if len(fleet.members) < pools:
                        raise RuntimeError(f"only {len(fleet.members)} of {pools} pools found")
                    await pilot.pause(4.0)  # connect, backfill, settle
                    if not isinstance(app.screen, PoolsScreen):
                        raise RuntimeError("the app did not open on the pools overview")
                    watch = app.self_watch
                    records0 = sum(m.monitor.intake.records for m in fleet.members)
                    watch.frame_ms.clear()
                    watch.frame_cpu_ms.clear()
                    cpu0, wall0 = time.process_time(), time.perf_counter()
                    await pilot.pause(seconds)
                    cpu1, wall1 = time.process_time(), time.perf_counter()
                    records1 = sum(m.monitor.intake.records for m in fleet.members)
                    frames = list(watch.frame_ms)
                    frames_cpu = list(watch.frame_cpu_ms)
                    lags = [m.monitor.intake.lag_s() or 0.0 for m in fleet.members]
                    await pilot.press("enter")
                    await pilot.pause(1.0)
                    if not isinstance(app.screen, PoolOverviewScreen):
                        raise RuntimeError("enter did not open the pool's overview")
                    watch.frame_cpu_ms.clear()
                    await pilot.pause(seconds / 2)
                    one_open = list(watch.frame_cpu_ms)
                    out.update(
                        frame_ms=statistics.median(frames_cpu),
                        frame_p95=sorted(frames_cpu)[int(0.95 * len(frames_cpu))],
                        wall_ms=statistics.median(frames),
                        frames=len(frames),
                        one_open=statistics.median(one_open),
                        cpu=(cpu1 - cpu0) / (wall1 - wall0),
                        records=(records1 - records0) / (wall1 - wall0),
                        lag=max(lags),
                    )

            asyncio.run(run())
            return out
        finally:
            producer.kill()
            producer.join()


def figures(seconds: float) -> dict[str, float]:
    """The suite's figures (see the module doc), rounded."""
    m = measure(seconds)
    return {
        "frame_ms_20_pools": round(m["frame_ms"], 2),
        "frame_ms_20_pools_p95": round(m["frame_p95"], 2),
        "frame_ms_20_pools_frames": m["frames"],
        "frame_wall_ms_20_pools": round(m["wall_ms"], 2),
        "frame_ms_20_pools_one_open": round(m["one_open"], 2),
        "app_cpu_fraction_20_pools": round(m["cpu"], 3),
        "records_per_s_20_pools": round(m["records"]),
        "lag_s_max_20_pools": round(m["lag"], 2),
    }
