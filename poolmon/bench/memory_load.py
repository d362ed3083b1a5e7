"""The two processes `python -m poolmon.bench memory` watches: a loaded pool and an attached app.

Run as `python -m poolmon.bench.memory_load pool SOCKET RATE` or `... app SOCKET`; each runs
until killed. They are separate processes so each one's VmRSS is its own: the pool process
(IO thread, endpoint, history, insight, alerting), and the app (client thread, aggregator,
Textual widgets, rendered headless at 160x50 through the same code as `poolmon attach`).

* pool: 4 workers, trivial tasks submitted at RATE per second in 20 ms slices, one operation
  name per task out of 20 (so history holds 20 ops), 1 % of them failing; a worker is killed
  with SIGKILL every 60 s so restarts happen during the run.
* app: `PoolmonApp` on a `Monitor`, refreshed at 4 Hz; every 60 s its connection is cut from
  under it (the socket shut down), so it reconnects and resumes as after a network blip.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from typing import Any

from poolmon.bench.tasks import ident

OPS = tuple(f"op{i:02d}" for i in range(20))
"""Operation names the load spreads over."""


def flaky(x: int) -> int:
    """Trivial task that fails for 1 % of inputs (so error rollups and events exist)."""
    if x % 100 == 0:
        raise ValueError(f"input {x} is a multiple of 100")
    return x


def run_pool(socket_path: str, rate: float) -> None:
    """Serve a pool at `socket_path` under a steady load until SIGTERM."""
    from poolmon import Pool

    stop = False

    def on_term(signum: int, frame: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    with Pool(4, name="memory-bench", monitor=socket_path) as pool:
        per_op = [pool.options(op=name) for name in OPS]
        slice_s = 0.02
        next_kill = time.monotonic() + 60
        n = 0
        tick = time.monotonic()
        while not stop:
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
                next_kill += 60
                pids = [w.pid for w in pool.stats().workers if w.pid]
                if pids:
                    os.kill(pids[0], signal.SIGKILL)


def run_app(socket_path: str) -> None:
    """Run the terminal app headless at 160x50 against the pool, reconnecting every 60 s."""
    from poolmon.app.app import PoolmonApp
    from poolmon.runtime.monitor import Monitor

    monitor = Monitor(socket_path)
    app = PoolmonApp(monitor, window_s=900, refresh_hz=4.0)

    async def drive() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            while True:
                await pilot.pause(60)
                client = monitor._client.client  # cut the live connection from under it
                sock = getattr(client, "_sock", None)
                if sock is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

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
