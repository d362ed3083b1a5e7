"""Announcing worker crashes once: which exits in a snapshot are new crashes, and their words.

A crash is easy to miss in a table that refreshes four times a second, so the app raises a
notification for each one, exactly once, as it happens. Crashes already in the first snapshot
the app shows (history from before it attached) are not announced: they are in each worker's
drill-down ("Exits and states"), where every crash stays.
"""

from __future__ import annotations

from poolmon.core.snapshot import PoolSnapshot, WorkerExit
from poolmon.widgets import _format as fmt

CRASH_REASONS = frozenset({"crash"})
"""Exit reasons announced (a timeout kill is the pool doing its job, and is in the errors)."""

ExitKey = tuple[int, int, int]
"""(worker id, pid, exit time): one exit."""


class CrashAnnouncer:
    """Remembers the crashes seen; `new_messages` returns the words for the unseen ones."""

    def __init__(self) -> None:
        self.seen: set[ExitKey] | None = None
        """Crashes seen so far; None until the first snapshot (whose crashes are history)."""

    def new_messages(self, snapshot: PoolSnapshot) -> list[str]:
        """One notification text per crash not seen before (none for the first snapshot)."""
        crashes = {
            (e.worker_id, e.pid, e.at_ns): e
            for w in snapshot.workers
            for e in w.exits
            if e.reason in CRASH_REASONS
        }
        if self.seen is None:
            self.seen = set(crashes)
            return []
        fresh = [e for key, e in sorted(crashes.items()) if key not in self.seen]
        self.seen.update(crashes)
        return [crash_text(e) for e in fresh]


def crash_text(e: WorkerExit) -> str:
    """`worker 3 (pid 4711) crashed: SIGKILL (9) after 12.0s, 340 tasks done`."""
    return (
        f"worker {e.worker_id} (pid {e.pid}) crashed: {fmt.exit_cause(e.exit_code, e.signal)}"
        f" after {fmt.duration(e.lifetime_ns)}, {e.tasks_done} tasks done"
    )
