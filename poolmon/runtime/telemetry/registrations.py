"""Who listens to what: the copy-on-write handler table behind `Telemetry`, and its lock.

`poolmon.runtime.telemetry.registry` explains why the registry is built this way. This module is
the writer's half of it: attach/detach replace the immutable registration map wholesale under a
lock and recompute the derived state (the per-name dispatch cache, the per-task handler tuples,
`wants_tasks`), so the emitting half never takes the lock. A forked child gets fresh locks,
because a parent thread that held one at the fork does not exist in the child to release it.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from poolmon.core.catalog import TASK_START, TASK_STOP
from poolmon.core.events import TaskBatch
from poolmon.runtime.telemetry.prefixes import Handler, Registration, normalise_prefixes

BatchHandler = Callable[[TaskBatch, Mapping[str, Any]], None]
"""A per-batch handler: ``(batch, metadata) -> None``; metadata holds at least ``pool``."""

Dispatch = tuple[tuple[str, Callable[..., None]], ...]
"""The handlers resolved for one event name: ``((handler_id, fn), ...)``."""

_CACHE_LIMIT: Final = 4096  # distinct names cached before the cache starts over


class HandlerRegistrations:
    """The attach/detach half of `Telemetry`: registrations and the state derived from them.

    Thread safety: attach/detach/clear serialise on a lock and publish new immutable state;
    `_resolve` may run in any thread (it only fills a cache that a change throws away).
    """

    __slots__ = (
        "__weakref__",
        "_batch_handlers",
        "_cache",
        "_failures",
        "_lock",
        "_registrations",
        "_task_start",
        "_task_stop",
        "_wants_tasks",
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._registrations: dict[str, Registration] = {}
        self._batch_handlers: tuple[tuple[str, BatchHandler], ...] = ()
        self._cache: dict[str, Dispatch] = {}
        self._task_start: Dispatch = ()
        self._task_stop: Dispatch = ()
        self._wants_tasks = False
        self._failures = 0
        _registries.add(self)

    def attach(self, handler_id: str, prefixes: str | Sequence[str], handler: Handler) -> None:
        """Call `handler` for every event whose name equals or starts with one of `prefixes`.

        A prefix matches whole dotted segments: ``"poolmon.worker"`` matches
        ``"poolmon.worker.exit"`` but not ``"poolmon.workers"``; ``""`` matches every event
        emitted one by one. Per-task rows (``poolmon.task.start``/``.stop``) are expanded from
        batches only for handlers that name them by a non-empty prefix (``"poolmon"``,
        ``"poolmon.task"``, ...): that costs about a microsecond per task, so a catch-all
        handler does not opt into it by accident; batch handlers are the fast way.
        Handlers run synchronously in the emitting thread, so they must be quick (append to a
        buffer, bump a counter). Raises ValueError when `handler_id` is already attached.
        """
        if not isinstance(handler_id, str) or not handler_id:
            raise ValueError(f"handler_id must be a non-empty string, got {handler_id!r}")
        if not callable(handler):
            raise TypeError(f"handler {handler_id!r} is not callable: {handler!r}")
        registration = Registration(handler_id, normalise_prefixes(prefixes), handler)
        with self._lock:
            self._refuse_duplicate(handler_id)
            self._registrations = {**self._registrations, handler_id: registration}
            self._republish()

    def attach_batch(self, handler_id: str, handler: BatchHandler) -> None:
        """Call `handler(batch, metadata)` with every `TaskBatch` the pool emits, whole.

        This is how the endpoint and in-process aggregators take per-task telemetry at
        per-batch cost. Raises ValueError when `handler_id` is already attached.
        """
        if not isinstance(handler_id, str) or not handler_id:
            raise ValueError(f"handler_id must be a non-empty string, got {handler_id!r}")
        if not callable(handler):
            raise TypeError(f"batch handler {handler_id!r} is not callable: {handler!r}")
        with self._lock:
            self._refuse_duplicate(handler_id)
            self._batch_handlers = (*self._batch_handlers, (handler_id, handler))
            self._republish()

    def detach(self, handler_id: str) -> bool:
        """Remove a handler (per-event or batch); True if it was attached."""
        with self._lock:
            if handler_id in self._registrations:
                registrations = dict(self._registrations)
                del registrations[handler_id]
                self._registrations = registrations
            elif any(hid == handler_id for hid, _ in self._batch_handlers):
                self._batch_handlers = tuple(
                    entry for entry in self._batch_handlers if entry[0] != handler_id
                )
            else:
                return False
            self._republish()
            return True

    def clear(self) -> None:
        """Detach every handler; a forked worker calls this so it never runs the parent's."""
        with self._lock:
            self._registrations = {}
            self._batch_handlers = ()
            self._republish()

    def handler_ids(self) -> tuple[str, ...]:
        """Ids of every attached handler (per-event first, then batch), for diagnostics."""
        return (*self._registrations, *(hid for hid, _ in self._batch_handlers))

    @property
    def handler_failures(self) -> int:
        """How many handlers were detached because they raised, since this registry was made."""
        return self._failures

    def _refuse_duplicate(self, handler_id: str) -> None:
        if handler_id in self._registrations or any(
            hid == handler_id for hid, _ in self._batch_handlers
        ):
            raise ValueError(f"a telemetry handler with id {handler_id!r} is already attached")

    def _republish(self) -> None:
        """Recompute derived state after a change; caller holds the lock."""
        self._cache = {}  # registrations were replaced first, so no stale entry survives
        self._task_start = self._per_task(TASK_START)
        self._task_stop = self._per_task(TASK_STOP)
        self._wants_tasks = bool(self._batch_handlers or self._task_start or self._task_stop)

    def _per_task(self, name: str) -> Dispatch:
        """Handlers that asked for task rows one by one, by naming a poolmon.task prefix."""
        return tuple(
            (reg.handler_id, reg.handler)
            for reg in self._registrations.values()
            if reg.names_tasks(name)
        )

    def _resolve(self, name: str) -> Dispatch:
        """Find and cache the handlers for `name` (the slow path of the first emit)."""
        # Read the cache before the registrations: attach/detach write them in the other
        # order, so a result computed from old registrations only lands in a discarded cache.
        cache = self._cache
        found = tuple(
            (reg.handler_id, reg.handler)
            for reg in self._registrations.values()
            if reg.matches(name)
        )
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[name] = found
        return found


_registries: weakref.WeakSet[HandlerRegistrations] = weakref.WeakSet()


def _fresh_locks_after_fork() -> None:
    """Give every registry a fresh lock in a forked child.

    Another thread of the parent may have held the lock at the fork, and that thread does not
    exist in the child to release it: attach/detach/clear would deadlock forever.
    """
    for registry in list(_registries):
        registry._lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_fresh_locks_after_fork)
