"""`IdleGate`: does the machine have an idle CPU right now? The recorder's writer asks it.

Why: `poolmon record` runs on the pool's machine, and packing and compressing are nearly all
of its CPU (~0.25 µs a trivial task; reading the socket is ~0.03). While the pool keeps every
core busy, each of those microseconds is taken from it. The writer therefore compresses
when a core is idle and lets received frames wait (in memory, bounded) while none is: a
burst of tasks is recorded at the cost of reading the socket, and compressed right after.
Why not `nice` on the writer thread: it shares the GIL with the thread that reads the
socket, and a starved low-priority thread holding the GIL stalls that reader until the
pool's buffer for this recorder overflows (measured: records lost under saturation);
waiting by choice holds nothing.

System-wide idle time comes from psutil (`/proc/stat` on Linux), read at each question:
the answer is about the time since the previous one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Final

import psutil

MIN_IDLE_CORES: Final = 1.0
"""Below this much idle CPU (in cores, averaged since the last question) the machine is busy.

A whole core: the writer is one thread, and it competes with the pool as soon as it cannot
have a core to itself. A pool of trivial tasks rarely shows 0 idle: its throughput is bound
by round trips between processes, and on this 2-core machine it leaves 0.3-0.5 of a core
idle at full speed, yet anything else that runs then slows it (docs/BENCHMARKS.md)."""


def _idle_seconds(times: Any) -> float:
    return float(times.idle) + float(getattr(times, "iowait", 0.0))


class IdleGate:
    """Answers `busy()`: whether less than `min_idle_cores` of CPU was idle since the last call.

    Args:
        min_idle_cores: The idle CPU (in cores) below which the machine counts as busy.
        cpu_times: System-wide CPU times (psutil's, injectable for tests).
        clock: A monotonic clock in seconds.
    """

    def __init__(
        self,
        min_idle_cores: float = MIN_IDLE_CORES,
        cpu_times: Callable[[], Any] = psutil.cpu_times,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.min_idle_cores = min_idle_cores
        self._cpu_times = cpu_times
        self._clock = clock
        self._last: tuple[float, float] | None = None

    def busy(self) -> bool:
        """Whether the machine had less idle CPU than `min_idle_cores` since the last call.

        The first call (nothing to compare with) and a failure to read the CPU times say
        "not busy", so the writer never waits on a guess.
        """
        try:
            idle = _idle_seconds(self._cpu_times())
        except (OSError, RuntimeError, AttributeError):
            return False
        now = self._clock()
        last, self._last = self._last, (now, idle)
        if last is None or now - last[0] <= 0:
            return False
        return (idle - last[1]) / (now - last[0]) < self.min_idle_cores
