"""`SelfWatch`: the app's own frame and snapshot times, memory and CPU, and each pool's intake.

The app calls `frame_started()` at the top of its refresh tick and `frame_rendered(started)`
once the screen has been laid out and rendered (Textual's after-refresh callback), so a frame's
time is everything the tick costs the person looking: pulling the snapshot, handing it out,
layout and rendering, and waiting for the GIL while monitor threads ingest (and, on a busy
machine, for a CPU). The UI thread's CPU time over the same span is kept beside it: the work
itself, which a loaded machine does not inflate. Snapshot builds are timed apart (`timed`).
`figures()` joins those with each pool's `IntakeMeter` and connection status into a frozen
`SelfFigures`; the latest losses are remembered per pool for `BEHIND_DROPS_S`, so a burst of
drops keeps the header saying "behind" for a while rather than for one frame.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import TypeVar

import psutil

from poolmon.core.clock import Clock, SystemClock
from poolmon.core.self_figures import BEHIND_DROPS_S, PoolIntake, SelfFigures
from poolmon.runtime.intake import IntakeMeter
from poolmon.runtime.source import LIVE, SourceStatus

T = TypeVar("T")

FRAME_SAMPLES = 240
"""Frames the percentiles cover (a minute at 4 Hz)."""
RATE_SPAN_S = 5.0
"""Records per second are measured over about this long."""

FrameStart = tuple[int, int]
"""When a frame began: wall-clock and UI-thread CPU nanoseconds."""

Watched = tuple[str, SourceStatus, IntakeMeter]
"""One pool as `figures()` takes it: name, connection status, intake meter."""


def _percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


_PROCESS: list[psutil.Process] = []


def process_rss() -> int | None:
    """Resident memory of the app's process in bytes (None if it cannot be read)."""
    try:
        if not _PROCESS or _PROCESS[0].pid != os.getpid():
            _PROCESS[:] = [psutil.Process(os.getpid())]
        return int(_PROCESS[0].memory_info().rss)
    except (psutil.Error, OSError):
        return None


class SelfWatch:
    """The app's own figures (see the module doc).

    Args:
        clock: "Now" for rates (a test passes a `ManualClock`).
        rss: Reads the process's memory.
        cpu_time: Reads the process's CPU seconds.
        threads: Counts the process's threads.
        recording: Whether frame and snapshot times are recorded (a snapshot test turns it
            off and records samples by hand, so its picture never depends on the machine).
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        rss: Callable[[], int | None] = process_rss,
        cpu_time: Callable[[], float] = time.process_time,
        threads: Callable[[], int] = threading.active_count,
        recording: bool = True,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.rss = rss
        self.cpu_time = cpu_time
        self.threads = threads
        self.recording = recording
        self.frame_ms: deque[float] = deque(maxlen=FRAME_SAMPLES)
        self.frame_cpu_ms: deque[float] = deque(maxlen=FRAME_SAMPLES)
        self.snapshot_ms: deque[float] = deque(maxlen=FRAME_SAMPLES)
        self.frames = 0
        self._rates: dict[str, deque[tuple[float, int]]] = {}
        self._lost: dict[str, deque[tuple[float, int]]] = {}
        self._cpu: deque[tuple[float, float]] = deque(maxlen=64)
        self._lock = threading.Lock()

    # -- timing ----------------------------------------------------------------------------

    def frame_started(self) -> FrameStart:
        """Call at the top of the refresh tick; pass the result to `frame_rendered`."""
        return time.perf_counter_ns(), time.thread_time_ns()

    def frame_rendered(self, started: FrameStart) -> None:
        """Call once the frame is on screen (same thread): records its wall and CPU time."""
        if self.recording:  # CPU read inside the wall interval, so it never exceeds it
            cpu = (time.thread_time_ns() - started[1]) / 1e6
            self.record_frame((time.perf_counter_ns() - started[0]) / 1e6, cpu)

    def record_frame(self, ms: float, cpu_ms: float | None = None) -> None:
        """Record one frame's wall time (and the UI thread's CPU time in it)."""
        with self._lock:
            self.frame_ms.append(ms)
            if cpu_ms is not None:
                self.frame_cpu_ms.append(cpu_ms)
            self.frames += 1

    def timed(self, fn: Callable[..., T], *args: object) -> T:
        """Call `fn(*args)` and record how long it took as a snapshot build."""
        started = time.perf_counter_ns()
        try:
            return fn(*args)
        finally:
            if self.recording:
                self.snapshot_ms.append((time.perf_counter_ns() - started) / 1e6)

    # -- figures ---------------------------------------------------------------------------

    def figures(self, watched: Sequence[Watched], refresh_hz: float) -> SelfFigures:
        """Everything the self-monitoring view shows, as of now (call once per tick)."""
        now = self.clock.monotonic_ns() / 1e9
        with self._lock:
            frames = list(self.frame_ms)
            cpu = list(self.frame_cpu_ms)
            count = self.frames
        snaps = list(self.snapshot_ms)
        return SelfFigures(
            frames=count,
            frame_ms_last=frames[-1] if frames else None,
            frame_ms_p50=_percentile(frames, 0.5),
            frame_ms_p95=_percentile(frames, 0.95),
            frame_cpu_ms_p50=_percentile(cpu, 0.5),
            snapshot_ms_last=snaps[-1] if snaps else None,
            snapshot_ms_p50=_percentile(snaps, 0.5),
            refresh_hz=refresh_hz,
            rss_bytes=self.rss(),
            cpu_fraction=self._cpu_fraction(now),
            threads=self.threads(),
            pools=tuple(self.intake(label, status, meter, now) for label, status, meter in watched),
        )

    def intake(
        self, label: str, status: SourceStatus, meter: IntakeMeter, now: float
    ) -> PoolIntake:
        """One pool's `PoolIntake` (and its rate and recent losses, remembered by label)."""
        lost_server = meter.server_lost
        lost_socket = max(0, status.dropped - meter.server_dropped - meter.history_lost)
        lost = lost_socket + lost_server + meter.history_lost
        rates = self._rates.setdefault(label, deque())
        rate = _per_second(rates, now, meter.records)
        losses = self._lost.setdefault(label, deque())
        losses.append((now, lost))
        while losses and now - losses[0][0] > BEHIND_DROPS_S:
            losses.popleft()
        at = meter.internals_at_ns
        return PoolIntake(
            label=label,
            state=status.state,
            lag_s=meter.lag_s() if status.state == LIVE else None,
            records_per_s=rate,
            records_total=meter.records,
            frames_total=meter.frames,
            reconnects=meter.reconnects,
            lost_socket=lost_socket,
            lost_server=lost_server,
            lost_history=meter.history_lost,
            lost_recently=lost - losses[0][1],
            internals=meter.internals,
            internals_age_s=None if at is None else max(0.0, (meter.clock.time_ns() - at) / 1e9),
            frames_skipped=meter.frames_skipped,
            last_skip=meter.last_skip,
        )

    def _cpu_fraction(self, now: float) -> float | None:
        self._cpu.append((now, self.cpu_time()))
        while len(self._cpu) > 2 and now - self._cpu[1][0] >= RATE_SPAN_S:
            self._cpu.popleft()
        (t0, c0), (t1, c1) = self._cpu[0], self._cpu[-1]
        return (c1 - c0) / (t1 - t0) if t1 - t0 >= 0.5 else None


def _per_second(samples: deque[tuple[float, int]], now: float, total: int) -> float | None:
    """Append `(now, total)`; the rate over the last `RATE_SPAN_S` (None under half a second)."""
    samples.append((now, total))
    while len(samples) > 2 and now - samples[1][0] >= RATE_SPAN_S:
        samples.popleft()
    (t0, n0), (t1, n1) = samples[0], samples[-1]
    return (n1 - n0) / (t1 - t0) if t1 - t0 >= 0.5 else None
