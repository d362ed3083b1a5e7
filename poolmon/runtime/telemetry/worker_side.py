"""The worker half of user telemetry: events emitted inside a task wait in a bounded buffer.

Why: a task that calls ``poolmon.telemetry.emit("myapp.cache.hit", ...)`` runs in a worker
process, where nobody is attached and no socket exists. After `install_worker_buffer`, the
process's default registry has exactly one handler, which appends ``(name, ts_ns,
measurements, metadata)`` to a local buffer; the worker loop ships the buffer with its results
(`drain_worker_buffer`) and the pool re-emits each event tagged with the worker id and pid
(`Telemetry.emit_from_worker`). Nothing is sent per event.

When the buffer is full new events are dropped and counted; the next drain ends with one
``poolmon.error`` event (category ``telemetry``) saying how many were lost.
Values that could not cross a process boundary are made safe here (see `_plain`), so a user's
odd metadata cannot break the worker's result frame.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping
from typing import Any, Final

from poolmon.core.catalog import ERROR
from poolmon.runtime.telemetry.registry import DEFAULT_TELEMETRY, Telemetry

BUFFER_HANDLER_ID: Final = "poolmon.worker_buffer"
"""The id of the buffering handler in a worker's default registry."""

_PLAIN_TYPES: Final = (str, int, float, bool, bytes, type(None))

RecordedEvent = tuple[str, int, dict[str, int | float], dict[str, Any]]
"""``(name, ts_ns wall clock, measurements, metadata)``, as shipped to the pool."""


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _plain(value: Any) -> Any:
    """Return `value` if it is a plain scalar (or a list/tuple/dict of them); else its repr."""
    if isinstance(value, _PLAIN_TYPES):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return repr(value)


class _WorkerBuffer:
    """The buffer and its drop counter; one per worker process."""

    __slots__ = ("dropped", "events", "last_problem", "max_events", "pid", "worker_id")

    def __init__(self, worker_id: int, pid: int, max_events: int) -> None:
        self.worker_id = worker_id
        self.pid = pid
        self.max_events = max_events
        self.events: deque[RecordedEvent] = deque()
        self.dropped = 0
        self.last_problem = "its buffer was full"

    def record(
        self, name: str, measurements: Mapping[str, int | float], metadata: Mapping[str, Any]
    ) -> None:
        """The handler: append one event, or count it as dropped when the buffer is full."""
        if len(self.events) >= self.max_events:
            self.dropped += 1
            return
        try:
            numbers: dict[str, int | float] = {}
            meta = {str(k): _plain(v) for k, v in metadata.items()}
            invalid = {str(k): repr(v) for k, v in measurements.items() if not _number(v)}
            for key, value in measurements.items():
                if _number(value):
                    numbers[str(key)] = value
            if invalid:  # keep them visible, in the metadata, instead of failing the task
                meta["invalid_measurements"] = invalid
        except Exception as exc:  # e.g. a mapping whose items() raises: count, never detach
            self.dropped += 1
            self.last_problem = f"{type(exc).__qualname__}: {exc}"
            return
        self.events.append((name, time.time_ns(), numbers, meta))

    def drain(self) -> list[RecordedEvent] | None:
        events = self.events
        if not events and not self.dropped:
            return None
        out: list[RecordedEvent] = []
        while events:
            out.append(events.popleft())
        if self.dropped:
            dropped, self.dropped = self.dropped, 0
            out.append(
                (
                    ERROR,
                    time.time_ns(),
                    {"count": dropped},
                    {
                        "pool": None,
                        "category": "telemetry",
                        "severity": "warning",
                        "error_type": "WorkerBufferFull",
                        "message": f"worker {self.worker_id} dropped {dropped} telemetry "
                        f"events (buffer of {self.max_events}; last problem: "
                        f"{self.last_problem})",
                        "worker_id": self.worker_id,
                        "traceback": None,
                        "handler_id": BUFFER_HANDLER_ID,
                        "event": None,
                    },
                )
            )
        return out


_state: _WorkerBuffer | None = None


_installed_on: Telemetry | None = None


def install_worker_buffer(
    worker_id: int, pid: int, max_events: int = 10_000, *, telemetry: Telemetry | None = None
) -> None:
    """Route this process's `poolmon.telemetry.emit` calls into a bounded local buffer.

    Call once at worker start. Handlers inherited from the parent through fork are detached
    first: a worker must never run the pool's handlers (an endpoint's socket writer, a test's
    capture). `telemetry` (default: the process-wide registry) exists for tests. Raises
    ValueError when `max_events` < 1.
    """
    global _state, _installed_on
    if max_events < 1:
        raise ValueError(f"max_events must be >= 1, got {max_events}")
    tel = DEFAULT_TELEMETRY if telemetry is None else telemetry
    buffer = _WorkerBuffer(worker_id, pid, max_events)
    tel.clear()
    tel.attach(BUFFER_HANDLER_ID, "", buffer.record)
    _state, _installed_on = buffer, tel


def drain_worker_buffer() -> list[RecordedEvent] | None:
    """Take every buffered event (oldest first), or None when there are none (the cheap case).

    If events were dropped since the last drain, the list ends with a ``poolmon.error`` event
    whose ``count`` says how many.
    """
    state = _state
    if state is None:
        return None
    return state.drain()


def uninstall_worker_buffer() -> None:
    """Detach the buffer again (tests, or a worker loop that shuts telemetry off)."""
    global _state, _installed_on
    if _installed_on is not None:
        _installed_on.detach(BUFFER_HANDLER_ID)
    _state, _installed_on = None, None
