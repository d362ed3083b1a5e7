"""`python -m poolmon.bench app`: frame cost at 160x50 with 64 workers, app CPU at 100k events/s.

* `frame_ms_160x50_64_workers`: one refresh of the overview, as the timer does it: pull a
  snapshot from the real aggregator (64 workers, two minutes of the seeded demo stream), hand
  it to the widgets, let Textual lay out and render, and composite the full screen (what the
  terminal driver would write). Measured as this process's CPU time (the headless driver's
  idle waits are not work), median over repetitions, in the worst case: a new second of data
  before every frame, so every chart is rebuilt. `frame_ms_steady_4hz` is the median at the
  real cadence (a new second every fourth frame). The refresh period at the default 4 Hz is
  250 ms, so `ratios.frame_vs_refresh_period` says how much of it a worst-case frame uses.
* `attach_to_first_full_frame_ms`: from spawning `poolmon attach --window 15m` (headless) to
  its first frame showing the full 15-minute window of a pool with 15 minutes of history at
  2,000 tasks/s; how the pool and the measurement are built: `poolmon.bench.attach_frame`.
* `app_cpu_fraction_100k_eps`: a producer process serves a real endpoint and emits 100,000
  task events per second (1,000-row TaskBatches every 10 ms, plus the periodic pool and
  resource events); this process runs the `Monitor` (client thread -> aggregator) and the app
  headless at 160x50 and 4 Hz. The figure is this process's CPU time over wall time (1.0 = one
  core busy), with the events actually ingested per second reported beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import tempfile
import time
from array import array
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from poolmon.bench.common import machine, median

TARGET_EPS = 100_000
"""Task events per second the producer emits."""
BATCH_ROWS = 1_000
"""Rows per TaskBatch (one batch every 10 ms at 100k/s)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Suite options."""
    parser.add_argument("--seconds", type=float, default=None, help="CPU measurement length")


# -- frame cost ---------------------------------------------------------------------------


def measure_frames(repetitions: int) -> dict[str, float]:
    """CPU ms per overview refresh at 160x50 with 64 workers (worst case and steady state)."""
    from poolmon.app.app import PoolmonApp
    from poolmon.app.textdump import screen_text
    from poolmon.testing.clock import ManualClock
    from poolmon.testing.streams import FeedSource, StreamGenerator, StreamSpec

    clock = ManualClock()
    source = FeedSource(clock)
    generator = StreamGenerator(StreamSpec(workers=64, tasks_per_s=2_000), clock.time_ns())
    source.attach(generator.pool_info())
    source.play(generator, 120)
    app = PoolmonApp(source, refresh_hz=0)
    worst: list[float] = []
    steady: list[float] = []
    snapshots: list[float] = []

    async def frame(pilot: Any) -> float:
        t0 = time.process_time()
        app.refresh_frame()
        await pilot.pause()
        screen_text(app)
        return (time.process_time() - t0) * 1e3

    async def run() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            for _ in range(repetitions):
                source.play_more(1)  # a new second of data before every frame
                t0 = time.process_time()
                source.snapshot(60)
                snapshots.append((time.process_time() - t0) * 1e3)
                worst.append(await frame(pilot))
            for i in range(repetitions * 4):
                if i % 4 == 0:
                    source.play_more(1)  # 4 Hz refresh, one-second slots
                steady.append(await frame(pilot))

    asyncio.run(run())
    return {
        "frame_ms": median(worst),
        "steady_ms": median(steady),
        "steady_mean_ms": statistics.fmean(steady),
        "snapshot_ms": median(snapshots),
    }


# -- CPU at 100k events/s -------------------------------------------------------------------


class _FakeControl:
    """Just enough of a pool for the endpoint to serve (the producer has no workers)."""

    def __init__(self) -> None:
        self.name = "bench-app"
        self.pid = os.getpid()
        self.started_at_ns = time.time_ns()

    def stats(self) -> Mapping[str, Any]:
        return {"size": 64, "busy": 48, "idle": 16, "queue_depth": 0}

    def resize(self, size: int) -> None:
        return None

    def set_task_timeout(self, seconds: float | None) -> None:
        return None

    def set_health_check_interval(self, seconds: float) -> None:
        return None

    def recycle_worker(self, worker_id: int) -> None:
        return None


def _produce(path: str, eps: int, seconds: float, ready: Any) -> None:
    """Producer process: serve an endpoint and emit `eps` task events per second."""
    import numpy as np

    from poolmon.core import catalog as cat
    from poolmon.core.events import TaskBatch
    from poolmon.runtime.endpoint.server import EndpointServer
    from poolmon.runtime.telemetry import Telemetry

    telemetry = Telemetry()
    server = EndpointServer(_FakeControl(), telemetry, path=path).start()
    rng = np.random.default_rng(1)
    rows = BATCH_ROWS
    ops = ("resize_image", "score_model", "fetch_profile")
    duration = rng.lognormal(np.log(2e6), 0.6, rows).astype(np.int64)
    columns = {
        "worker_id": rng.integers(0, 64, rows).astype(np.int64),
        "op": rng.integers(0, len(ops), rows).astype(np.int64),
        "duration_ns": duration,
        "wait_ns": rng.integers(0, 200_000, rows).astype(np.int64),
        "status": (rng.random(rows) < 0.01).astype(np.int64),
        "error_type": np.zeros(rows, dtype=np.int64),
    }
    columns["error_type"][columns["status"] == 1] = 1
    offsets = np.linspace(0, 10_000_000, rows, endpoint=False).astype(np.int64)
    ready.set()
    interval = rows / eps
    task_id = 0
    next_tick = time.monotonic()
    next_status = next_tick
    end = next_tick + seconds
    meta = {"pool": "bench-app"}

    def col(a: Any) -> array[int]:
        out = array("q")
        out.frombytes(a.tobytes())
        return out

    try:
        while time.monotonic() < end:
            now_ns = time.time_ns()
            ids = np.arange(task_id, task_id + rows, dtype=np.int64)
            task_id += rows
            batch = TaskBatch(
                ops,
                ("", "ValueError"),
                col(ids),
                col(columns["worker_id"]),
                col(columns["op"]),
                col(now_ns - 20_000_000 + offsets),
                col(columns["duration_ns"]),
                col(columns["wait_ns"]),
                col(columns["status"]),
                col(columns["error_type"]),
            )
            telemetry.emit_tasks(batch, meta)
            if time.monotonic() >= next_status:
                next_status += 1.0
                telemetry.emit(
                    cat.POOL_STATUS,
                    {"size": 64, "busy": 48, "idle": 16, "queue_depth": 0, "utilization": 0.75},
                    meta,
                )
                for worker in range(64):
                    telemetry.emit(
                        cat.RESOURCE_PROCESS,
                        {"cpu_percent": 70.0, "rss_bytes": 40 << 20, "fds": 9, "threads": 1},
                        {**meta, "worker_id": worker, "pid": 10_000 + worker},
                    )
            next_tick += interval
            delay = next_tick - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    finally:
        server.close()


def measure_cpu(seconds: float) -> dict[str, float]:
    """Run producer + attached app; return this process's CPU fraction and ingest rate."""
    from poolmon.app.app import PoolmonApp
    from poolmon.runtime.monitor import Monitor

    ctx = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="poolmon-bench-app-") as folder:
        path = str(Path(folder) / "bench.sock")
        ready = ctx.Event()
        producer = ctx.Process(target=_produce, args=(path, TARGET_EPS, seconds + 8, ready))
        producer.start()
        try:
            if not ready.wait(30):
                raise RuntimeError("the producer did not start")
            deadline = time.monotonic() + 10
            while not Path(path).exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            monitor = Monitor(path)
            app = PoolmonApp(monitor, refresh_hz=4)
            result: dict[str, float] = {}

            async def run() -> None:
                async with app.run_test(size=(160, 50)) as pilot:
                    await pilot.pause(2.0)  # connect, backfill, settle
                    with monitor.lock:
                        before_tasks = monitor.aggregator.snapshot(60).tasks_finished
                    cpu0, wall0 = time.process_time(), time.perf_counter()
                    await pilot.pause(seconds)
                    cpu1, wall1 = time.process_time(), time.perf_counter()
                    with monitor.lock:
                        after_tasks = monitor.aggregator.snapshot(60).tasks_finished
                    result["cpu_fraction"] = (cpu1 - cpu0) / (wall1 - wall0)
                    result["ingested_eps"] = (after_tasks - before_tasks) / (wall1 - wall0)

            asyncio.run(run())
            return result
        finally:
            producer.join(timeout=seconds + 20)
            if producer.is_alive():
                producer.kill()
                producer.join()


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Measure both figures (frames first, then the CPU run) and return the suite's dict."""
    quick = bool(getattr(args, "quick", False))
    seconds = args.seconds or (4.0 if quick else 10.0)
    frames = measure_frames(8 if quick else 30)
    cpu_runs = [measure_cpu(seconds) for _ in range(1 if quick else 3)]
    from poolmon.bench.attach_frame import measure_attach

    attach = measure_attach(2 if quick else 5)  # poolmon/bench/attach_frame.py
    cpu = statistics.median(r["cpu_fraction"] for r in cpu_runs)
    eps = statistics.median(r["ingested_eps"] for r in cpu_runs)
    return {
        "suite": "app",
        "machine": machine(),
        "figures": {
            "frame_ms_160x50_64_workers": round(frames["frame_ms"], 2),
            "frame_ms_steady_4hz": round(frames["steady_ms"], 2),
            "frame_ms_steady_4hz_mean": round(frames["steady_mean_ms"], 2),
            "snapshot_ms_64_workers": round(frames["snapshot_ms"], 3),
            "app_cpu_fraction_100k_eps": round(cpu, 3),
            "ingested_events_per_s": round(eps),
            "cpu_runs": len(cpu_runs),
            "cpu_seconds_per_run": seconds,
            "attach_to_first_full_frame_ms": round(attach["total"]),
            "attach_milestones_ms": {k: round(v) for k, v in attach.items() if k != "total"},
        },
        "ratios": {
            "frame_vs_refresh_period": round(frames["frame_ms"] / 250.0, 3),
            "ingested_vs_target_eps": round(eps / TARGET_EPS, 3),
        },
    }
