"""Which of the app's render objects are alive and who holds them (the probe behind #17's fix).

`python -m poolmon.bench.memory_render [--minutes 21] [--rate 20000] [--every 15]` runs the
memory bench's loaded pool (`poolmon.bench.memory_load pool`: 4 workers, 20 ops, a worker
SIGKILLed every minute) in a child process and the app in this one, headless at 160x50 and
4 Hz with its connection cut every minute, as `memory_load app` does. Every `--every` seconds
it prints one JSON line: the worker rows, live `Strip`s / `Segment`s / `FIFOCache`s, pymalloc's
arenas, VmRSS and the strips the worker table holds; every two minutes it adds `holders`, the
strips reachable from each widget's caches (Textual's line cache, the last render, a table's
own strips, each with the derived strips in their caches).

Why: the RSS curve showed the app rising to a plateau; pymalloc keeps the arenas of the largest
peak of live objects, so what matters is the peak and who holds it, which this prints while
the app runs. It runs in-process, so the gc scan costs the app a pause of ~50 ms a sample.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from poolmon.bench.memory import rss_mib
from poolmon.bench.memory_load import cut_connection, render_objects
from poolmon.bench.memory_probe import pymalloc_figures

_STRIP_CACHES = ("_crop_cache", "_style_cache", "_filter_cache", "_crop_extend_cache")


def _reach(strip: Any, seen: set[int]) -> None:
    """Add `strip` and every strip its own caches hold (derived crops, styles...) to `seen`."""
    from textual.strip import Strip

    stack = [strip]
    while stack:
        s = stack.pop()
        if id(s) in seen:
            continue
        seen.add(id(s))
        for name in (*_STRIP_CACHES, "_offsets_cache"):
            stack.extend(v for v in getattr(s, name)._cache.values() if isinstance(v, Strip))
        for parts in s._divide_cache._cache.values():
            stack.extend(parts)


def _table_strips(widget: Any) -> list[Any]:
    """The strips a line-API table keeps itself (`_line_table.RowStrips`), if it is one."""
    kept = getattr(widget, "_strips", None)
    if kept is None:
        return []
    if isinstance(kept, dict):  # the cache before issue 17's fix
        return list(kept.values())
    return [*kept._now.values(), *kept._last.values()]


def holders(app: Any) -> dict[str, int]:
    """Strips reachable from each widget type's caches (first holder wins), largest first."""
    owners: Counter[str] = Counter()
    seen: set[int] = set()
    for screen in app.screen_stack:
        for widget in [screen, *screen.walk_children(with_self=False)]:
            name = type(widget).__name__
            parts = {  # a table's own strips first: they are what outlives a frame
                "strips": _table_strips(widget),
                "styles_cache": list(widget._styles_cache._cache.values()),
                "render_cache": list(widget._render_cache.lines),
            }
            for part, strips in parts.items():
                before = len(seen)
                for strip in strips:
                    _reach(strip, seen)
                owners[f"{name}.{part}"] += len(seen) - before
    return {key: n for key, n in owners.most_common() if n}


def _mib(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def sample(app: Any, monitor: Any, t_s: float, with_holders: bool) -> dict[str, Any]:
    """One line of the probe's output."""
    from poolmon.widgets.worker_table import WorkerTable

    tables = app.screen.query(WorkerTable)
    line: dict[str, Any] = {
        "t_s": round(t_s),
        "worker_rows": monitor.read(lambda agg: len(agg.workers.rows)),
        **render_objects(),
        "pymalloc_arenas": pymalloc_figures().get("pymalloc_arenas"),
        "vmrss_mib": _mib(rss_mib(os.getpid())),
        "table_strips": len(tables.first()._strips) if tables else None,
        "load1": round(os.getloadavg()[0], 2),
    }
    if with_holders:
        line["holders"] = holders(app)
    return line


async def probe(socket_path: str, minutes: float, every_s: float) -> None:
    """Run the app against the pool at `socket_path`; print a sample every `every_s`."""
    from poolmon.app.app import PoolmonApp
    from poolmon.runtime.monitor import Monitor

    monitor = Monitor(socket_path)
    app = PoolmonApp(monitor, window_s=900, refresh_hz=4.0)
    t0 = time.monotonic()
    next_cut, next_holders = t0 + 60, t0 + 30
    async with app.run_test(size=(160, 50)) as pilot:
        while time.monotonic() - t0 < minutes * 60:
            await pilot.pause(every_s)
            now = time.monotonic()
            line = sample(app, monitor, now - t0, now >= next_holders)
            if now >= next_holders:
                next_holders = now + 120
            print(json.dumps(line), flush=True)
            if now >= next_cut:
                next_cut = now + 60
                cut_connection(monitor)


def main(argv: list[str]) -> int:
    """Entry point: start the loaded pool, probe the app, stop the pool."""
    parser = argparse.ArgumentParser(prog="python -m poolmon.bench.memory_render")
    parser.add_argument("--minutes", type=float, default=21.0)
    parser.add_argument("--rate", type=float, default=20_000.0, help="tasks per second")
    parser.add_argument("--every", type=float, default=15.0, help="seconds between samples")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="poolmon-render-") as folder:
        sock = str(Path(folder) / "render.sock")
        cmd = [sys.executable, "-m", "poolmon.bench.memory_load", "pool", sock, str(args.rate)]
        pool = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while not os.path.exists(sock) and time.monotonic() < deadline:
                time.sleep(0.1)
            asyncio.run(probe(sock, args.minutes, args.every))
        finally:
            pool.terminate()
            pool.wait(20)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
