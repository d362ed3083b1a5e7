"""Where a pool process's memory grows: a loaded pool under tracemalloc, diffed over time.

`python -m poolmon.bench.memory_trace [--minutes 4] [--warmup 1.5] [--rate 3000]` runs a pool
in this process (short history, so it is full after the warm-up) under the same load as
`poolmon.bench.memory_load` (20 operations, 1 % failures, a worker SIGKILLed every
`--kill-every` seconds) while a monitor in a child process attaches, reads for a while and
detaches over and over. It takes a tracemalloc snapshot after the warm-up and at the end and
prints the allocation sites that grew most (grouped by traceback), plus the object types
whose `gc.get_objects()` count grew. The RSS bench says *whether* the pool grows; this says
*where*. tracemalloc slows the process several times, hence the lower default rate.

`--app` traces the terminal app instead (in this process, headless at 160x50), attached to
the bench's loaded pool in a child process, its connection cut every minute.
"""

from __future__ import annotations

import argparse
import gc
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from itertools import pairwise
from pathlib import Path

from poolmon.bench.memory_load import drive


def type_counts() -> Counter[str]:
    """Live gc-tracked objects by type name."""
    return Counter(type(o).__name__ for o in gc.get_objects())


def run_client(path: str, attach_s: float) -> None:
    """Child process: attach a monitor, read for `attach_s`, detach; forever."""
    from poolmon.runtime.client import MonitorClient

    while True:
        try:
            with MonitorClient(path, timeout_s=60.0) as client:
                client.connect()
                end = time.monotonic() + attach_s
                while time.monotonic() < end:
                    client.recv(0.5)
        except Exception as exc:  # the pool may be restarting a worker; try again
            print(f"client: {exc}", file=sys.stderr, flush=True)
        time.sleep(0.5)


def trace(minutes: float, warmup_min: float, rate: float, kill_every: float, top: int) -> None:
    """Run the traced pool and print the growth after warm-up."""
    from poolmon import Pool

    tracemalloc.start(8)
    with tempfile.TemporaryDirectory(prefix="poolmon-memtrace-") as folder:
        sock = str(Path(folder) / "trace.sock")
        stop = threading.Event()
        with Pool(
            4, name="memory-trace", monitor=sock, history_seconds=30, history_raw_mib=1
        ) as pool:
            client = subprocess.Popen(
                [sys.executable, "-m", "poolmon.bench.memory_trace", "--client", sock]
            )
            loader = threading.Thread(target=drive, args=(pool, rate, stop.is_set, kill_every))
            loader.start()
            try:
                time.sleep(warmup_min * 60)
                gc.collect()
                first, types0 = tracemalloc.take_snapshot(), type_counts()
                t0 = time.monotonic()
                traced = tracemalloc.get_traced_memory()[0] / 2**20
                print(f"warm-up done: traced {traced:.1f} MiB", flush=True)
                time.sleep(minutes * 60)
                gc.collect()
                last, types1 = tracemalloc.take_snapshot(), type_counts()
                span_h = (time.monotonic() - t0) / 3600
            finally:
                stop.set()
                loader.join()
                client.send_signal(signal.SIGTERM)
                client.wait(10)
        print(f"end: traced {tracemalloc.get_traced_memory()[0] / 2**20:.1f} MiB")
    report(first, last, types0, types1, span_h, top)


def report(
    first: tracemalloc.Snapshot,
    last: tracemalloc.Snapshot,
    types0: Counter[str],
    types1: Counter[str],
    span_h: float,
    top: int,
) -> None:
    """Print the allocation sites and object types that grew between two snapshots."""
    keep = [tracemalloc.Filter(False, tracemalloc.__file__)]
    diff = last.filter_traces(keep).compare_to(first.filter_traces(keep), "traceback")
    print(f"\ntop {top} growing sites (KiB grown, KiB/h):")
    for stat in diff[:top]:
        print(
            f"{stat.size_diff / 1024:9.1f} KiB {stat.size_diff / 1024 / span_h:9.1f}/h"
            f"  n{stat.count_diff:+d}"
        )
        for line in stat.traceback.format()[-12:]:
            print("     ", line)
    grown = {k: types1[k] - types0.get(k, 0) for k in types1}
    print("\nobject types that grew:")
    for name, n in sorted(grown.items(), key=lambda kv: -kv[1])[:top]:
        if n > 0:
            print(f"  {name}: +{n} (now {types1[name]})")


def trace_app(
    minutes: float, warmup_min: float, rate: float, top: int, every_min: float | None = None
) -> None:
    """The app in this process under tracemalloc, against a loaded pool in a child process.

    The pool is `poolmon.bench.memory_load`'s (a worker killed every minute); the app's
    connection is cut every minute, so it reconnects and backfills during the run. With
    `every_min` a snapshot is taken that often after the warm-up and each interval's growth is
    printed: a bounded cache filling grows in the first interval only, a leak in every one.
    """
    import asyncio

    from poolmon.app.app import PoolmonApp
    from poolmon.bench.memory_load import cut_connection
    from poolmon.runtime.monitor import Monitor

    with tempfile.TemporaryDirectory(prefix="poolmon-memtrace-") as folder:
        sock = str(Path(folder) / "app.sock")
        cmd = [sys.executable, "-m", "poolmon.bench.memory_load", "pool", sock, str(rate)]
        pool = subprocess.Popen(cmd)
        try:
            deadline = time.monotonic() + 30
            while not Path(sock).exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            tracemalloc.start(8)
            monitor = Monitor(sock)
            app = PoolmonApp(monitor, window_s=900, refresh_hz=4.0)
            snaps: list[tuple[tracemalloc.Snapshot, Counter[str], float]] = []

            def mark() -> None:
                gc.collect()
                traced = tracemalloc.get_traced_memory()[0] / 2**20
                snaps.append((tracemalloc.take_snapshot(), type_counts(), time.monotonic()))
                print(f"snapshot {len(snaps)}: traced {traced:.1f} MiB", flush=True)

            async def drive() -> None:
                async with app.run_test(size=(160, 50)) as pilot:
                    start = time.monotonic()
                    end = start + (warmup_min + minutes) * 60
                    next_cut = start + 60
                    next_mark = start + warmup_min * 60
                    while time.monotonic() < end:
                        await pilot.pause(5)
                        if time.monotonic() >= next_cut:
                            next_cut += 60
                            cut_connection(monitor)
                        if time.monotonic() >= next_mark:
                            next_mark += (every_min or minutes + 1) * 60
                            mark()
                    mark()

            asyncio.run(drive())
        finally:
            pool.send_signal(signal.SIGTERM)
            pool.wait(30)
    for (first, types0, t0), (last, types1, t1) in pairwise(snaps):
        print(f"\n=== from {t0 - snaps[0][2]:.0f} s to {t1 - snaps[0][2]:.0f} s after warm-up")
        report(first, last, types0, types1, (t1 - t0) / 3600, top)


def main(argv: list[str]) -> int:
    """Entry point; see the module docstring."""
    if len(argv) == 2 and argv[0] == "--client":
        run_client(argv[1], attach_s=20.0)
        return 0
    parser = argparse.ArgumentParser(prog="python -m poolmon.bench.memory_trace")
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--warmup", type=float, default=1.5)
    parser.add_argument("--rate", type=float, default=3000.0)
    parser.add_argument("--kill-every", type=float, default=30.0)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--app", action="store_true", help="trace the app, not the pool")
    parser.add_argument("--every", type=float, default=None, help="app: snapshot every N min")
    args = parser.parse_args(argv)
    if args.app:
        trace_app(args.minutes, args.warmup, args.rate, args.top, args.every)
    else:
        trace(args.minutes, args.warmup, args.rate, args.kill_every, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
