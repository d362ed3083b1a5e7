"""`ResourceMonitor`: the pool's service thread that samples its processes and the machine.

Every `interval_s` (default 1 s) it asks a provider for the targets (`{worker_id: pid}`, the
pool itself as worker_id -1), samples them (`ProcessSampler`), the machine
(`MachineSampler`) and the pool's internals (a callable the pool/endpoint supplies), and
emits one `poolmon.resource.process` per process, one `poolmon.resource.machine` and one
`poolmon.resource.internals` through telemetry, so a monitor attached over the socket gets
them like any other event. USS is measured every `uss_interval_s` (default 10 s) or at once
on `request_uss()`.

It sits in the pool process and must never hurt it: every failure (a provider that raises,
an unreadable `/proc`, a handler that throws) is caught, reported as a `poolmon.error` event
of category "resources" without repeating itself every second (`problems`), and the thread
carries on. A zombie worker is reported (status "zombie", with the exit the OS recorded) and
`on_zombie(pid)` is asked to reap it, once per zombie and outside the monitor's lock (so the
callback may call back into the monitor), followed by a `poolmon.recovery` event (action
"reap_zombie") saying whether the zombie is gone.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping

from poolmon.core.catalog import RESOURCE_INTERNALS, RESOURCE_MACHINE, RESOURCE_PROCESS
from poolmon.core.clock import Clock, SystemClock
from poolmon.core.errors import ConfigError
from poolmon.runtime.resources.gpu import NvmlGpu
from poolmon.runtime.resources.machine import MachineSampler
from poolmon.runtime.resources.problems import ProblemReporter
from poolmon.runtime.resources.report import MonitorStats, ResourceReport
from poolmon.runtime.resources.sampler import ProcessSampler, Sweep
from poolmon.runtime.resources.samples import MachineSample, ProcessSample
from poolmon.runtime.telemetry import (
    DEFAULT_TELEMETRY,
    Telemetry,
    emit_recovery_event,
    emit_resource_event,
)

POOL_WORKER_ID = -1
"""The worker_id under which the pool process itself is sampled."""


def _check_seconds(name: str, value: object) -> None:
    """Refuse anything but a positive, finite number of seconds, naming the setting."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ConfigError(f"{name} must be a positive, finite number of seconds, got {value!r}")


class ResourceMonitor:
    """Sample the pool's processes, the machine and the pool's internals on a timer.

    Example::

        monitor = ResourceMonitor(lambda: {-1: os.getpid(), **pool_pids()}, telemetry, "main")
        monitor.start()
        ...
        monitor.stop()
    """

    def __init__(
        self,
        targets: Callable[[], Mapping[int, int]],
        telemetry: Telemetry | None = None,
        pool_name: str | None = None,
        internals: Callable[[], Mapping[str, int | float]] | None = None,
        *,
        interval_s: float = 1.0,
        uss_interval_s: float | None = 10.0,
        on_zombie: Callable[[int], object] | None = None,
        proc_root: str = "/proc",
        gpu: bool = True,
        clock: Clock | None = None,
        sampler: ProcessSampler | None = None,
        machine: MachineSampler | None = None,
    ) -> None:
        """Configure the monitor; nothing runs until `start()` (or a manual `sweep()`).

        Args:
            targets: Returns `{worker_id: pid}` of the processes to watch, now.
            telemetry: Where events go; None means `DEFAULT_TELEMETRY`.
            pool_name: The `pool` metadata of every event.
            internals: Returns the pool's internals (catalog fields of
                `poolmon.resource.internals`); None emits no internals event.
            interval_s: Seconds between sweeps (> 0).
            uss_interval_s: Seconds between USS measurements (> 0), or None for on demand only.
            on_zombie: Called with the pid of each zombie found, to reap it.
            proc_root: Where procfs is mounted (tests pass a fixture tree).
            gpu: Probe NVML for per-process GPU figures (absent without pynvml or a GPU).
            clock: Monotonic time for cadences and rates (tests pass a ManualClock).
            sampler: Override the process sampler (tests, benchmarks).
            machine: Override the machine sampler.

        Raises:
            ConfigError: An interval is not a positive, finite number of seconds.
        """
        _check_seconds("interval_s", interval_s)
        if uss_interval_s is not None:
            _check_seconds("uss_interval_s", uss_interval_s)
        self._targets = targets
        self._telemetry = DEFAULT_TELEMETRY if telemetry is None else telemetry
        self._pool = pool_name
        self._internals = internals
        self._interval_s = float(interval_s)
        self._uss_interval_ns = None if uss_interval_s is None else int(uss_interval_s * 1e9)
        self._on_zombie = on_zombie
        self._clock = clock or SystemClock()
        if sampler is None:
            probe = NvmlGpu.probe() if gpu else None
            sampler = ProcessSampler(proc_root, clock=self._clock, gpu=probe)
        self._sampler = sampler
        self._machine = machine if machine is not None else MachineSampler(proc_root)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._uss_requested = False
        self._last_uss_ns: int | None = None
        self._zombies_handled: set[int] = set()
        self._problems = ProblemReporter(self._telemetry, pool_name)
        self._sweeps = 0
        self._failures = 0
        self._last_sweep_ns = 0
        self._thread_cpu_ns = 0
        self._thread_started_ns = 0
        self._last_report: ResourceReport | None = None

    # ------------------------------------------------------------------ lifecycle
    @property
    def running(self) -> bool:
        """Whether the service thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def backend(self) -> str:
        """The process sampler's backend ("procfs" or "psutil")."""
        return self._sampler.backend

    def start(self) -> None:
        """Start the service thread (a daemon); a second call while running does nothing."""
        with self._lock:
            if self.running:
                return
            self._stopping = False
            self._wake.clear()
            self._thread = threading.Thread(
                target=self._run, name=f"poolmon-resources-{self._pool}", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread, wait up to `timeout` seconds for it, release NVML; idempotent.

        A stopped monitor can be started again, but without GPU figures (NVML is released).
        """
        self._stopping = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._sampler.close()

    def __enter__(self) -> ResourceMonitor:
        """Start on entering a `with` block."""
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop on leaving it."""
        self.stop()

    def request_uss(self) -> None:
        """Measure USS now: wake the thread for a sweep that includes it."""
        self._uss_requested = True
        self._wake.set()

    # ------------------------------------------------------------------ state
    @property
    def last_report(self) -> ResourceReport | None:
        """The latest completed sweep (the pool's memory-based recycling can read it)."""
        return self._last_report

    @property
    def stats(self) -> MonitorStats:
        """Counters describing the monitor's own work and cost."""
        wall = time.monotonic_ns() - self._thread_started_ns if self._thread_started_ns else 0
        return MonitorStats(
            self._sweeps, self._failures, self._last_sweep_ns, self._thread_cpu_ns, wall
        )

    # ------------------------------------------------------------------ the loop
    def _run(self) -> None:
        self._thread_started_ns = time.monotonic_ns()
        cpu_start = time.thread_time_ns()
        next_at = time.monotonic()
        while not self._stopping:
            self._sweep_safely()
            self._thread_cpu_ns = time.thread_time_ns() - cpu_start
            next_at += self._interval_s
            now = time.monotonic()
            if next_at <= now:  # a sweep overran (or the machine stalled): do not burst
                next_at = now + self._interval_s
            self._wake.wait(next_at - now)
            self._wake.clear()
        self._thread_cpu_ns = time.thread_time_ns() - cpu_start

    def _sweep_safely(self) -> None:
        try:
            self.sweep()
        except Exception as exc:
            self._failures += 1
            self._problems.sweep_failed(exc)
        else:
            self._problems.sweep_succeeded()

    def sweep(self, *, with_uss: bool | None = None) -> ResourceReport:
        """Sample everything once, emit the events, and return what was measured.

        Runs in the calling thread (the service thread calls it every interval). `with_uss`
        None follows the USS cadence; True or False forces it.

        Raises:
            Exception: Whatever the targets provider or an unreadable `/proc` raised; the
                service thread catches and reports these, direct callers see them.
        """
        with self._lock:
            started = self._clock.monotonic_ns()
            ts_ns = self._clock.time_ns()
            if with_uss is None:
                with_uss = self._uss_due(started)
            targets = dict(self._targets())
            sweep = self._sampler.sample(targets, with_uss=with_uss)
            if with_uss:
                self._last_uss_ns = started
            try:
                machine: MachineSample | None = self._machine.sample()
            except (OSError, ValueError) as exc:
                machine = None
                self._problems.report_once(("machine", type(exc)), exc)
            internals = self._read_internals()
            self._emit(sweep, machine, internals)
            to_reap = self._new_zombies(sweep)
            duration = self._clock.monotonic_ns() - started
            report = ResourceReport(
                ts_ns=ts_ns,
                processes=sweep.samples,
                machine=machine,
                internals=internals,
                vanished=sweep.vanished,
                with_uss=with_uss,
                duration_ns=duration,
            )
            self._last_report = report
            self._sweeps += 1
            self._last_sweep_ns = duration
        self._reap(to_reap)
        return report

    def _uss_due(self, now: int) -> bool:
        if self._uss_requested:
            self._uss_requested = False
            return True
        if self._uss_interval_ns is None:
            return False
        return self._last_uss_ns is None or now - self._last_uss_ns >= self._uss_interval_ns

    def _read_internals(self) -> dict[str, int | float]:
        if self._internals is None:
            return {}
        try:
            raw = dict(self._internals())
        except Exception as exc:
            self._problems.report_once(("internals", type(exc)), exc)
            return {}
        out: dict[str, int | float] = {}
        for key, value in raw.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                out[key] = value
            else:
                self._problems.report_once(
                    ("internals-field", key),
                    None,
                    error_type="TypeError",
                    message=f"internals field {key!r} is {type(value).__name__}, not a number; "
                    "left out of poolmon.resource.internals",
                )
        return out

    def _emit(
        self,
        sweep: Sweep,
        machine: MachineSample | None,
        internals: Mapping[str, int | float],
    ) -> None:
        tel = self._telemetry
        pool = self._pool
        if tel.listening(RESOURCE_PROCESS):
            for sample in sweep.samples:
                emit_resource_event(
                    RESOURCE_PROCESS,
                    sample.measurements(),
                    pool=pool,
                    metadata=sample.metadata(pool or ""),
                    telemetry=tel,
                )
        if machine is not None:
            emit_resource_event(RESOURCE_MACHINE, machine.measurements(), pool=pool, telemetry=tel)
        if self._internals is not None:
            emit_resource_event(RESOURCE_INTERNALS, internals, pool=pool, telemetry=tel)
        for worker_id, pid, message in sweep.errors:
            self._problems.report_once(
                ("process", pid, message),
                None,
                error_type="ProcfsFormatError",
                message=f"could not sample pid {pid}: {message}",
                worker_id=worker_id,
            )

    def _new_zombies(self, sweep: Sweep) -> list[ProcessSample]:
        """Zombies not yet handed to `on_zombie` (each pid once while it stays a zombie)."""
        self._zombies_handled &= {s.pid for s in sweep.zombies}
        if self._on_zombie is None:
            return []
        fresh = [s for s in sweep.zombies if s.pid not in self._zombies_handled]
        self._zombies_handled.update(s.pid for s in fresh)
        return fresh

    def _reap(self, zombies: list[ProcessSample]) -> None:
        """Ask `on_zombie` to reap each one, then report whether it is gone."""
        on_zombie = self._on_zombie
        if on_zombie is None:
            return
        for sample in zombies:
            started = self._clock.monotonic_ns()
            try:
                on_zombie(sample.pid)
                with self._lock:
                    failed = self._sampler.still_zombie(sample.pid)
            except Exception as exc:
                failed = True
                self._problems.report(exc, worker_id=sample.worker_id)
            emit_recovery_event(
                "reap_zombie",
                "failed" if failed else "ok",
                max(0, self._clock.monotonic_ns() - started),
                pool=self._pool,
                worker_id=sample.worker_id,
                telemetry=self._telemetry,
            )
