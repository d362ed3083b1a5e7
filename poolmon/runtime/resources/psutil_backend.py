"""Per-process counters through psutil: the fallback where there is no Linux `/proc`.

psutil costs about twice as much per sweep as raw `/proc` reads on Linux (7x for the `stat`
fields alone; docs/BENCHMARKS.md), but it works on macOS, the BSDs and Windows, where
`ProcfsBackend` cannot. One `psutil.Process` is kept per pid because constructing one costs
~10 us and psutil caches static facts on it; `oneshot()` lets the platform layer share one
system call between fields.
"""

from __future__ import annotations

import time
from typing import Any

import psutil

from poolmon.runtime.resources.samples import RawProcess


def _optional(proc: Any, method: str) -> Any:
    """Call `proc.<method>()`, or return None where the platform or our rights forbid it."""
    fn = getattr(proc, method, None)
    if fn is None:
        return None
    try:
        return fn()
    except (psutil.AccessDenied, psutil.ZombieProcess, NotImplementedError, OSError):
        return None


class PsutilBackend:
    """Read `RawProcess` counters with psutil; same interface as `ProcfsBackend`.

    Not thread-safe: one sampler owns one backend.
    """

    name = "psutil"

    def __init__(self) -> None:
        """Start with no processes known; they are added on first read."""
        self._procs: dict[int, psutil.Process] = {}
        self._now = time.time()

    def begin_sweep(self) -> None:
        """Read the wall clock once; uptimes are computed against psutil's create_time."""
        self._now = time.time()

    def _process(self, pid: int) -> psutil.Process:
        proc = self._procs.get(pid)
        if proc is None:
            proc = psutil.Process(pid)
            self._procs[pid] = proc
        return proc

    def read(self, pid: int) -> RawProcess | None:
        """Read one process's counters, or None when it no longer exists."""
        try:
            proc = self._process(pid)
            with proc.oneshot():
                status = proc.status()
                created = proc.create_time()
                if status == psutil.STATUS_ZOMBIE:
                    user = system = 0.0
                    rss = threads = 0
                else:
                    times = proc.cpu_times()
                    user, system = times.user, times.system
                    rss = proc.memory_info().rss
                    threads = proc.num_threads()
                fds = _optional(proc, "num_fds")
                ctx = _optional(proc, "num_ctx_switches")
                io = _optional(proc, "io_counters")
        except psutil.NoSuchProcess:
            # ZombieProcess is a NoSuchProcess subclass, but status() above already succeeded
            # for zombies on every platform psutil supports, so this means "gone".
            self.forget(pid)
            return None
        return RawProcess(
            pid=pid,
            status=str(status),
            start_id=float(created),
            uptime_s=max(0.0, self._now - created),
            cpu_user_s=float(user),
            cpu_system_s=float(system),
            rss_bytes=int(rss),
            threads=int(threads),
            fds=None if fds is None else int(fds),
            ctx_voluntary=None if ctx is None else int(ctx.voluntary),
            ctx_involuntary=None if ctx is None else int(ctx.involuntary),
            io_read_bytes=None if io is None else int(io.read_bytes),
            io_write_bytes=None if io is None else int(io.write_bytes),
        )

    def read_uss(self, pid: int) -> int | None:
        """The unique set size via `memory_full_info()` (slow: tens of ms per 64 processes)."""
        try:
            info = self._process(pid).memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None
        uss = getattr(info, "uss", None)
        return None if uss is None else int(uss)

    def forget(self, pid: int) -> None:
        """Drop the kept `psutil.Process` of a pid that left the targets."""
        self._procs.pop(pid, None)
