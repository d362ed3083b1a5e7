"""The app's advisor: findings from the app's own snapshots, about once a second.

The advisor is pure (`poolmon.core.advisor`); the app feeds it the 1, 5 and 15-minute
snapshots of its own aggregator, the cores of this machine (a monitor attaches over a Unix
socket, so the pool runs here too) and the pool's settings from the `settings` command when
the pool answers it. It runs when the snapshot's time has moved by a second or more (never per
frame, never while paused), only while an advisor screen is open.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from poolmon.core.snapshot import PoolSnapshot
from poolmon.runtime.source import SnapshotSource

if TYPE_CHECKING:
    from poolmon.core.advisor import Finding

NS = 1_000_000_000


def machine_cores() -> int:
    """CPUs this process may use (the pool's machine: monitors attach locally)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class Advice:
    """Findings for the app, recomputed when the data moved by a second (see module doc)."""

    def __init__(self, source: SnapshotSource, cores: int | None = None) -> None:
        self.source = source
        self.cores = cores or machine_cores()
        """Cores given to the advisor."""
        self.settings: dict[str, Any] | None = None
        """The pool's settings, once the `settings` command answered."""
        self.findings: tuple[Finding, ...] = ()
        """The latest findings."""
        self.note = ""
        """Why there are no findings."""
        self._last_ns: int | None = None

    def update(self, snapshot: PoolSnapshot) -> tuple[Finding, ...]:
        """Recompute if the snapshot's time moved >= 1 s since the last run."""
        now = snapshot.taken_at_ns
        if self._last_ns is not None and abs(now - self._last_ns) < NS:
            return self.findings
        self._last_ns = now
        from poolmon.core.advisor import AdvisorInput, advise  # when first opened, not at start
        from poolmon.core.advisor.inputs import DEFAULT_THRESHOLDS

        snaps = {w: self.source.snapshot(w) for w in (60, 300, 900) if w != snapshot.window_s}
        snaps[snapshot.window_s] = snapshot
        settings = self.settings
        self.findings = advise(
            AdvisorInput(
                snaps,
                self.cores,
                settings,
                max_size=_int(settings, "max_size"),
                min_size=_int(settings, "min_size") or 1,
            )
        )
        covered = snaps[60].covered_s
        need = DEFAULT_THRESHOLDS.min_covered_s
        if covered < need:
            self.note = f"Collecting data: the advisor needs {need} s of it ({covered} s so far)."
        else:
            self.note = "No findings: nothing to change right now."
        return self.findings


def _int(settings: Mapping[str, Any] | None, key: str) -> int | None:
    value = None if settings is None else settings.get(key)
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None
