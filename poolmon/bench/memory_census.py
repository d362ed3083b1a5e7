"""Whether a loaded pool's growth is in Python at all: a census at the bench's full load.

`python -m poolmon.bench.memory_census [--minutes 42] [--trace-from 12] [--every 3]` runs the
pool of `python -m poolmon.bench memory` in this process (4 workers, 20 operations, 20,000
tasks/s, a worker SIGKILLed a minute, `history_seconds=60`) with the bench's own app attached
in a child process (its connection cut every minute), and prints one JSON line every `--every`
minutes: the RSS (smaps), glibc's bytes in use and free and the threads' heaps
(`poolmon.bench.memory_probe`), the bytes of every gc-tracked object and of the strings,
bytes, numbers and numpy arrays they hold (`gc_mib`), and, from minute `--trace-from`, what
tracemalloc has seen allocated since then and still alive (`traced_mib`). At the end it lists
the allocation sites that grew between the first traced line and the last.

`poolmon.bench.memory_trace` finds growth sites at a reduced rate (tracemalloc from the start
slows the pool several times); this answers the question before it, at the full rate: if the
RSS climbs while `gc_mib` and `traced_mib` stay flat, the growth is below Python, in malloc's
free space (issue #17, docs/BENCHMARKS.md "memory").
"""

from __future__ import annotations

import argparse
import gc
import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path

from poolmon.bench.memory_load import HISTORY_S, drive
from poolmon.bench.memory_probe import heap_probe
from poolmon.bench.memory_trace import report

HELD_TYPES = frozenset({"bytes", "str", "float", "int", "bytearray", "memoryview", "ndarray"})
"""Untracked objects counted when a tracked one holds them (gc does not list them itself)."""


def gc_bytes() -> int:
    """Bytes of every gc-tracked object and of the untracked values they hold, each once."""
    gc.collect()
    seen: set[int] = set()
    total = 0
    for obj in gc.get_objects():
        total += sys.getsizeof(obj)
        for held in gc.get_referents(obj):
            if type(held).__name__ in HELD_TYPES and id(held) not in seen:
                seen.add(id(held))
                total += sys.getsizeof(held)
    return total


def line(t0: float) -> dict[str, float | None]:
    """One sample: minutes since start, RSS and heap figures in MiB."""
    probe = heap_probe()
    traced = tracemalloc.get_traced_memory()[0] / 2**20 if tracemalloc.is_tracing() else None
    return {
        "min": round((time.monotonic() - t0) / 60, 1),
        "rss_mib": probe.get("rss"),
        "glibc_in_use": probe.get("glibc_in_use"),
        "glibc_free": probe.get("glibc_free"),
        "thread_heaps": probe.get("rss_thread_heaps"),
        "gc_mib": round(gc_bytes() / 2**20, 2),
        "traced_mib": None if traced is None else round(traced, 2),
    }


def census(minutes: float, trace_from: float, every: float, top: int) -> None:
    """Run the loaded pool and print the samples, then the traced growth."""
    from poolmon import Pool

    first: tracemalloc.Snapshot | None = None
    first_at = 0.0
    with tempfile.TemporaryDirectory(prefix="poolmon-census-") as folder:
        sock = str(Path(folder) / "census.sock")
        stop = threading.Event()
        with Pool(4, name="memory-census", monitor=sock, history_seconds=HISTORY_S) as pool:
            app = subprocess.Popen(
                [sys.executable, "-m", "poolmon.bench.memory_load", "app", sock],
                stdout=subprocess.DEVNULL,
            )
            loader = threading.Thread(target=drive, args=(pool, 20_000.0, stop.is_set, 60.0))
            loader.start()
            t0 = time.monotonic()
            try:
                while (time.monotonic() - t0) / 60 < minutes:
                    time.sleep(every * 60)
                    if not tracemalloc.is_tracing() and (time.monotonic() - t0) / 60 >= trace_from:
                        tracemalloc.start(6)
                    elif tracemalloc.is_tracing() and first is None:
                        first, first_at = tracemalloc.take_snapshot(), time.monotonic()
                    print(json.dumps(line(t0)), flush=True)
                last = tracemalloc.take_snapshot() if first is not None else None
                span_h = (time.monotonic() - first_at) / 3600
            finally:
                stop.set()
                loader.join()
                app.send_signal(signal.SIGTERM)
                app.wait(30)
    if first is None or last is None:
        print("tracing never produced two snapshots: run longer than --trace-from + 2 --every")
        return
    report(first, last, Counter(), Counter(), span_h, top)  # sites only: no type census


def main(argv: list[str]) -> int:
    """Entry point; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m poolmon.bench.memory_census")
    parser.add_argument("--minutes", type=float, default=42.0)
    parser.add_argument("--trace-from", type=float, default=12.0)
    parser.add_argument("--every", type=float, default=3.0)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    census(args.minutes, args.trace_from, args.every, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
