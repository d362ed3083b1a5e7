"""A clock that only moves when told to, for deterministic tests, replays and snapshots."""

from __future__ import annotations


class ManualClock:
    """A `poolmon.core.clock.Clock` whose time is set by the test.

    Args:
        start_ns: Initial wall-clock time (default: 2026-01-01T00:00:00Z).
    """

    def __init__(self, start_ns: int = 1_767_225_600_000_000_000) -> None:
        self._wall = start_ns
        self._mono = 0

    def time_ns(self) -> int:
        """Current wall-clock reading."""
        return self._wall

    def monotonic_ns(self) -> int:
        """Current monotonic reading."""
        return self._mono

    def advance(self, seconds: float) -> None:
        """Move both clocks forward by `seconds` (must not be negative)."""
        if seconds < 0:
            raise ValueError("a ManualClock only moves forward; use jump_wall() for wall jumps")
        step = round(seconds * 1e9)
        self._wall += step
        self._mono += step

    def jump_wall(self, seconds: float) -> None:
        """Move only the wall clock (either way), as NTP or a suspended VM would."""
        self._wall += round(seconds * 1e9)
