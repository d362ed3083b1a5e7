"""Optional per-process GPU memory and utilization through NVML (nvidia-ml-py).

Most machines have no NVIDIA GPU and no `pynvml`; then `NvmlGpu.probe()` returns None and
the process events simply carry no `gpu_*` fields. Nothing here ever raises into the
sampler: NVML failures disable GPU sampling after a few consecutive errors, because a driver
that keeps failing would otherwise cost a timeout every second.

NVML reports pids as the host kernel sees them; inside a pid namespace (a container without
`--pid=host`) they will not match the pool's pids and no worker gets a GPU reading.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

_MAX_CONSECUTIVE_ERRORS = 3


class NvmlGpu:
    """Read per-pid GPU memory and SM utilization from every NVML device."""

    def __init__(self, nvml: ModuleType, handles: list[Any]) -> None:
        """Wrap an initialised NVML module and its device handles (use `probe()`)."""
        self._nvml = nvml
        self._handles = handles
        self._last_seen_us = [0] * len(handles)
        self._errors = 0

    @classmethod
    def probe(cls, module_name: str = "pynvml") -> NvmlGpu | None:
        """Initialise NVML when it imports and sees at least one device; None otherwise."""
        try:
            nvml = importlib.import_module(module_name)
            nvml.nvmlInit()
        except Exception:  # ImportError, NVMLError_LibraryNotFound, DriverNotLoaded, ...
            return None
        try:
            count = int(nvml.nvmlDeviceGetCount())
            handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        except Exception:
            handles = []
        if not handles:
            _shutdown(nvml)
            return None
        return cls(nvml, handles)

    @property
    def enabled(self) -> bool:
        """False once NVML failed too often in a row; sampling has then stopped."""
        return self._errors < _MAX_CONSECUTIVE_ERRORS

    def sample(self, pids: set[int]) -> dict[int, tuple[int | None, float | None]]:
        """Return {pid: (gpu_memory_bytes, gpu_percent)} for the given pids found on a GPU.

        Memory is summed over devices; utilization is the highest SM share on any device
        since the previous call. Unknown values are None.
        """
        if not self.enabled or not pids:
            return {}
        try:
            out = self._read(pids)
        except Exception:
            self._errors += 1
            if not self.enabled:
                self.close()
            return {}
        self._errors = 0
        return out

    def _read(self, pids: set[int]) -> dict[int, tuple[int | None, float | None]]:
        nvml = self._nvml
        memory: dict[int, int] = {}
        util: dict[int, float] = {}
        for index, handle in enumerate(self._handles):
            running = list(nvml.nvmlDeviceGetComputeRunningProcesses(handle))
            graphics = getattr(nvml, "nvmlDeviceGetGraphicsRunningProcesses", None)
            if graphics is not None:
                running.extend(graphics(handle))
            for proc in running:
                pid = int(proc.pid)
                used = getattr(proc, "usedGpuMemory", None)
                if pid in pids and used is not None:
                    memory[pid] = memory.get(pid, 0) + int(used)
            try:
                samples = nvml.nvmlDeviceGetProcessUtilization(handle, self._last_seen_us[index])
            except Exception:  # NVMLError_NotFound: no samples since last time
                samples = []
            for s in samples:
                pid = int(s.pid)
                self._last_seen_us[index] = max(self._last_seen_us[index], int(s.timeStamp))
                if pid in pids:
                    util[pid] = max(util.get(pid, 0.0), float(s.smUtil))
        return {
            pid: (memory.get(pid), util.get(pid)) for pid in pids if pid in memory or pid in util
        }

    def close(self) -> None:
        """Release NVML (the monitor calls this when it stops)."""
        if self._handles:
            self._handles = []
            _shutdown(self._nvml)


def _shutdown(nvml: ModuleType) -> None:
    try:
        nvml.nvmlShutdown()
    except Exception:
        pass
