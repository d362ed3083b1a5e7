"""`python -m poolmon.bench investigate`: how fast an operator gets a stuck worker's stack.

Figures:

* `stack_ms_p50`: median wall time of `Pool.worker_stack(wid)` (method "auto", what the app
  and `poolmon stack` ask for) for one worker stuck in a long pure-Python task, while a
  loader thread keeps the pool's other workers busy with 1 ms tasks (pool under load).
  Median over `--reps` (default 21) requests.
* `stack_ms_p50_inprocess` / `stack_ms_p50_pyspy`: the same per producer; py-spy's is
  absent (with the reason in `notes`) when py-spy is missing or may not ptrace.
* `record_bytes_per_task`, `throughput_recording_vs_not`, `replay_seek_ms_1h` and what they
  rest on: see `poolmon.bench.recording` (`--part record` runs only those).
* `frame_ms_20_pools` and its companions: the app with 20 pools attached at 2,000 tasks/s
  each (`poolmon.bench.fleet_frames`).
"""

from __future__ import annotations

import argparse
import threading
import time
from typing import Any

from poolmon.bench.common import machine, median
from poolmon.bench.tasks import burn
from poolmon.runtime.pool import Pool
from poolmon.runtime.pool.stacks import StackUnavailable, pyspy_stack
from poolmon.runtime.telemetry import Telemetry


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Suite options."""
    parser.add_argument("--reps", type=int, default=21, help="stack requests per method")
    parser.add_argument("--workers", type=int, default=3, help="pool size (one gets stuck)")
    parser.add_argument(
        "--part",
        choices=["all", "stack", "record", "record-size", "fleet"],
        default="all",
        help="which figures (record-size: bytes a task and the throughput ratio only)",
    )


def _load(pool: Pool, stop: threading.Event) -> None:
    while not stop.is_set():
        list(pool.map(burn, [20_000] * 64))  # ~1 ms tasks keep the other workers busy


def _stuck_worker(pool: Pool) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for w in pool.stats().workers:
            if w.current_op == "burn" and (w.current_task_age_s or 0) > 0.2:
                return w.worker_id
        time.sleep(0.01)
    raise RuntimeError("the long task never started")


def stack_figures(reps: int, workers: int) -> tuple[dict[str, float], list[str]]:
    """Time `worker_stack` per method on a worker stuck in a Python loop, the pool under load."""
    figures: dict[str, float] = {}
    notes: list[str] = []
    with Pool(workers, monitor=False, telemetry=Telemetry()) as pool:
        pool.wait_ready(30)
        stuck = pool.submit(burn, 10**11)  # hours of Python loop: killed at the end
        wid = _stuck_worker(pool)
        stop = threading.Event()
        loader = threading.Thread(target=_load, args=(pool, stop), daemon=True)
        loader.start()
        try:
            pid = next(w.pid for w in pool.stats().workers if w.worker_id == wid)
            methods = ["auto", "inprocess", "pyspy"]
            try:
                pyspy_stack(pid, 10)
            except StackUnavailable as exc:
                notes.append(f"pyspy not measured: {exc}")
                methods.remove("pyspy")
            for method in methods:
                times = []
                for _ in range(reps):
                    t0 = time.perf_counter()
                    reply = pool.worker_stack(wid, method=method, timeout_s=5)
                    times.append((time.perf_counter() - t0) * 1e3)
                    if reply["frames"][0][2] != "burn":
                        raise RuntimeError(f"{method} read the wrong frame: {reply['frames'][0]}")
                name = "stack_ms_p50" if method == "auto" else f"stack_ms_p50_{method}"
                figures[name] = round(median(times), 2)
        finally:
            stop.set()
            pool.kill_worker(wid)  # first: loader tasks queued behind it run elsewhere
            loader.join(30)
            try:
                stuck.result(30)
            except Exception:
                pass
    return figures, notes


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the suite; see the module docstring."""
    figures: dict[str, Any] = {}
    ratios: dict[str, float] = {}
    notes: list[str] = []
    part = getattr(args, "part", "all")
    if part in ("all", "stack"):
        figures, notes = stack_figures(5 if args.quick else args.reps, args.workers)
    if part in ("all", "record", "record-size"):  # poolmon/bench/recording.py
        from poolmon.bench.recording import figures as recording_figures

        seek = part != "record-size"
        more, ratios, more_notes = recording_figures(bool(args.quick), seek=seek)
        figures.update(more)
        notes += more_notes
    if part in ("all", "fleet"):
        from poolmon.bench import fleet_frames  # frame_ms_20_pools: see its module doc

        figures.update(fleet_frames.figures(4.0 if args.quick else 20.0))
    return {
        "suite": "investigate",
        "machine": machine(),
        "figures": figures,
        "ratios": ratios,
        "notes": notes,
        "targets": {
            "stack_ms_p50": "<= 100",
            "record_bytes_per_task": "<= 12",
            "throughput_recording_vs_not": ">= 0.97",
            "replay_seek_ms_1h": "<= 500",
            "frame_ms_20_pools": "<= 50",
        },
    }
