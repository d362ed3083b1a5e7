"""The fleet: several pools in one app, one `Monitor` each, and pools found as they come and go.

`poolmon attach A B` and `poolmon attach --all` watch several pools at once. Each pool keeps
the single-pool machinery unchanged (its own `Monitor`: client thread, aggregator, reconnect
with resume), so every screen works for whichever pool is selected. `Fleet` owns the monitors,
the selection and discovery: with `discover=True` a background scan of the socket folder
attaches every new live pool; a pool whose socket disappears is marked gone (when, and what
its monitor last knew), never silently removed, so "which pool died?" has an answer.

Cost: the pools overview reads one `PoolSummary` per pool per tick (a few numbers, see
`poolmon.core.fleet_summary`); only the selected pool's full snapshot is built, by the app
through `FleetSource`, the `SnapshotSource` that forwards to the selected pool's monitor.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from poolmon.core.aggregator import Aggregator
from poolmon.core.fleet_summary import PoolRow, summarize_pool
from poolmon.core.snapshot import PoolSnapshot, WorkerView
from poolmon.runtime.endpoint.paths import list_sockets, probe
from poolmon.runtime.intake import IntakeMeter
from poolmon.runtime.liveness import EXITED
from poolmon.runtime.source import (
    CONNECTING,
    DISCONNECTED,
    LIVE,
    CommandResult,
    SnapshotSource,
    SourceStatus,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class FleetTarget:
    """A pool to watch.

    Attributes:
        path: The local socket to connect to (for ssh, the forward).
        label: The pool's short name (the socket's name).
        where: The socket path, or the ssh:// URL it came from.
    """

    path: Path
    label: str
    where: str


def local_target(path: Path) -> FleetTarget:
    """A target for a socket on this machine (label: the socket's name)."""
    path = Path(os.path.abspath(path))
    return FleetTarget(path, path.name.removesuffix(".sock"), str(path))


def condition_of(status: SourceStatus) -> str:
    """The overview's word for a monitor's status (see `CONDITIONS`)."""
    if status.state == DISCONNECTED:
        return "exited" if status.detail.startswith(EXITED) else "connection lost"
    if status.state == LIVE and status.detail.startswith("pool restarted"):
        return "restarted"
    return status.state


class Member:
    """One watched pool: its target, its monitor, and whether its socket is gone."""

    def __init__(self, target: FleetTarget, monitor: PoolMonitor, *, discovered: bool) -> None:
        self.target = target
        self.monitor = monitor
        self.discovered = discovered
        self.gone_at_ns: int | None = None
        """Wall time its socket was first found missing (None: present)."""
        self.local = target.where == str(target.path)

    @property
    def key(self) -> str:
        """The member's identity in the fleet."""
        return self.target.where


class PoolMonitor(SnapshotSource, Protocol):
    """What the fleet needs of a pool's monitor: a `Monitor`, or a test's `FeedMonitor`."""

    intake: IntakeMeter

    def read(self, fn: Callable[[Aggregator], T]) -> T:
        """Run `fn` on the pool's aggregator, consistently (under the monitor's lock)."""
        ...


MonitorFactory = Callable[[Path], PoolMonitor]
"""Builds the monitor of one pool (the app's: read-only or not, its client name)."""


class Fleet:
    """The monitors of several pools, the selected one, and discovery (see module doc).

    Args:
        targets: Pools to watch whatever happens (in this order).
        monitor_factory: Builds each pool's `Monitor`.
        discover: Also watch every live pool that appears in `directory`.
        directory: The socket folder (default: this user's).
        scan_s: Seconds between folder scans.
    """

    def __init__(
        self,
        targets: Sequence[FleetTarget],
        monitor_factory: MonitorFactory,
        *,
        discover: bool = False,
        directory: Path | None = None,
        scan_s: float = 1.0,
    ) -> None:
        self.monitor_factory = monitor_factory
        self.discover = discover
        self.directory = directory
        self.scan_s = scan_s
        self._members: list[Member] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = False
        self.selected = 0
        """Index of the pool the pool screens show."""
        for target in targets:
            self._add(target, discovered=False)

    # -- membership ------------------------------------------------------------------------

    @property
    def members(self) -> list[Member]:
        """The watched pools, in the order they joined (a copy: safe to iterate)."""
        with self._lock:
            return list(self._members)

    def _add(self, target: FleetTarget, *, discovered: bool) -> Member | None:
        with self._lock:
            if any(m.key == target.where for m in self._members):
                return None
            member = Member(target, self.monitor_factory(target.path), discovered=discovered)
            self._members.append(member)
            started = self._started
        if started:
            member.monitor.start()
        return member

    def start(self) -> None:
        """Start every monitor; with discovery, scan now and then every `scan_s`."""
        with self._lock:
            self._started = True
            members = list(self._members)
        for m in members:
            m.monitor.start()
        if self.discover:
            self.scan()
            self._thread = threading.Thread(target=self._loop, name="poolmon-fleet", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop scanning and every monitor."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        for m in self.members:
            m.monitor.stop()

    def _loop(self) -> None:
        while not self._stop.wait(self.scan_s):
            self.scan()

    def scan(self) -> list[Member]:
        """List the socket folder once: watch new live pools, mark vanished ones (returns new)."""
        present = {str(p) for p in list_sockets(self.directory)}
        known = {m.key for m in self.members}
        added = []
        for path in sorted(present - known):
            if probe(Path(path)):  # a socket nobody listens on is a dead pool's leftover
                member = self._add(local_target(Path(path)), discovered=True)
                if member is not None:
                    added.append(member)
        self.mark_gone()
        return added

    def mark_gone(self, now_ns: int | None = None) -> None:
        """Note the time a local pool's socket disappeared; clear it when the socket is back."""
        now = time.time_ns() if now_ns is None else now_ns
        for m in self.members:
            if not m.local:
                continue
            if m.target.path.exists():
                m.gone_at_ns = None
            elif m.gone_at_ns is None:
                m.gone_at_ns = now

    # -- selection -------------------------------------------------------------------------

    @property
    def current(self) -> Member:
        """The selected pool."""
        members = self.members
        return members[min(self.selected, len(members) - 1)]

    def select(self, key: str) -> Member:
        """Select the pool with this key (KeyError if none)."""
        for i, m in enumerate(self.members):
            if m.key == key:
                self.selected = i
                return m
        raise KeyError(key)

    def step(self, delta: int) -> Member:
        """Select the next (+1) or previous (-1) pool, wrapping around."""
        self.selected = (self.selected + delta) % len(self.members)
        return self.current

    # -- reading ---------------------------------------------------------------------------

    def rows(self, window_s: int) -> tuple[PoolRow, ...]:
        """Every pool's row over the window (one short look under each monitor's lock)."""
        if self.discover is False:  # discovery's scan marks them; named pools are checked here
            self.mark_gone()
        out = []
        for m in self.members:
            status = m.monitor.status()
            summary = m.monitor.read(lambda agg: summarize_pool(agg, window_s))
            out.append(
                PoolRow(
                    key=m.key,
                    label=m.target.label,
                    condition=condition_of(status),
                    detail=status.detail,
                    summary=summary,
                    gone_at_ns=m.gone_at_ns,
                    discovered=m.discovered,
                    dropped=status.dropped,
                )
            )
        return tuple(out)


class FleetSource:
    """A `SnapshotSource` that is always the selected pool's monitor (see module doc).

    The app and every screen keep coding against one source; switching pools is
    `fleet.select()`, after which every read and command goes to the new pool.
    """

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet

    @property
    def monitor(self) -> PoolMonitor:
        """The selected pool's monitor."""
        return self.fleet.current.monitor

    def start(self) -> None:
        """Start every pool's monitor (and discovery)."""
        self.fleet.start()

    def stop(self) -> None:
        """Stop every monitor."""
        self.fleet.stop()

    def status(self) -> SourceStatus:
        """The selected pool's connection."""
        if not self.fleet.members:
            return SourceStatus(CONNECTING, "no pool yet: waiting for one to appear")
        return self.monitor.status()

    def snapshot(self, window_s: int) -> PoolSnapshot:
        """The selected pool's full snapshot."""
        if not self.fleet.members:
            return PoolSnapshot(window_s=window_s)
        return self.monitor.snapshot(window_s)

    def worker(self, worker_id: int, window_s: int) -> WorkerView | None:
        """One worker of the selected pool."""
        if not self.fleet.members:
            return None
        return self.monitor.worker(worker_id, window_s)

    def command(self, name: str, args: Mapping[str, Any], timeout_s: float = 5.0) -> CommandResult:
        """A command to the selected pool."""
        if not self.fleet.members:
            return CommandResult(False, reason="no pool selected")
        return self.monitor.command(name, args, timeout_s)
