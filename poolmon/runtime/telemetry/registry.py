"""The handler registry every poolmon event goes through, in the manner of Elixir's :telemetry.

Why it looks the way it does: the pool emits from its IO thread on the hot path, so a call with
nobody listening must cost a dict lookup and nothing else, and a call with one listener must stay
well under prometheus_client's ~640 ns `Histogram.observe`. So:

* handlers are kept in an immutable registration map that attach/detach replace wholesale under
  a lock (copy on write); `emit` never takes the lock;
* the handlers matching an event name are resolved once and cached as a tuple
  (``name -> ((handler_id, fn), ...)``); the cache is thrown away on every attach/detach;
* a handler that raises is detached and the failure is re-emitted as a `poolmon.error` event
  (category ``telemetry``) carrying the type, message and traceback: it never reaches the caller.

Per-task telemetry arrives as columnar `TaskBatch`es (`emit_tasks`). Batch handlers get each
batch whole (under 1 ns per task); a handler whose non-empty prefix covers `poolmon.task.start`/
`poolmon.task.stop` gets one call per row, expanded here (correct but slow: ~0.6 µs per task
measured by the bench, so prefer batches; a catch-all ``""`` handler is not expanded).
Optional sampling thins the rows handed on while the batch metadata keeps exact totals.
"""

from __future__ import annotations

import os
import threading
import traceback
import weakref
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

from poolmon.core.catalog import ERROR, TASK_START, TASK_STOP
from poolmon.core.events import STATUS_NAMES, TASK_CANCELLED, TaskBatch
from poolmon.runtime.telemetry.prefixes import Handler, Registration, normalise_prefixes
from poolmon.runtime.telemetry.sampling import sample_batch, totals_metadata

BatchHandler = Callable[[TaskBatch, Mapping[str, Any]], None]
"""A per-batch handler: ``(batch, metadata) -> None``; metadata holds at least ``pool``."""

WorkerEvent = tuple[str, int, Mapping[str, int | float], Mapping[str, Any]]
"""One user event recorded inside a worker: ``(name, ts_ns, measurements, metadata)``."""

_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})
_CACHE_LIMIT: Final = 4096  # distinct names cached before the cache starts over
_Dispatch = tuple[tuple[str, Callable[..., None]], ...]


class Telemetry:
    """A registry of event handlers and the dispatcher that calls them.

    Args:
        task_sample_every: Keep one successful task row in this many when handing batches on
            (1 = every row). Failed, timed-out, crashed and cancelled rows are always kept, and
            a sampled batch's metadata carries exact totals (see `sampling.totals_metadata`).

    Thread safety: `emit`, `listening`, `emit_tasks` and `emit_from_worker` may run in any
    thread at any time; `attach`/`detach` serialise on a lock and publish new immutable state.
    """

    __slots__ = (
        "__weakref__",
        "_batch_handlers",
        "_cache",
        "_failures",
        "_lock",
        "_registrations",
        "_sample_every",
        "_task_start",
        "_task_stop",
        "_wants_tasks",
    )

    def __init__(self, *, task_sample_every: int = 1) -> None:
        self._lock = threading.Lock()
        self._registrations: dict[str, Registration] = {}
        self._batch_handlers: tuple[tuple[str, BatchHandler], ...] = ()
        self._cache: dict[str, _Dispatch] = {}
        self._task_start: _Dispatch = ()
        self._task_stop: _Dispatch = ()
        self._wants_tasks = False
        self._failures = 0
        self._sample_every = 1
        self.set_task_sampling(task_sample_every)
        _registries.add(self)

    # ------------------------------------------------------------------ registration
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

    def set_task_sampling(self, every: int) -> None:
        """Hand on one successful task row in `every` (1 = all rows); totals stay exact."""
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(
                f"task sampling keeps 1 row in N; N must be an int >= 1, got {every!r}"
            )
        self._sample_every = every

    @property
    def task_sample_every(self) -> int:
        """The current sampling stride for successful task rows (1 = no sampling)."""
        return self._sample_every

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

    def _per_task(self, name: str) -> _Dispatch:
        """Handlers that asked for task rows one by one, by naming a poolmon.task prefix."""
        return tuple(
            (reg.handler_id, reg.handler)
            for reg in self._registrations.values()
            if reg.names_tasks(name)
        )

    def _resolve(self, name: str) -> _Dispatch:
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

    # ------------------------------------------------------------------ emitting
    def listening(self, name: str) -> bool:
        """True when some handler would receive `name`; lets emitters skip building dicts."""
        handlers = self._cache.get(name)
        if handlers is None:
            handlers = self._resolve(name)
        return bool(handlers)

    @property
    def wants_tasks(self) -> bool:
        """True when a batch handler or a per-task handler is attached (else skip batches)."""
        return self._wants_tasks

    def emit(
        self,
        name: str,
        measurements: Mapping[str, int | float] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        """Hand one event to every matching handler; costs a dict lookup when none matches.

        A handler that raises is detached and reported as a `poolmon.error` event; the
        exception never propagates to the caller.
        """
        handlers = self._cache.get(name)
        if handlers is None:
            handlers = self._resolve(name)
        if not handlers:
            return
        if measurements is None:
            measurements = _EMPTY
        if metadata is None:
            metadata = _EMPTY
        for handler_id, handler in handlers:
            try:
                handler(name, measurements, metadata)
            except Exception as exc:
                self._handler_failed(handler_id, name, metadata, exc)

    def emit_tasks(self, batch: TaskBatch, metadata: Mapping[str, Any]) -> None:
        """Deliver finished tasks: whole to batch handlers, row by row to per-task handlers.

        With sampling on, successful rows are thinned and `metadata` gains the exact totals
        of the unsampled batch (``tasks_total``, ``status_counts``, ...).
        """
        if not self._wants_tasks or not len(batch):
            return
        every = self._sample_every
        if every > 1:
            metadata = {**metadata, **totals_metadata(batch, every)}
            batch = sample_batch(batch, every)
        for handler_id, handler in self._batch_handlers:
            try:
                handler(batch, metadata)
            except Exception as exc:
                self._handler_failed(handler_id, "poolmon.task.batch", metadata, exc)
        if self._task_start or self._task_stop:
            self._expand_rows(batch, metadata)

    def _expand_rows(self, batch: TaskBatch, metadata: Mapping[str, Any]) -> None:
        """Turn a batch into task.start/task.stop calls for handlers that asked per task."""
        pool = metadata.get("pool")
        for (
            task_id,
            worker_id,
            op,
            start_ns,
            duration_ns,
            wait_ns,
            status,
            error_type,
        ) in batch.rows():
            if self._task_start and status != TASK_CANCELLED:
                self._dispatch(
                    self._task_start,
                    TASK_START,
                    {"wait_ns": wait_ns, "start_ns": start_ns},
                    {"pool": pool, "worker_id": worker_id, "task_id": task_id, "op": op},
                )
            if self._task_stop:
                self._dispatch(
                    self._task_stop,
                    TASK_STOP,
                    {"duration_ns": duration_ns, "wait_ns": wait_ns, "start_ns": start_ns},
                    {
                        "pool": pool,
                        "worker_id": worker_id,
                        "task_id": task_id,
                        "op": op,
                        "status": STATUS_NAMES[status],
                        "error_type": error_type or None,
                    },
                )

    def emit_from_worker(
        self,
        worker_id: int,
        pid: int,
        events: Sequence[WorkerEvent],
        metadata: Mapping[str, Any],
    ) -> None:
        """Re-emit events recorded inside a worker, tagged with where and when they happened.

        Each event's metadata becomes its own metadata, overlaid with `metadata` (the pool's,
        e.g. ``{"pool": name}``), ``worker_id``, ``pid`` and ``ts_ns`` (the worker's wall-clock
        time of the original emit).
        """
        for event in events:
            try:
                name, ts_ns, measurements, event_metadata = event
                handlers = self._cache.get(name)
                if handlers is None:
                    handlers = self._resolve(name)
                if not handlers:
                    continue
                tagged = {**event_metadata, **metadata, "worker_id": worker_id, "pid": pid}
                tagged["ts_ns"] = ts_ns
            except (TypeError, ValueError, AttributeError) as exc:  # garbage from a worker
                self._report(
                    "MalformedWorkerEvent",
                    f"worker {worker_id} sent a malformed telemetry event {event!r:.200}: {exc}",
                    {**metadata, "worker_id": worker_id},
                    "warning",
                )
                continue
            self._dispatch(handlers, name, measurements, tagged)

    def _dispatch(
        self,
        handlers: _Dispatch,
        name: str,
        measurements: Mapping[str, int | float],
        metadata: Mapping[str, Any],
    ) -> None:
        for handler_id, handler in handlers:
            try:
                handler(name, measurements, metadata)
            except Exception as exc:
                self._handler_failed(handler_id, name, metadata, exc)

    def _handler_failed(
        self, handler_id: str, event: str, metadata: Mapping[str, Any], exc: Exception
    ) -> None:
        """Detach a raising handler and report it, once, as a poolmon.error event.

        The report carries the ``pool`` (and ``worker_id``) of the event being handled, so a
        monitor files it under the right pool.
        """
        if not self.detach(handler_id):
            return  # another thread already detached and reported it
        self._failures += 1
        self._report(
            type(exc).__qualname__,
            f"telemetry handler {handler_id!r} raised on {event!r} and was detached: {exc}",
            metadata,
            "error",
            traceback="".join(traceback.format_exception(exc)),
            handler_id=handler_id,
            event=event,
        )

    def _report(
        self,
        error_type: str,
        message: str,
        metadata: Mapping[str, Any],
        severity: str,
        **extra: Any,
    ) -> None:
        """Emit a telemetry-category poolmon.error with every catalog key present."""
        self.emit(
            ERROR,
            {"count": 1},
            {
                "pool": metadata.get("pool"),
                "category": "telemetry",
                "severity": severity,
                "error_type": error_type,
                "message": message,
                "worker_id": metadata.get("worker_id"),
                "traceback": None,
                "handler_id": None,
                "event": None,
                **extra,
            },
        )


_registries: weakref.WeakSet[Telemetry] = weakref.WeakSet()


def _fresh_locks_after_fork() -> None:
    """Give every registry a fresh lock in a forked child.

    Another thread of the parent may have held the lock at the fork, and that thread does not
    exist in the child to release it: attach/detach/clear would deadlock forever.
    """
    for registry in list(_registries):
        registry._lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_fresh_locks_after_fork)


DEFAULT_TELEMETRY: Final = Telemetry()
"""The process-wide registry behind `poolmon.telemetry.attach/emit/...`; a Pool made with
``telemetry=None`` emits here."""
