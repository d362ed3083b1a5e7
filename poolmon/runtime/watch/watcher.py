"""The watcher: one `Monitor` per pool, and (with --all) pools found as they come and go.

Each pool gets the app's own `Monitor` (client thread, aggregator, reconnect with backoff and
resume), read-only, so the watcher counts exactly what `poolmon attach` would and never changes
a pool; it takes each pool's tasks as live per-second rollups, not rows (`LIVE_TASKS`). With
`discover=True` a scan every `scan_s` seconds lists the socket folder: a new socket that
accepts connections is attached; a socket nobody listens on (a pool that died without
cleaning up) is skipped and reported once; a pool that restarts under the same socket
is re-attached by its monitor's reconnect, and its counters keep counting on top of what they
held. A discovered pool whose socket disappeared and that stayed unreachable for `forget_s`
is dropped (its series disappear from /metrics); named pools are never dropped. A pool is
reported "attached" once its monitor has completed the handshake and the history, never for a
socket that was only tried.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

from poolmon.runtime.endpoint.paths import list_sockets, probe
from poolmon.runtime.monitor import Monitor
from poolmon.runtime.source import LIVE
from poolmon.runtime.watch.figures import PoolFigures, read_figures

WATCH_EVENTS: tuple[str, ...] = (
    "poolmon.pool.init",
    "poolmon.pool.terminate",
    "poolmon.pool.status",
    "poolmon.worker.spawn",
    "poolmon.worker.ready",
    "poolmon.worker.exit",
    "poolmon.resource",
    "poolmon.alert",
    "poolmon.error",
)
"""What the watcher subscribes to: everything it exports, and not the per-task-rate events
(worker state changes, health checks, queue and operation events) that the app's drill-down
uses; those were most of a watcher's CPU at 2,000 tasks/s per pool."""
LIVE_TASKS = "rollups"
"""How the watcher takes a pool's tasks: one ROLLUPS frame per closed second, not a row per
task. Everything it exports about tasks (counts by operation and status, the duration
histogram, cancellations) is in the rollups, exactly; rows were nearly all of its CPU and of
what the pool's endpoint spent on it (docs/FLEET.md, "What the watcher costs")."""
FORGET_S = 300.0
"""A vanished, unreachable discovered pool is dropped after this long."""
TICK_S = 0.2
"""How often the background thread looks for pools that became live (to say so)."""


class Watcher:
    """Monitors for the named sockets, plus every pool in `directory` when `discover`.

    Args:
        sockets: Pools to attach to whatever happens (socket paths).
        discover: Also attach to every live pool found in `directory`, as they appear.
        directory: The socket folder to scan (default: this user's).
        scan_s: Seconds between folder scans.
        forget_s: See the module doc.
        log: Where one-line notices go (skipped stale sockets, pools attached and dropped).
    """

    def __init__(
        self,
        sockets: Sequence[Path] = (),
        *,
        discover: bool = False,
        directory: Path | None = None,
        scan_s: float = 1.0,
        forget_s: float = FORGET_S,
        log: Callable[[str], None] = lambda _msg: None,
    ) -> None:
        self.named = [Path(os.path.abspath(s)) for s in sockets]  # as discovery spells them
        self.discover = discover
        self.directory = directory
        self.scan_s = scan_s
        self.forget_s = forget_s
        self.log = log
        self.monitors: dict[Path, Monitor] = {}
        self.skipped: set[Path] = set()
        """Stale sockets seen by the last scan (nothing listens there)."""
        self._announced: set[Path] = set()
        self._gone_since: dict[Path, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Attach to the named pools, scan once, and keep scanning in the background."""
        for path in self.named:
            self._attach(path)
        if self.discover:
            self.scan()
        self._thread = threading.Thread(target=self._loop, name="poolmon-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop scanning and every monitor."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            monitors, self.monitors = list(self.monitors.values()), {}
        for m in monitors:
            m.stop()

    def _loop(self) -> None:
        next_scan = time.monotonic() + self.scan_s
        while not self._stop.wait(min(TICK_S, self.scan_s)):
            self.announce()
            if self.discover and time.monotonic() >= next_scan:
                self.scan()
                next_scan = time.monotonic() + self.scan_s

    def announce(self) -> None:
        """Say `attached to PATH (pid N)` for each pool that became live since the last call."""
        with self._lock:
            items = [(p, m) for p, m in self.monitors.items() if p not in self._announced]
        for path, m in items:
            if m.status().state != LIVE:
                continue
            with self._lock:  # the loop and run_once both announce: say it once
                if path in self._announced:
                    continue
                self._announced.add(path)
            self.log(f"attached to {path} (pid {m.read(lambda agg: agg.pool.pid)})")

    def unreached(self) -> list[tuple[Path, str]]:
        """Pools never attached (no handshake and history yet), with their status detail."""
        with self._lock:
            items = sorted(self.monitors.items())
        return [(p, m.status().detail) for p, m in items if not sum(m.histories.values())]

    def _attach(self, path: Path) -> None:
        monitor = Monitor(
            path, read_only=True, events=WATCH_EVENTS, client="poolmon watch", live_tasks=LIVE_TASKS
        )
        with self._lock:
            if path in self.monitors:
                return
            self.monitors[path] = monitor
        monitor.start()

    def scan(self, now_s: float | None = None) -> None:
        """List the socket folder once: attach new live pools, skip stale sockets, forget gone."""
        now = time.monotonic() if now_s is None else now_s
        present = set(list_sockets(self.directory))
        stale = set()
        for path in sorted(present):
            if path in self.monitors:
                continue
            if probe(path):
                self._attach(path)
            else:
                stale.add(path)
                if path not in self.skipped:
                    self.log(f"skipping {path}: nothing listens there (its pool died)")
        self.skipped = stale
        for path in [p for p in list(self.monitors) if p not in self.named]:
            monitor = self.monitors[path]
            if path in present or monitor.status().state == LIVE:
                self._gone_since.pop(path, None)
                continue
            since = self._gone_since.setdefault(path, now)
            if now - since >= self.forget_s:
                with self._lock:
                    self.monitors.pop(path, None)
                self._gone_since.pop(path, None)
                self._announced.discard(path)
                monitor.stop()
                self.log(f"dropped {path}: its socket is gone")

    def figures(self) -> list[PoolFigures]:
        """Every attached pool's figures, one short look under each monitor's lock."""
        with self._lock:
            items = sorted(self.monitors.items())
        out = []
        for path, m in items:
            state = m.status().state
            lag = m.last_frame_age_s()
            heard = sum(m.histories.values()) > 0
            name = path.name.removesuffix(".sock")
            read = partial(
                read_figures, pool=name, socket=str(path), state=state, heard=heard, lag_s=lag
            )
            out.append(m.read(read))
        return _unique_names(out)


def _unique_names(figures: list[PoolFigures]) -> list[PoolFigures]:
    """Two sockets with one name (in different folders) are labelled by their full paths."""
    names = [f.pool for f in figures]
    return [replace(f, pool=f.socket) if names.count(f.pool) > 1 else f for f in figures]
