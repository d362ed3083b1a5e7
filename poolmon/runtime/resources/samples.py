"""What one sweep of the resource sampler produces, as plain immutable values.

Backends (raw `/proc` or psutil) read cumulative OS counters into `RawProcess`; the sampler
turns two of those into rates and returns `ProcessSample`s, which know how to become the
`poolmon.resource.process` event's measurements and metadata. Keeping the three apart lets the
pool read the latest samples directly (for memory-based recycling) while the monitor thread
only emits them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from poolmon.runtime.resources.exitstatus import ExitStatus

STATUS_BY_STATE: dict[str, str] = {
    "R": "running",
    "S": "sleeping",
    "D": "disk-sleep",
    "Z": "zombie",
    "T": "stopped",
    "t": "tracing-stop",
    "X": "dead",
    "x": "dead",
    "K": "wake-kill",
    "W": "waking",
    "P": "parked",
    "I": "idle",
}
"""Linux `/proc/<pid>/stat` state letters mapped to the names psutil uses, so either backend
reports the same words."""

ZOMBIE = "zombie"


@dataclass(frozen=True, slots=True)
class RawProcess:
    """One process's cumulative counters as a backend read them, before any rate is computed.

    Optional fields are None when the OS does not offer them (no `/proc/<pid>/io` without
    ptrace rights, no fd count on some platforms) or the process vanished mid-read.

    Attributes:
        pid: OS pid.
        status: Scheduler state name (`STATUS_BY_STATE` values).
        start_id: When the process started, in backend units; a different value for the same
            pid means the pid was reused, so previous CPU times must not be subtracted.
        uptime_s: Seconds since the process started.
        cpu_user_s: User CPU seconds since start.
        cpu_system_s: System CPU seconds since start.
        rss_bytes: Resident set size.
        threads: OS threads.
        fds: Open file descriptors.
        ctx_voluntary: Voluntary context switches since start.
        ctx_involuntary: Involuntary context switches since start.
        io_read_bytes: Bytes read from storage since start.
        io_write_bytes: Bytes written to storage since start.
        exit: How a zombie ended, when the OS recorded it; None for live processes.
    """

    pid: int
    status: str
    start_id: float
    uptime_s: float
    cpu_user_s: float
    cpu_system_s: float
    rss_bytes: int
    threads: int
    fds: int | None = None
    ctx_voluntary: int | None = None
    ctx_involuntary: int | None = None
    io_read_bytes: int | None = None
    io_write_bytes: int | None = None
    exit: ExitStatus | None = None


@dataclass(frozen=True, slots=True)
class ProcessSample:
    """One process's resources at one sweep: rates computed, units in the field names.

    Optional measurements are None when unknown and are then left out of the event, so a
    monitor never mistakes "not measured" for zero.
    """

    worker_id: int
    pid: int
    status: str
    cpu_percent: float
    cpu_user_percent: float
    cpu_system_percent: float
    rss_bytes: int
    threads: int
    uptime_ns: int
    uss_bytes: int | None = None
    fds: int | None = None
    ctx_switches_voluntary: int | None = None
    ctx_switches_involuntary: int | None = None
    io_read_bytes: int | None = None
    io_write_bytes: int | None = None
    gpu_memory_bytes: int | None = None
    gpu_percent: float | None = None
    exit: ExitStatus | None = None

    @property
    def is_zombie(self) -> bool:
        """Whether the process has exited but nobody has reaped it yet."""
        return self.status == ZOMBIE

    def measurements(self) -> dict[str, int | float]:
        """The `poolmon.resource.process` measurements, unknown ones left out."""
        out: dict[str, int | float] = {
            "cpu_percent": self.cpu_percent,
            "cpu_user_percent": self.cpu_user_percent,
            "cpu_system_percent": self.cpu_system_percent,
            "rss_bytes": self.rss_bytes,
            "threads": self.threads,
            "uptime_ns": self.uptime_ns,
        }
        for key in _OPTIONAL_MEASUREMENTS:
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    def metadata(self, pool: str) -> dict[str, Any]:
        """The `poolmon.resource.process` metadata; a zombie also says how it ended."""
        out: dict[str, Any] = {
            "pool": pool,
            "worker_id": self.worker_id,
            "pid": self.pid,
            "status": self.status,
        }
        if self.exit is not None:
            out.update(self.exit.as_metadata())
        return out


_OPTIONAL_MEASUREMENTS = (
    "uss_bytes",
    "fds",
    "ctx_switches_voluntary",
    "ctx_switches_involuntary",
    "io_read_bytes",
    "io_write_bytes",
    "gpu_memory_bytes",
    "gpu_percent",
)


@dataclass(frozen=True, slots=True)
class MachineSample:
    """The machine's resources at one sweep (`poolmon.resource.machine`)."""

    cpu_percent: float
    load1: float
    load5: float
    load15: float
    memory_percent: float
    memory_available_bytes: int
    memory_total_bytes: int
    swap_percent: float

    def measurements(self) -> dict[str, int | float]:
        """The `poolmon.resource.machine` measurements."""
        return {
            "cpu_percent": self.cpu_percent,
            "load1": self.load1,
            "load5": self.load5,
            "load15": self.load15,
            "memory_percent": self.memory_percent,
            "memory_available_bytes": self.memory_available_bytes,
            "memory_total_bytes": self.memory_total_bytes,
            "swap_percent": self.swap_percent,
        }
