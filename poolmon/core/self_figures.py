"""`SelfFigures`: the monitor's own health, as the self-monitoring view and the header show it.

A monitor that falls behind shows old numbers as if they were now, which is worse than no
monitor. These frozen values say how the app itself is doing (how long a frame takes, how long
a snapshot takes to build, how far behind the newest data it is, what it receives and loses,
its memory), and what the pool reports its telemetry costs on its side. `None` is "not
measured yet", never 0. Filled by `poolmon.runtime.selfwatch`; pure data, so a test can build
one by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

BEHIND_LAG_S = 2.0
"""Ingest lag above this is "behind" (the header says so)."""
BEHIND_DROPS_S = 10.0
"""Records lost within this long make the monitor "behind" too (its figures have holes)."""


@dataclass(frozen=True, slots=True)
class PoolIntake:
    """What one pool's monitor receives and loses.

    Attributes:
        label: The pool's name.
        state: Its connection state.
        lag_s: Now minus the newest timestamp received (events, task ends, heartbeats), while
            live; None before data or while not live.
        records_per_s: Records (events and task rows) received per second, lately.
        records_total: Records received since attaching.
        frames_total: Frames received since attaching.
        reconnects: Connections made after the first.
        lost_socket: Records lost in transport as the client counts them (sequence gaps).
        lost_server: Records the pool's endpoint did not deliver to this connection (its
            heartbeat's count: this connection's buffer was full).
        lost_history: Records a resume could no longer backfill (older than the history).
        lost_recently: Records lost within `BEHIND_DROPS_S`.
        internals: The pool's own telemetry figures from its latest `poolmon.resource.internals`
            (monitors, socket buffer, history size, telemetry buffer, events it dropped), in
            the event's order; empty before the first.
        internals_age_s: How old those figures are (None before the first).
        frames_skipped: Frames the monitor could not take and skipped (their data is missing).
        last_skip: Why the last one was skipped.
    """

    label: str
    state: str
    lag_s: float | None = None
    records_per_s: float | None = None
    records_total: int = 0
    frames_total: int = 0
    reconnects: int = 0
    lost_socket: int = 0
    lost_server: int = 0
    lost_history: int = 0
    lost_recently: int = 0
    internals: tuple[tuple[str, float], ...] = ()
    internals_age_s: float | None = None
    frames_skipped: int = 0
    last_skip: str = ""

    @property
    def behind(self) -> str:
        """`3.2s`, `120 lost`, both, or empty when this pool's data is keeping up."""
        words = []
        if self.lag_s is not None and self.lag_s > BEHIND_LAG_S:
            words.append(f"{self.lag_s:.1f}s")
        if self.lost_recently:
            words.append(f"{self.lost_recently} lost")
        return ", ".join(words)


@dataclass(frozen=True, slots=True)
class SelfFigures:
    """The app's own figures (see the module doc).

    Attributes:
        frames: Frames measured (the percentiles cover the latest `FRAME_SAMPLES` of them).
        frame_ms_last, frame_ms_p50, frame_ms_p95: Frame time: from the refresh tick's start
            (pull the snapshot, hand it to the screen) until the screen has been laid out and
            rendered.
        frame_cpu_ms_p50: The UI thread's CPU time over the same span (the work alone; the
            wall time also holds waits for the GIL and, on a busy machine, for a CPU).
        snapshot_ms_last, snapshot_ms_p50: Time to build the shown pool's snapshot.
        refresh_hz: The refresh rate (0: the timer is off).
        rss_bytes: The app process's resident memory.
        cpu_fraction: The app process's CPU time over wall time lately (1.0 = one core).
        threads: The app process's threads.
        pools: One `PoolIntake` per watched pool.
    """

    frames: int = 0
    frame_ms_last: float | None = None
    frame_ms_p50: float | None = None
    frame_ms_p95: float | None = None
    frame_cpu_ms_p50: float | None = None
    snapshot_ms_last: float | None = None
    snapshot_ms_p50: float | None = None
    refresh_hz: float = 0.0
    rss_bytes: int | None = None
    cpu_fraction: float | None = None
    threads: int | None = None
    pools: tuple[PoolIntake, ...] = ()
