"""The pool's thread-safe control surface: resize, timeouts, health, recycling, stats, properties.

Why a separate mixin: these are what the monitor endpoint calls from its own thread, so they
share one rule (validate, then change state only under the engine's IO lock) and one place to
read; the Executor API and the submit hot path stay in pool.py.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Literal

from poolmon.core.errors import ConfigError
from poolmon.runtime.pool.config import PoolConfig, check_int, check_seconds
from poolmon.runtime.pool.engine import Engine
from poolmon.runtime.pool.errors import PoolClosed
from poolmon.runtime.pool.snapshot import build_stats
from poolmon.runtime.pool.stats import PoolStats

if TYPE_CHECKING:
    from poolmon.runtime.alerting.service import AlertService
    from poolmon.runtime.alerting.setup import AlertSetup
    from poolmon.runtime.pool.pool import Pool
    from poolmon.runtime.telemetry import Telemetry


class PoolControl:
    """Control methods and properties of `Pool` (mixed in)."""

    _eng: Engine
    _cfg: PoolConfig
    _closed: bool
    _pid: int
    _started_at_ns: int
    _telemetry: Telemetry
    _resource_interval: float | None
    _services: list[Any]

    def resize(self, n: int, *, reason: Literal["user", "control", "autotune"] = "user") -> None:
        """Set the number of workers: grow starts workers, shrink retires idle ones first.

        Out of `min_size..max_size` raises ConfigError. `reason` is reported in the
        `poolmon.pool.resize` event (the monitor endpoint passes "control").
        """
        cfg = self._cfg
        check_int("size", n, max(1, cfg.min_size), cfg.max_size)
        if reason not in ("user", "control", "autotune"):
            raise ConfigError(f"resize reason must be user, control or autotune, got {reason!r}")
        if self._closed:
            raise PoolClosed("cannot resize a pool after shutdown")

        def apply() -> None:
            with self._eng.io_lock:
                self._eng.resize(n, reason)
            self._eng.wake()

        self._eng.em.operation("resize", apply)

    def set_task_timeout(self, seconds: float | None) -> None:
        """Change the default per-task timeout (None = no limit) for tasks from now on."""
        value = check_seconds("task_timeout", seconds, allow_none=True)
        with self._eng.io_lock:
            self._cfg.task_timeout = value
            self._eng.task_timeout_ns = 0 if value is None else int(value * 1e9)

    def set_health_check_interval(self, seconds: float) -> None:
        """Change how often worker heartbeats are checked (0.01 .. 3600 s)."""
        value = check_seconds("health_check_interval", seconds)
        assert value is not None
        if not 0.01 <= value <= 3600:
            raise ConfigError(f"health_check_interval must be in 0.01..3600 s, got {seconds!r}")
        with self._eng.io_lock:
            self._cfg.health_check_interval = value
            self._eng.health_interval_ns = int(value * 1e9)
            self._eng.next_health_ns = 0
        self._eng.wake()

    def recycle_worker(self, worker_id: int) -> None:
        """Replace one worker gracefully: it finishes what it has, a new one takes its slot.

        An unknown or already retiring worker id raises ConfigError.
        """

        def apply() -> None:
            with self._eng.io_lock:
                w = self._eng.workers.get(worker_id)
                if w is None or w.stop_reason is not None:
                    raise ConfigError(f"no live worker with id {worker_id!r}")
                self._eng.retire(w, "recycle")
                self._eng.ensure_size("recycle")
            self._eng.wake()

        self._eng.em.operation("recycle_worker", apply)

    def stats(self) -> PoolStats:
        """A frozen snapshot of workers, queue, sessions and totals (see `PoolStats`)."""
        with self._eng.io_lock:
            return build_stats(self._as_pool(), self._eng, self._cfg)

    # ------------------------------------------------------------------ properties
    @property
    def name(self) -> str:
        """The pool's name, as monitors show it."""
        return self._cfg.name

    @property
    def size(self) -> int:
        """Target number of workers."""
        return self._eng.target

    @property
    def min_size(self) -> int:
        """Lower bound for `resize`."""
        return self._cfg.min_size

    @property
    def max_size(self) -> int:
        """Upper bound for `resize`."""
        return self._cfg.max_size

    @property
    def pid(self) -> int:
        """The pool process's pid."""
        return self._pid

    @property
    def started_at_ns(self) -> int:
        """Wall-clock time the pool started (ns since the epoch)."""
        return self._started_at_ns

    @property
    def start_method(self) -> str:
        """The multiprocessing start method of the workers."""
        return self._cfg.start_method

    @property
    def monitor(self) -> bool | str:
        """The monitor endpoint setting: True (default path), a socket path, or False."""
        return self._cfg.monitor

    @property
    def alert_setup(self) -> AlertSetup | None:
        """The rules and channels loaded from `alerts=` (None: alerting is off)."""
        return self._cfg.alert_setup

    @property
    def alerting(self) -> AlertService | None:
        """The running alert service (`.view` is the current `AlertsView`), or None.

        None when alerting is off, the pool has no monitor endpoint, or it has shut down.
        """
        from poolmon.runtime.alerting.service import AlertService

        for service in self._services:
            if isinstance(service, AlertService):
                return service
        return None

    @property
    def alert_state_dir(self) -> str | None:
        """The alert state folder given, or None for the default (see `Pool`)."""
        value = self._cfg.alert_state_dir
        return None if value is None else os.fspath(value)

    @property
    def telemetry(self) -> Telemetry:
        """The registry this pool emits to."""
        return self._telemetry

    @property
    def closed(self) -> bool:
        """True once `shutdown()` was called."""
        return self._closed

    def __repr__(self) -> str:
        return f"<poolmon.Pool {self.name!r} size={self.size} closed={self._closed}>"

    @property
    def resource_interval_s(self) -> float | None:
        """Seconds between resource samples of the pool's processes, or None for none."""
        return self._resource_interval

    def _as_pool(self) -> Pool:
        return self  # type: ignore[return-value]
