"""What a monitor does with a frame it cannot take: skip it, count it, say so, keep going.

Why: the monitor's client thread used to end at the first frame whose handling raised (a
rollup that failed validation, a bug in ingestion), leaving the app frozen on its last
figures with a "disconnected, retrying" line that was no longer true: nothing was retrying.
One unreadable frame must cost that frame's data, not the monitor. The frame is skipped,
the monitor's `IntakeMeter` counts it (`frames_skipped`) and keeps why (`last_skip`), where
the self-monitoring view reads them, and the status line says for a while that figures may
miss its data.
What cannot be skipped - a pool speaking another protocol version, or not a poolmon socket
at all - still ends the monitor, with that reason on screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from poolmon.runtime.monitor import Monitor


def skip_frame(monitor: Monitor, item: Any, exc: Exception) -> None:
    """Record that `item` was skipped because handling it raised `exc`."""
    kind = type(item).__name__
    why = f"{kind}: {type(exc).__name__}: {exc}"
    monitor.intake.frames_skipped += 1
    monitor.intake.last_skip = why
    text = f"skipped an unreadable {kind} frame ({type(exc).__name__}: {exc}); figures may miss it"
    monitor._notice = (text, monitor.clock.monotonic_ns())  # shown for NOTICE_S, as others
