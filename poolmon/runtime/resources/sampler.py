"""Turn OS counters into per-process resource samples: CPU %, memory, fds, threads, I/O.

CPU % needs two readings, so the sampler keeps each pid's previous CPU times together with
its start time: a pid reused by a new process restarts from that process's birth instead of
producing a negative or absurd rate. A process's first sample is its average since it
started, a real figure rather than psutil's placeholder zero.

USS (unique memory) costs ~0.35 ms a process, ten times the rest of a sample, so it is read only
when the caller asks (`with_uss=True`, which the monitor does every ~10 s or on demand); in
between, each sample carries the last USS measured for that same process.

A pid that vanishes between the caller's target list and the read is reported in
`Sweep.vanished`, never as an error; a pid whose files cannot be parsed lands in
`Sweep.errors` and the rest of the sweep goes on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from poolmon.core.clock import Clock, SystemClock
from poolmon.runtime.resources.gpu import NvmlGpu
from poolmon.runtime.resources.procfs import ProcfsBackend
from poolmon.runtime.resources.samples import ProcessSample, RawProcess


class Backend(Protocol):
    """Where raw counters come from: `ProcfsBackend` or `PsutilBackend`."""

    name: str

    def begin_sweep(self) -> None:
        """Read whatever is shared by every process of one sweep."""
        ...

    def read(self, pid: int) -> RawProcess | None:
        """Read one process, None when it is gone."""
        ...

    def read_uss(self, pid: int) -> int | None:
        """Read one process's unique set size, None when unknown."""
        ...

    def forget(self, pid: int) -> None:
        """Drop any state kept for a pid that left the targets."""
        ...


def default_backend(proc_root: str = "/proc") -> Backend:
    """Raw procfs where it exists (half the cost per sweep), psutil everywhere else."""
    if ProcfsBackend.available(proc_root):
        return ProcfsBackend(proc_root)
    from poolmon.runtime.resources.psutil_backend import PsutilBackend

    return PsutilBackend()


@dataclass(frozen=True, slots=True)
class Sweep:
    """The outcome of sampling every target once.

    Attributes:
        samples: One per process that exists (zombies included), in target order.
        vanished: (worker_id, pid) of targets that no longer exist.
        errors: (worker_id, pid, message) for targets whose counters could not be parsed.
        with_uss: Whether USS was measured in this sweep.
    """

    samples: tuple[ProcessSample, ...]
    vanished: tuple[tuple[int, int], ...] = ()
    errors: tuple[tuple[int, int, str], ...] = ()
    with_uss: bool = False
    zombies: tuple[ProcessSample, ...] = field(default=())


@dataclass(slots=True)
class _Previous:
    start_id: float
    mono_ns: int
    user_s: float
    system_s: float
    uss_bytes: int | None = None


class ProcessSampler:
    """Sample a set of processes; remember what rates and USS need between sweeps.

    Not thread-safe: call `sample` from one thread at a time (the monitor holds a lock).
    """

    def __init__(
        self,
        proc_root: str = "/proc",
        *,
        clock: Clock | None = None,
        backend: Backend | None = None,
        gpu: NvmlGpu | None = None,
    ) -> None:
        """Choose the backend and the clock.

        Args:
            proc_root: Where procfs is mounted; tests pass a fixture tree.
            clock: Monotonic time for CPU rates (`ManualClock` in tests).
            backend: Override the automatic procfs/psutil choice.
            gpu: An NVML reader (`NvmlGpu.probe()`), or None for no GPU fields.
        """
        self._clock = clock or SystemClock()
        self._backend = backend if backend is not None else default_backend(proc_root)
        self._gpu = gpu
        self._prev: dict[int, _Previous] = {}

    @property
    def backend(self) -> str:
        """The name of the backend in use ("procfs" or "psutil")."""
        return self._backend.name

    def sample(self, targets: Mapping[int, int], *, with_uss: bool = False) -> Sweep:
        """Sample every `{worker_id: pid}` target once.

        Raises:
            OSError, ProcfsFormatError: Only when the machine-wide uptime cannot be read;
                per-process problems are reported in the returned `Sweep` instead.
        """
        self._backend.begin_sweep()
        now = self._clock.monotonic_ns()
        gpu = self._gpu.sample(set(targets.values())) if self._gpu is not None else {}
        samples: list[ProcessSample] = []
        vanished: list[tuple[int, int]] = []
        errors: list[tuple[int, int, str]] = []
        seen: set[int] = set()
        for worker_id, pid in targets.items():
            seen.add(pid)
            try:
                raw = self._backend.read(pid)
                uss = self._backend.read_uss(pid) if with_uss and raw is not None else None
            except (ValueError, OSError) as exc:
                errors.append((worker_id, pid, f"{type(exc).__name__}: {exc}"))
                continue
            if raw is None:
                vanished.append((worker_id, pid))
                self._forget(pid)
                continue
            samples.append(self._rate(worker_id, raw, now, uss, with_uss, gpu.get(pid)))
        for pid in [p for p in self._prev if p not in seen]:
            self._forget(pid)
        return Sweep(
            samples=tuple(samples),
            vanished=tuple(vanished),
            errors=tuple(errors),
            with_uss=with_uss,
            zombies=tuple(s for s in samples if s.is_zombie),
        )

    def close(self) -> None:
        """Release NVML when it was in use (the monitor's thread calls this as it stops)."""
        if self._gpu is not None:
            self._gpu.close()

    def still_zombie(self, pid: int) -> bool:
        """Re-read one pid: whether it is still an unreaped zombie (after a reap attempt)."""
        try:
            raw = self._backend.read(pid)
        except (ValueError, OSError):
            return False
        return raw is not None and raw.status == "zombie"

    def _rate(
        self,
        worker_id: int,
        raw: RawProcess,
        now: int,
        uss: int | None,
        with_uss: bool,
        gpu: tuple[int | None, float | None] | None,
    ) -> ProcessSample:
        prev = self._prev.get(raw.pid)
        same_process = prev is not None and prev.start_id == raw.start_id
        if same_process and not with_uss and prev is not None:
            uss = prev.uss_bytes
        if same_process and prev is not None and now > prev.mono_ns:
            elapsed_s = (now - prev.mono_ns) / 1e9
            d_user = raw.cpu_user_s - prev.user_s
            d_system = raw.cpu_system_s - prev.system_s
        else:
            # First sight of this process (its pid may have been reused), or no time has
            # passed since the last sample: report the average since it started.
            elapsed_s = raw.uptime_s
            d_user, d_system = raw.cpu_user_s, raw.cpu_system_s
        user_pct = _percent(d_user, elapsed_s)
        system_pct = _percent(d_system, elapsed_s)
        self._prev[raw.pid] = _Previous(raw.start_id, now, raw.cpu_user_s, raw.cpu_system_s, uss)
        return ProcessSample(
            worker_id=worker_id,
            pid=raw.pid,
            status=raw.status,
            cpu_percent=user_pct + system_pct,
            cpu_user_percent=user_pct,
            cpu_system_percent=system_pct,
            rss_bytes=raw.rss_bytes,
            threads=raw.threads,
            uptime_ns=int(raw.uptime_s * 1e9),
            uss_bytes=uss,
            fds=raw.fds,
            ctx_switches_voluntary=raw.ctx_voluntary,
            ctx_switches_involuntary=raw.ctx_involuntary,
            io_read_bytes=raw.io_read_bytes,
            io_write_bytes=raw.io_write_bytes,
            gpu_memory_bytes=None if gpu is None else gpu[0],
            gpu_percent=None if gpu is None else gpu[1],
            exit=raw.exit,
        )

    def _forget(self, pid: int) -> None:
        self._prev.pop(pid, None)
        self._backend.forget(pid)


def _percent(cpu_s: float, elapsed_s: float) -> float:
    """CPU seconds over wall seconds as % of one core; never negative (counters can wobble)."""
    if elapsed_s <= 0.0 or cpu_s <= 0.0:
        return 0.0
    return 100.0 * cpu_s / elapsed_s
