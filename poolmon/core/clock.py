"""The clock every engine is handed, so that tests and replays control time.

Engines never call `time` themselves: they take a `Clock`. Production code passes
`SystemClock()`; tests and snapshot apps pass `poolmon.testing.ManualClock`.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Two readings: a wall clock for labels and history, a monotonic clock for durations."""

    def time_ns(self) -> int:
        """Nanoseconds since the Unix epoch (wall clock; may jump)."""
        ...

    def monotonic_ns(self) -> int:
        """Nanoseconds from an arbitrary origin that never goes backwards."""
        ...


class SystemClock:
    """The real clocks of this machine."""

    __slots__ = ()

    def time_ns(self) -> int:
        """Return `time.time_ns()`."""
        return time.time_ns()

    def monotonic_ns(self) -> int:
        """Return `time.monotonic_ns()`."""
        return time.monotonic_ns()
