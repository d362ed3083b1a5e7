"""Public helpers for testing code that uses poolmon (and for poolmon's own tests).

`ManualClock` drives engines through time deterministically. Further helpers (capturing
telemetry events, scripted event streams) live in the submodules and are re-exported here.
"""

from __future__ import annotations

from poolmon.testing.capture import Captured, TaskRow, capture_events
from poolmon.testing.clock import ManualClock

__all__ = ["Captured", "ManualClock", "TaskRow", "capture_events"]
