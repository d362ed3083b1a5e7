"""The only part of the endpoint that runs in the pool's own threads: a bounded inbox.

Telemetry handlers run synchronously in whatever thread emits (usually the pool's IO thread),
so they must cost next to nothing and never wait. They append to a deque (drop and count when
it is full) and, at most once per flush, write one byte to a non-blocking wake-up pipe that the
server thread's selector watches. Only the server thread takes items out. The server may let
items gather for a while (long flush intervals while nobody is connected); one more wake-up,
when the inbox reaches `early_wake` items, lets it flush early instead of dropping a burst.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

from poolmon.core.events import Event, TaskBatch

Item = TaskBatch | tuple[str, int, dict[str, Any], dict[str, Any]]
"""A task batch, or an event as `(name, ts_ns, measurements, metadata)`."""


class Inbox:
    """Bounded hand-over from telemetry handlers (any thread) to the server thread.

    Args:
        limit: Items held at most; more are dropped and counted.
        early_wake: Items at which the server is woken again (default: a quarter of `limit`).
    """

    def __init__(self, limit: int, early_wake: int | None = None) -> None:
        self._items: deque[Item] = deque()
        self._limit = limit
        self.early_wake = max(early_wake if early_wake is not None else limit // 4, 1)
        self._signalled = False
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        os.set_blocking(self._w, False)
        self.dropped_tasks = 0
        """Task rows dropped because the inbox was full (the server thread fell behind)."""
        self.dropped_events = 0
        """Events dropped because the inbox was full."""

    def fileno(self) -> int:
        """The pipe end the server's selector waits on."""
        return self._r

    def __len__(self) -> int:
        return len(self._items)

    # -------------------------------------------------------------- any thread
    def on_batch(self, batch: TaskBatch, metadata: Mapping[str, Any]) -> None:
        """Telemetry batch handler."""
        if len(self._items) >= self._limit:
            self.dropped_tasks += len(batch)
            return
        items = self._items
        items.append(batch)
        if not self._signalled:
            self._signalled = True
            self.wake()
        elif len(items) == self.early_wake:
            self.wake()

    def on_event(
        self, name: str, measurements: Mapping[str, int | float], metadata: Mapping[str, Any]
    ) -> None:
        """Telemetry event handler; a worker's event keeps the worker's own timestamp."""
        if len(self._items) >= self._limit:
            self.dropped_events += 1
            return
        ts = metadata.get("ts_ns")
        if not isinstance(ts, int):
            ts = time.time_ns()
        items = self._items
        items.append((name, ts, dict(measurements), dict(metadata)))
        if not self._signalled:
            self._signalled = True
            self.wake()
        elif len(items) == self.early_wake:
            self.wake()

    def wake(self) -> None:
        """Make the server thread's selector return."""
        try:
            os.write(self._w, b"\0")
        except OSError:
            pass  # a full pipe already guarantees a wake-up

    # -------------------------------------------------------------- server thread
    def clear_wakeups(self) -> None:
        """Empty the pipe (the selector said it is readable)."""
        try:
            while os.read(self._r, 4096):
                pass
        except BlockingIOError:
            pass

    def take(self, most: int) -> list[TaskBatch | Event]:
        """Up to `most` of the items present now, events built, oldest first.

        Items appended meanwhile wait for the next call, so a fast producer cannot make one
        flush (and one frame) grow without bound.
        """
        self._signalled = False  # before popping: an append after the pop wakes us again
        items = self._items
        out: list[TaskBatch | Event] = []
        for _ in range(min(len(items), most)):
            item = items.popleft()
            out.append(item if isinstance(item, TaskBatch) else Event(*item))
        return out

    def close(self) -> None:
        """Close the pipe."""
        os.close(self._r)
        os.close(self._w)
