"""Machine-wide CPU, load, memory and swap, from `/proc` or psutil where there is none.

CPU % is the busy share of all cores between two samples (the first sample compares against
boot, so it is the average since boot rather than a made-up zero). Memory "used" follows
psutil's definition, `(total - available) / total`, so both paths agree.
"""

from __future__ import annotations

import os

import psutil

from poolmon.runtime.resources.procfs import ProcfsFormatError, read_bytes
from poolmon.runtime.resources.samples import MachineSample


def parse_cpu_line(proc_stat: bytes) -> tuple[int, int]:
    """Return (busy, total) jiffies from the aggregate `cpu` line of `/proc/stat`.

    Idle time is `idle + iowait`; `guest` and `guest_nice` are already inside `user` and
    `nice`, so only the first eight columns are summed (as psutil and top do).

    Raises:
        ProcfsFormatError: When the first line is not the aggregate `cpu` line.
    """
    line = proc_stat.split(b"\n", 1)[0].split()
    if not line or line[0] != b"cpu" or len(line) < 5:
        raise ProcfsFormatError(f"/proc/stat does not start with a cpu line: {line[:3]!r}")
    values = [int(v) for v in line[1:9]]
    total = sum(values)
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return total - idle, total


def parse_meminfo(meminfo: bytes) -> dict[str, int]:
    """Return the `/proc/meminfo` fields in bytes (the file states them in kB)."""
    out: dict[str, int] = {}
    for line in meminfo.splitlines():
        key, _, rest = line.partition(b":")
        parts = rest.split()
        if parts:
            try:
                value = int(parts[0])
            except ValueError:
                continue
            scale = 1024 if len(parts) > 1 and parts[1] == b"kB" else 1
            out[key.decode("ascii", "replace")] = value * scale
    return out


def memory_from_meminfo(fields: dict[str, int]) -> tuple[float, int, int, float]:
    """Return (memory_percent, available, total, swap_percent) from parsed meminfo.

    Kernels before 3.14 lack `MemAvailable`; the estimate then is free + buffers + cached,
    which is what psutil falls back to as well.

    Raises:
        ProcfsFormatError: When `MemTotal` is missing.
    """
    total = fields.get("MemTotal")
    if not total:
        raise ProcfsFormatError("/proc/meminfo has no MemTotal")
    available = fields.get("MemAvailable")
    if available is None:
        available = fields.get("MemFree", 0) + fields.get("Buffers", 0) + fields.get("Cached", 0)
    swap_total = fields.get("SwapTotal", 0)
    swap_used = swap_total - fields.get("SwapFree", 0)
    swap_percent = 100.0 * swap_used / swap_total if swap_total > 0 else 0.0
    return 100.0 * (total - available) / total, available, total, swap_percent


class MachineSampler:
    """Sample machine resources; keeps the previous CPU counters for the busy share."""

    def __init__(self, proc_root: str = "/proc", *, use_procfs: bool | None = None) -> None:
        """Bind to `proc_root` (procfs when it exists there, psutil otherwise).

        Args:
            proc_root: Where procfs is mounted, or a fixture tree.
            use_procfs: Force a backend; by default procfs when `<root>/stat` exists.
        """
        self._root = proc_root
        if use_procfs is None:
            use_procfs = os.path.isfile(os.path.join(proc_root, "stat"))
        self._procfs = use_procfs
        self._prev_busy = 0
        self._prev_total = 0
        if not use_procfs:
            psutil.cpu_percent(None)  # prime psutil's own baseline

    @property
    def backend(self) -> str:
        """Which backend this sampler reads: "procfs" or "psutil"."""
        return "procfs" if self._procfs else "psutil"

    def sample(self) -> MachineSample:
        """Read the machine's resources now.

        Raises:
            ProcfsFormatError: A procfs file has an unexpected layout.
            OSError: procfs could not be read.
        """
        if not self._procfs:
            return self._sample_psutil()
        busy, total = parse_cpu_line(read_bytes(os.path.join(self._root, "stat")))
        d_total = total - self._prev_total
        d_busy = busy - self._prev_busy
        cpu = 100.0 * d_busy / d_total if d_total > 0 else 0.0
        self._prev_busy, self._prev_total = busy, total
        load = read_bytes(os.path.join(self._root, "loadavg")).split()
        try:
            load1, load5, load15 = float(load[0]), float(load[1]), float(load[2])
        except (IndexError, ValueError) as exc:
            raise ProcfsFormatError(f"unreadable /proc/loadavg {load[:3]!r}") from exc
        mem = parse_meminfo(read_bytes(os.path.join(self._root, "meminfo")))
        memory_percent, available, mem_total, swap_percent = memory_from_meminfo(mem)
        return MachineSample(
            cpu_percent=min(100.0, max(0.0, cpu)),
            load1=load1,
            load5=load5,
            load15=load15,
            memory_percent=memory_percent,
            memory_available_bytes=available,
            memory_total_bytes=mem_total,
            swap_percent=swap_percent,
        )

    @staticmethod
    def _sample_psutil() -> MachineSample:
        try:
            load1, load5, load15 = psutil.getloadavg()
        except (AttributeError, OSError):
            load1 = load5 = load15 = 0.0
        vm = psutil.virtual_memory()
        return MachineSample(
            cpu_percent=float(psutil.cpu_percent(None)),
            load1=float(load1),
            load5=float(load5),
            load15=float(load15),
            memory_percent=float(vm.percent),
            memory_available_bytes=int(vm.available),
            memory_total_bytes=int(vm.total),
            swap_percent=float(psutil.swap_memory().percent),
        )
