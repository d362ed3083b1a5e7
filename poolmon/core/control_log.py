"""The change log: the recent `poolmon.control.command` events, as the tuning screen lists them.

Why the aggregator keeps them: every change to a pool (from this app, another monitor, or
`poolmon tune`) is an event every monitor receives, so a log built from the events shows all
of them, and the app can show who changed what, from what, to what, without asking the pool.
Kept in a bounded deque (the last `CONTROL_LOG_SIZE`); a replayed event (history after a
reconnect) is recognised and not logged twice.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any, Final

from poolmon.core.events import Event
from poolmon.core.snapshot import ControlChange

CONTROL_LOG_SIZE: Final = 50
"""Control commands remembered (newest last)."""


def control_change(event: Event) -> ControlChange:
    """One `poolmon.control.command` event as a log entry (tolerant of missing fields)."""
    meta = event.metadata
    args = meta.get("args")
    changes = meta.get("changes")
    return ControlChange(
        at_ns=event.ts_ns,
        command=str(meta.get("command", "?")),
        result=str(meta.get("result", "")),
        reason=str(meta.get("reason") or ""),
        args=tuple(sorted((str(k), _plain(v)) for k, v in args.items()))
        if isinstance(args, Mapping)
        else (),
        changes=tuple(
            (str(k), _plain(v[0]), _plain(v[1]))
            for k, v in changes.items()
            if isinstance(v, list | tuple) and len(v) == 2
        )
        if isinstance(changes, Mapping)
        else (),
        client=str(meta.get("client") or ""),
        peer_pid=int(meta.get("peer_pid") or 0),
    )


def log_control(log: deque[ControlChange], event: Event) -> None:
    """Append the event's entry unless the same entry is already among the recent ones."""
    entry = control_change(event)
    if entry not in log:
        log.append(entry)


def _plain(value: Any) -> Any:
    """Hashable plain values (a snapshot must be comparable): lists and maps become tuples."""
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _plain(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_plain(v) for v in value)
    return value
