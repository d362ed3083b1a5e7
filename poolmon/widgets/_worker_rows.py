"""Which workers the worker table shows, in which order: the filter and the sort orders.

Pure functions, apart from the widget, so they are tested without a screen. A sort has a
natural direction (ids and states ascending, everything measured largest first); `S`
reverses it. Whatever the order, dead workers come last and workers with no figure for the
sorted column come after those that have one, so a reversed sort never starts with blanks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from poolmon.core.snapshot import WorkerView

_STATE_ORDER = {
    "degraded": 0,
    "busy": 1,
    "starting": 2,
    "ready": 3,
    "idle": 3,
    "stopping": 4,
    "crashed": 5,
    "killed": 5,
    "failed": 5,
    "stopped": 6,
    "recycled": 6,
    "retired": 6,
}

SortKey = Callable[[WorkerView], float | None]

SORTS: dict[str, tuple[str, SortKey]] = {
    "id": ("id", lambda w: float(w.worker_id)),
    "state": ("state", lambda w: float(_STATE_ORDER.get(w.state, 9))),
    "age": (
        "task age",
        lambda w: None if w.current_task_age_ns is None else float(w.current_task_age_ns),
    ),
    "done": ("tasks done", lambda w: float(w.tasks_done)),
    "p99": ("p99", lambda w: w.latency.p99_ns),
    "cpu": ("cpu", lambda w: w.cpu_percent),
    "rss": ("rss", lambda w: None if w.rss_bytes is None else float(w.rss_bytes)),
    "restarts": ("restarts", lambda w: float(w.restarts)),
}
"""Sort orders `s` cycles through (each is a column key): name shown, and the value sorted."""

NATURAL_DESC = frozenset({"age", "done", "p99", "cpu", "rss", "restarts"})
"""Sorts whose natural direction is largest first (the busiest, biggest, slowest on top)."""


def matches(worker: WorkerView, query: str) -> bool:
    """Whether a worker passes the filter: a substring of id/pid/state/task; `!` inverts."""
    query = query.strip().lower()
    if not query:
        return True
    invert = query.startswith("!")
    needle = query[1:] if invert else query
    haystack = f"{worker.worker_id} {worker.pid} {worker.state} {worker.current_op or ''}".lower()
    return (needle in haystack) != invert


def visible_workers(
    workers: Sequence[WorkerView], query: str, sort: str, descending: bool | None = None
) -> list[WorkerView]:
    """The rows to show: filtered, then sorted (`descending` None: the sort's natural way).

    Ties keep id order; workers without a value for the sort follow those with one; dead
    workers come last.
    """
    key = SORTS[sort][1]
    desc = sort in NATURAL_DESC if descending is None else descending

    def order(w: WorkerView) -> tuple[bool, float]:
        value = key(w)
        if value is None:
            return (True, 0.0)
        return (False, -value if desc else value)

    shown = sorted((w for w in workers if matches(w, query)), key=lambda w: w.worker_id)
    shown.sort(key=order)
    shown.sort(key=lambda w: not w.alive)
    return shown
