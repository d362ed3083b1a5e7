"""The resource monitor: what the OS says about the pool, its workers and the machine.

* `ResourceMonitor`: the pool's service thread; samples on a timer and emits
  `poolmon.resource.process|machine|internals` events (and reaps zombies via a callback).
* `ProcessSampler` / `MachineSampler`: one sweep on demand, for code that wants numbers
  without events (the benchmark, memory-based recycling).
* `ExitStatus`, `from_returncode`, `from_wait_status`, `reap`: one shape for "how did this
  process end", shared with the pool's supervisor.

Raw `/proc` is read where it exists (about half psutil's cost, see `procfs`); psutil otherwise.
"""

from __future__ import annotations

from poolmon.runtime.resources.exitstatus import (
    ExitStatus,
    from_returncode,
    from_wait_status,
    reap,
)
from poolmon.runtime.resources.gpu import NvmlGpu
from poolmon.runtime.resources.machine import MachineSampler
from poolmon.runtime.resources.monitor import POOL_WORKER_ID, ResourceMonitor
from poolmon.runtime.resources.procfs import ProcfsBackend, ProcfsFormatError
from poolmon.runtime.resources.report import MonitorStats, ResourceReport
from poolmon.runtime.resources.sampler import ProcessSampler, Sweep
from poolmon.runtime.resources.samples import MachineSample, ProcessSample

__all__ = [
    "POOL_WORKER_ID",
    "ExitStatus",
    "MachineSample",
    "MachineSampler",
    "MonitorStats",
    "NvmlGpu",
    "ProcessSample",
    "ProcessSampler",
    "ProcfsBackend",
    "ProcfsFormatError",
    "ResourceMonitor",
    "ResourceReport",
    "Sweep",
    "from_returncode",
    "from_wait_status",
    "reap",
]
