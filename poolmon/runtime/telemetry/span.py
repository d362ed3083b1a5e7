"""`span(name, metadata)`: time a block and emit start / stop / exception events around it.

Why: the design this grew from timed operations in native units and then divided by 1000 "to
get ms", reporting nonsense. A span here times with `time.perf_counter_ns` (monotonic, integer
nanoseconds) and always names the unit: ``duration_ns``. The three events are
``<name>.start`` (``system_time_ns`` wall clock, ``monotonic_ns``), ``<name>.stop``
(``duration_ns``) and ``<name>.exception`` (``duration_ns``; metadata ``kind``, ``error_type``,
``message``, ``traceback``). The exception is never swallowed.

Code inside the block may add to ``span.measurements`` / ``span.metadata``; the additions go
out with the stop (or exception) event, as Elixir's span lets the function return extra
measurements. When nobody listens to any of the three names the span only reads the clock.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from poolmon.runtime.telemetry.registry import DEFAULT_TELEMETRY, Telemetry


class Span:
    """A context manager emitting ``<name>.start``/``.stop``/``.exception``; see `span`."""

    __slots__ = ("_start", "_t0", "_telemetry", "measurements", "metadata", "name")

    def __init__(self, name: str, metadata: Mapping[str, Any] | None, telemetry: Telemetry) -> None:
        if not name or name.startswith(".") or name.endswith("."):
            raise ValueError(f"a span needs a dotted event prefix, got {name!r}")
        self.name = name
        self.metadata: dict[str, Any] = dict(metadata) if metadata else {}
        self.measurements: dict[str, int | float] = {}
        self._telemetry = telemetry
        self._start = name + ".start"
        self._t0 = 0

    def __enter__(self) -> Span:
        telemetry = self._telemetry
        if telemetry.listening(self._start):
            self._t0 = time.perf_counter_ns()
            telemetry.emit(
                self._start,
                {"system_time_ns": time.time_ns(), "monotonic_ns": self._t0},
                dict(self.metadata),
            )
        self._t0 = time.perf_counter_ns()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        duration_ns = time.perf_counter_ns() - self._t0
        telemetry = self._telemetry
        if exc is None:
            stop = self.name + ".stop"
            if telemetry.listening(stop):
                telemetry.emit(
                    stop, {**self.measurements, "duration_ns": duration_ns}, self.metadata
                )
            return
        failed = self.name + ".exception"
        if telemetry.listening(failed):
            telemetry.emit(
                failed,
                {**self.measurements, "duration_ns": duration_ns},
                {
                    **self.metadata,
                    "kind": "error" if isinstance(exc, Exception) else "exit",
                    "error_type": type(exc).__qualname__,
                    "message": str(exc),
                    "traceback": "".join(traceback.format_exception(type(exc), exc, tb)),
                },
            )


def span(
    name: str, metadata: Mapping[str, Any] | None = None, *, telemetry: Telemetry | None = None
) -> Span:
    """Time a ``with`` block as one operation named `name` (a dotted prefix).

    Example::

        with span("myapp.load", {"path": path}) as s:
            rows = load(path)
            s.measurements["rows"] = len(rows)

    Emits to `telemetry` (default: the process-wide registry). Raises ValueError for an empty
    or malformed name.
    """
    return Span(name, metadata, DEFAULT_TELEMETRY if telemetry is None else telemetry)
