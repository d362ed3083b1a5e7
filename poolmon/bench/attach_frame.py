"""`figures.attach_to_first_full_frame_ms` of `python -m poolmon.bench app`.

How long after `poolmon attach --window 15m` starts does its screen show the whole 15-minute
window of a pool that has run for 15 minutes at 2,000 tasks/s?

* The pool: a producer process serves a real `EndpointServer` whose `History` already holds
  15 minutes at 2,000 tasks/s. Waiting 15 minutes per run is not an option, so the history is
  built with a fast-forwarded clock: 900 seconds of synthetic task batches (the demo's mix of
  operations, errors and log-normal durations over 16 workers), stamped with the past
  seconds they would have finished in, are added to the `History` oldest first and its
  `tick(now_ns)` is called with the simulated time after each second, exactly as the server
  thread does live. The rollups, raw batches and bounds are then what a pool 15 minutes old
  holds. The server then starts on that history and the producer goes on emitting 2,000
  tasks/s live, with the pool status and per-worker resource events of a real pool.
* The monitor: a fresh Python process per run (interpreter start and imports included), the
  same code path as `poolmon attach --window 15m` (`poolmon.app.launch.build_app`: the
  `Monitor` started, then `PoolmonApp(window_s=900, refresh_hz=4)`), on Textual's headless
  driver at 160x50 instead of a terminal. It stamps the first snapshot the app's refresh
  hands to the widgets whose whole window has data (`window_is_full`: the throughput chart's
  every complete 10-second slot, no gap), lets Textual lay out and render it, composites the
  screen, and reports the time.

The figure is wall time from just before the process is spawned to that composited frame,
median over runs; milestones after the spawn (app built: interpreter, imports, monitor
started; history received; first full snapshot) and the attaching process's CPU time are
reported beside it, so a
regression says where it is, and a run on a loaded machine can be told from a slow one.
"""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from poolmon.bench.app import _FakeControl

HISTORY_S = 900
"""Seconds of history the pool holds when the monitor attaches (the 15-minute window)."""
RATE = 2_000
"""Tasks per second, in the history and live."""
WORKERS = 16
OPS = ("resize_image", "fetch_profile", "score_model", "render_report")
ERRORS = ("", "TimeoutError", "ConnectionError", "ValueError")


class _Control(_FakeControl):
    """Just enough of a pool for the endpoint (the producer has no workers of its own)."""

    def __init__(self, started_at_ns: int) -> None:
        super().__init__()
        self.name = "bench-attach"
        self.started_at_ns = started_at_ns

    def stats(self) -> Mapping[str, Any]:
        return {"size": WORKERS, "busy": 12, "idle": WORKERS - 12, "queue_depth": 0}


class _Batches:
    """One second's TaskBatch of `RATE` rows at a time, with the demo's mix (seeded)."""

    def __init__(self) -> None:
        import numpy as np

        rng = np.random.default_rng(7)
        n = RATE
        self._np = np
        self.worker = rng.integers(0, WORKERS, n).astype(np.int64)
        self.op = rng.integers(0, len(OPS), n).astype(np.int64)
        self.duration = rng.lognormal(np.log(2e6), 0.8, n).astype(np.int64)
        self.wait = rng.integers(0, 300_000, n).astype(np.int64)
        failed = rng.random(n) < 0.02
        self.status = failed.astype(np.int64)
        self.error = np.where(failed, rng.integers(1, len(ERRORS), n), 0).astype(np.int64)
        self.offsets = np.linspace(0, 1e9, n, endpoint=False).astype(np.int64)
        self.next_id = 0

    def second(self, second_ns: int) -> Any:
        """The tasks finishing during the second starting at `second_ns`."""
        from poolmon.core.events import TaskBatch

        np = self._np
        ids = np.arange(self.next_id, self.next_id + RATE, dtype=np.int64)
        self.next_id += RATE
        start = second_ns + self.offsets - self.duration

        def col(a: Any) -> array[int]:
            out = array("q")
            out.frombytes(a.astype(np.int64).tobytes())
            return out

        ids_c, worker_c, op_c, start_c, dur_c, wait_c = (
            col(c) for c in (ids, self.worker, self.op, start, self.duration, self.wait)
        )
        return TaskBatch(
            OPS, ERRORS, ids_c, worker_c, op_c, start_c, dur_c, wait_c,
            col(self.status), col(self.error),
        )  # fmt: skip


def build_history(now_ns: int, batches: _Batches) -> Any:
    """A `History` holding `HISTORY_S` seconds before `now_ns`, built on a fast-forwarded clock."""
    from poolmon.runtime.endpoint.history import History

    history = History()
    first_s = now_ns // 1_000_000_000 - HISTORY_S
    for sec in range(first_s, first_s + HISTORY_S):
        history.add_tasks(batches.second(sec * 1_000_000_000))
        history.tick((sec + 1) * 1_000_000_000 + history.close_grace_ns)  # the simulated now
    return history


def _status_events(telemetry: Any, meta: dict[str, Any]) -> None:
    from poolmon.core import catalog as cat

    telemetry.emit(
        cat.POOL_STATUS,
        {"size": WORKERS, "busy": 12, "idle": WORKERS - 12, "queue_depth": 0, "utilization": 0.75},
        meta,
    )
    for worker in range(WORKERS):
        telemetry.emit(
            cat.RESOURCE_PROCESS,
            {"cpu_percent": 70.0, "rss_bytes": 40 << 20, "fds": 9, "threads": 1},
            {**meta, "worker_id": worker, "pid": 10_000 + worker},
        )


def serve(path: str, seconds: float, ready: Any) -> None:
    """Producer process: a 15-minute-old pool's endpoint, then 2,000 tasks/s live."""
    from poolmon.runtime.endpoint.server import EndpointServer
    from poolmon.runtime.telemetry import Telemetry

    batches = _Batches()
    now_ns = time.time_ns()
    history = build_history(now_ns, batches)
    telemetry = Telemetry()
    control = _Control(now_ns - HISTORY_S * 1_000_000_000)
    server = EndpointServer(control, telemetry, path=path, history=history).start()
    meta = {"pool": control.name}
    _status_events(telemetry, meta)
    ready.set()
    end = time.monotonic() + seconds
    next_s = now_ns // 1_000_000_000  # the live seconds continue where the history ends
    try:
        while time.monotonic() < end:
            while (next_s + 1) * 1_000_000_000 <= time.time_ns():
                telemetry.emit_tasks(batches.second(next_s * 1_000_000_000), meta)
                _status_events(telemetry, meta)
                next_s += 1
            time.sleep(0.02)
    finally:
        server.close()


def window_is_full(snap: Any) -> bool:
    """Whether the throughput chart has data in every complete slot of the whole window.

    The 15-minute window is read from 10-second slots: a full window is its complete slots
    (89 or 90, with the current one still filling), none of them a gap.
    """
    series = snap.throughput
    slots = snap.window_s * 1_000_000_000 // series.step_ns
    values = series.values
    return len(values) >= slots - 1 and all(v is not None for v in values)


def attach_child(path: str, t0_ns: int) -> dict[str, int]:
    """In a fresh process: `poolmon attach --window 15m`'s code path, headless; stamps in ns.

    `launch.build_app` (what `attach` runs) starts the monitor, imports Textual and builds the
    app; the monitor's `snapshot` is wrapped to note the first full window it hands out.
    """
    import resource

    t_main = time.time_ns()
    import asyncio

    from poolmon.app.launch import build_app
    from poolmon.app.textdump import screen_text

    stamps = {"spawn": t0_ns, "main": t_main}
    app = build_app(Path(path), read_only=False, window_s=HISTORY_S, hz=4.0)
    stamps["imported"] = time.time_ns()
    monitor: Any = app.source
    plain_snapshot = monitor.snapshot

    def snapshot(window_s: int) -> Any:
        snap = plain_snapshot(window_s)
        if "full_snapshot" not in stamps and window_is_full(snap):
            stamps["full_snapshot"] = time.time_ns()
        return snap

    monitor.snapshot = snapshot

    async def run() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            deadline = time.monotonic() + 60
            while "full_snapshot" not in stamps and time.monotonic() < deadline:
                if "history_end" not in stamps and any(monitor.histories.values()):
                    stamps["history_end"] = time.time_ns()
                await pilot.pause(0.005)
            await pilot.pause()  # layout and render of that frame
            screen_text(app)  # the full composite, what the driver writes to the terminal
            stamps["frame"] = time.time_ns()
            usage = resource.getrusage(resource.RUSAGE_SELF)
            stamps["cpu_ns"] = int((usage.ru_utime + usage.ru_stime) * 1e9)

    asyncio.run(run())
    if "full_snapshot" not in stamps:
        raise RuntimeError("the app never showed a full 15-minute window within 60 s")
    return stamps


def measure_attach(runs: int) -> dict[str, float]:
    """Median ms from spawning the attaching process to its first full 15-minute frame."""
    ctx = multiprocessing.get_context("spawn")
    samples: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="poolmon-bench-attach-") as folder:
        path = str(Path(folder) / "attach.sock")
        ready = ctx.Event()
        producer = ctx.Process(target=serve, args=(path, 60.0 * runs + 60.0, ready))
        producer.start()
        try:
            if not ready.wait(120):
                raise RuntimeError("the producer did not build its history in time")
            time.sleep(2.0)  # a couple of live seconds, as on a pool that keeps working
            for _ in range(runs):
                t0 = time.time_ns()
                out = subprocess.run(
                    [sys.executable, "-m", "poolmon.bench.attach_frame", path, str(t0)],
                    capture_output=True,
                    text=True,
                    timeout=120,
                    check=False,
                )
                if out.returncode != 0:
                    raise RuntimeError(f"the attaching process failed:\n{out.stderr[-3000:]}")
                s = json.loads(out.stdout)
                since_spawn = {
                    k: (v - t0) / 1e6 for k, v in s.items() if k not in ("spawn", "cpu_ns")
                }
                samples.append(
                    {
                        "total": since_spawn["frame"],
                        # milestones, ms after the spawn (the monitor starts before the imports)
                        "app_built": since_spawn["imported"],
                        "history_end": since_spawn.get("history_end", since_spawn["full_snapshot"]),
                        "full_snapshot": since_spawn["full_snapshot"],
                        "attach_process_cpu": s["cpu_ns"] / 1e6,
                    }
                )
        finally:
            producer.kill()
            producer.join()
    from poolmon.bench.common import median

    return {key: median([s[key] for s in samples]) for key in samples[0]}


if __name__ == "__main__":
    print(json.dumps(attach_child(sys.argv[1], int(sys.argv[2]))))
