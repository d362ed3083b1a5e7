"""The values a `ResourceMonitor` hands back: one sweep's report and the monitor's own costs.

Kept apart from the monitor so the pool (memory-based recycling, `stats()`) can type against
them without importing the thread machinery.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from poolmon.runtime.resources.samples import MachineSample, ProcessSample


@dataclass(frozen=True, slots=True)
class ResourceReport:
    """Everything one sweep measured; `ResourceMonitor.last_report` keeps the latest.

    Attributes:
        ts_ns: Wall clock when the sweep started.
        processes: One sample per existing target (zombies included).
        machine: The machine's resources, or None when they could not be read.
        internals: The pool's internals as the provider reported them (numbers only).
        vanished: (worker_id, pid) of targets that no longer existed.
        with_uss: Whether this sweep measured USS.
        duration_ns: How long the sweep took (monotonic).
    """

    ts_ns: int
    processes: tuple[ProcessSample, ...]
    machine: MachineSample | None
    internals: Mapping[str, int | float] = field(default_factory=dict)
    vanished: tuple[tuple[int, int], ...] = ()
    with_uss: bool = False
    duration_ns: int = 0

    def by_worker(self) -> dict[int, ProcessSample]:
        """The process samples keyed by worker_id (-1 is the pool process)."""
        return {s.worker_id: s for s in self.processes}


@dataclass(frozen=True, slots=True)
class MonitorStats:
    """What the monitor costs and how it fares; the benchmark reads these.

    Attributes:
        sweeps: Sweeps completed.
        failures: Sweeps that raised (reported as poolmon.error) instead of completing.
        last_sweep_ns: Wall duration of the latest sweep.
        thread_cpu_ns: CPU time the monitor thread has used since it started, sleeping and
            waking included (0 when sweeps only ran through `sweep()` on other threads).
        thread_wall_ns: Wall time since the monitor thread started.
    """

    sweeps: int
    failures: int
    last_sweep_ns: int
    thread_cpu_ns: int
    thread_wall_ns: int
