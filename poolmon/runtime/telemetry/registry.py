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

import traceback
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

from poolmon.core.catalog import ERROR, TASK_START, TASK_STOP
from poolmon.core.events import STATUS_NAMES, TASK_CANCELLED, TaskBatch
from poolmon.runtime.telemetry.registrations import BatchHandler, Dispatch, HandlerRegistrations
from poolmon.runtime.telemetry.sampling import sample_batch, totals_metadata

__all__ = ["DEFAULT_TELEMETRY", "BatchHandler", "Telemetry", "WorkerEvent"]

WorkerEvent = tuple[str, int, Mapping[str, int | float], Mapping[str, Any]]
"""One user event recorded inside a worker: ``(name, ts_ns, measurements, metadata)``."""

_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})


class Telemetry(HandlerRegistrations):
    """A registry of event handlers and the dispatcher that calls them.

    Args:
        task_sample_every: Keep one successful task row in this many when handing batches on
            (1 = every row). Failed, timed-out, crashed and cancelled rows are always kept, and
            a sampled batch's metadata carries exact totals (see `sampling.totals_metadata`).

    Thread safety: `emit`, `listening`, `emit_tasks` and `emit_from_worker` may run in any
    thread at any time; `attach`/`detach` serialise on a lock and publish new immutable state.
    """

    __slots__ = ("_sample_every",)

    def __init__(self, *, task_sample_every: int = 1) -> None:
        super().__init__()
        self._sample_every = 1
        self.set_task_sampling(task_sample_every)

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
        # The loop of `_dispatch`, inlined: this is the per-event hot path, one call fewer.
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
        handlers: Dispatch,
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


DEFAULT_TELEMETRY: Final = Telemetry()
"""The process-wide registry behind `poolmon.telemetry.attach/emit/...`; a Pool made with
``telemetry=None`` emits here."""
