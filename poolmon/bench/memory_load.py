"""The two processes `python -m poolmon.bench memory` watches: a loaded pool and an attached app.

Run as `python -m poolmon.bench.memory_load pool SOCKET RATE` or `... app SOCKET`; each runs
until killed. They are separate processes so each one's VmRSS is its own: the pool process
(IO thread, endpoint, history, insight, alerting), and the app (client thread, aggregator,
Textual widgets, rendered headless at 160x50 through the same code as `poolmon attach`).

* pool: 4 workers with one minute of history (`HISTORY_S`), trivial tasks submitted at
  RATE per second in 20 ms slices, one operation name per task out of 20 (so history holds
  20 ops), 1 % of them failing; a worker is killed with SIGKILL every 60 s so restarts
  happen during the run.
* app: `PoolmonApp` on a `Monitor`, refreshed at 4 Hz; every 60 s its connection is cut from
  under it (the socket shut down), so it reconnects and resumes as after a network blip.

Both print one JSON line every `STATE_EVERY_S` on stdout saying how full their bounded parts
are (history rollups and raw bytes against their bounds, worker rows held, tasks a second), so
the bench can tell whether its warm-up really ended in the steady state.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from poolmon.bench.memory_probe import heap_probe
from poolmon.bench.tasks import ident

OPS = tuple(f"op{i:02d}" for i in range(20))
"""Operation names the load spreads over."""
HISTORY_S = 60
"""Seconds of per-second rollups the loaded pool keeps (full well before the warm-up ends)."""
STATE_EVERY_S = 15.0
"""How often each process prints its state line."""


def report_state(read: Callable[[], dict[str, Any]], every_s: float = STATE_EVERY_S) -> None:
    """Print `read()` as one JSON line on stdout every `every_s`, from a daemon thread."""

    def loop() -> None:
        t0 = time.monotonic()
        while True:
            time.sleep(every_s)
            try:
                state = {"t_s": round(time.monotonic() - t0, 1), **read()}
            except Exception as exc:  # a state line must never stop the load
                state = {"error": repr(exc)}
            # The app's stdout is Textual's while it runs: write to the descriptor itself.
            os.write(1, (json.dumps(state) + "\n").encode())

    threading.Thread(target=loop, name="memory-state", daemon=True).start()


def pool_state(endpoint: Any) -> dict[str, Any]:
    """How full the endpoint's history is, worker rows in its insight, and the task rate."""
    history = endpoint.history
    totals = history.recent_totals(time.time_ns())
    return {
        "rollups": len(history._rollups),
        "rollups_max": history._rollups.maxlen,
        "raw_mib": round(history._task_bytes / 2**20, 2),
        "raw_max_mib": round(history._raw_task_bytes / 2**20, 2),
        "worker_rows": len(endpoint.insight.aggregator.workers.rows),
        "tasks_per_s": round(totals["throughput_per_s"]),
        "queued_mib": round(
            max((c.out_bytes for c in endpoint._conns.values()), default=0) / 2**20, 2
        ),
        **heap_probe(),
    }


def flaky(x: int) -> int:
    """Trivial task that fails for 1 % of inputs (so error rollups and events exist)."""
    if x % 100 == 0:
        raise ValueError(f"input {x} is a multiple of 100")
    return x


def kill_one_worker(pool: Any) -> None:
    """SIGKILL the pool's first live worker, as a crash would (the pool replaces it)."""
    pids = [w.pid for w in pool.stats().workers if w.pid]
    if pids:
        os.kill(pids[0], signal.SIGKILL)


def drive(pool: Any, rate: float, stopped: Callable[[], bool], kill_every_s: float) -> None:
    """Submit trivial tasks at `rate`/s over `OPS` until `stopped()`; SIGKILL a worker often.

    A worker dies every `kill_every_s`, so restarts happen during the run, not only a steady
    stream of results.
    """
    per_op = [pool.options(op=name) for name in OPS]
    slice_s = 0.02
    next_kill = time.monotonic() + kill_every_s
    n = 0
    tick = time.monotonic()
    while not stopped():
        batch = max(1, int(rate * slice_s))
        futures = [
            per_op[(n + i) % len(OPS)].submit(flaky if i % 7 == 0 else ident, n + i)
            for i in range(batch)
        ]
        n += batch
        for fut in futures:
            fut.exception()
        tick += slice_s
        delay = tick - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            tick = time.monotonic()
        if time.monotonic() >= next_kill:
            next_kill += kill_every_s
            kill_one_worker(pool)


def run_pool(socket_path: str, rate: float) -> None:
    """Serve a pool at `socket_path` under a steady load until SIGTERM.

    Its history is one minute (`HISTORY_S`), so it is full after the warm-up and what the
    RSS slope measures is the steady state, not the history filling (docs/PROTOCOL.md §5).
    """
    from poolmon import Pool

    stop = False

    def on_term(signum: int, frame: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    from poolmon.runtime.endpoint.server import EndpointServer

    with Pool(4, name="memory-bench", monitor=socket_path, history_seconds=HISTORY_S) as pool:
        # The pool does not expose its endpoint; this process has exactly one (found once).
        endpoint = next(o for o in gc.get_objects() if type(o) is EndpointServer)
        report_state(lambda: pool_state(endpoint))
        drive(pool, rate, lambda: stop, 60.0)


RENDER_TYPES = ("Strip", "Segment", "FIFOCache")
"""Textual's render objects, counted in the app's state line (issue 17: its peaks were these)."""


def render_objects() -> dict[str, int]:
    """Live `RENDER_TYPES` objects, by a scan of the gc's objects (~50 ms at 300k objects).

    A `Segment` without a style is a tuple of atoms, which the gc may stop tracking: the
    count is of styled segments (nearly all of a rendered screen's).
    """
    counts = dict.fromkeys(RENDER_TYPES, 0)
    for obj in gc.get_objects():
        name = type(obj).__name__
        if name in counts:
            counts[name] += 1
    return counts


def app_state(monitor: Any) -> dict[str, Any]:
    """The app's worker rows, proof it is live (state, frames, tasks seen), its render objects."""
    state = monitor.status()
    rows, tasks = monitor.read(
        lambda agg: (len(agg.workers.rows), int(agg.stats.status_totals.sum()))
    )
    return {
        "worker_rows": rows,
        "state": state.state,
        "detail": state.detail,
        "threads": threading.active_count(),
        "frames": monitor.frames_seen,
        "reconnects": state.attempts,
        "tasks": tasks,
        "render": render_objects(),
        **heap_probe(),
    }


def cut_connection(monitor: Any) -> None:
    """Shut the monitor's live socket down under it, as a network blip would; it reconnects."""
    client = monitor._client.client
    sock = getattr(client, "_sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def run_app(socket_path: str) -> None:
    """Run the terminal app headless at 160x50 against the pool, reconnecting every 60 s."""
    from poolmon.app.app import PoolmonApp
    from poolmon.runtime.monitor import Monitor

    monitor = Monitor(socket_path)
    app = PoolmonApp(monitor, window_s=900, refresh_hz=4.0)
    report_state(lambda: app_state(monitor))

    async def drive() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            while True:
                await pilot.pause(60)
                cut_connection(monitor)

    asyncio.run(drive())


def main(argv: list[str]) -> int:
    """Entry point: `pool SOCKET RATE` or `app SOCKET`."""
    if len(argv) >= 2 and argv[0] == "pool":
        run_pool(argv[1], float(argv[2]) if len(argv) > 2 else 20_000.0)
        return 0
    if len(argv) == 2 and argv[0] == "app":
        run_app(argv[1])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
