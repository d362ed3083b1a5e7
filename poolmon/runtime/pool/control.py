"""The pool's thread-safe control surface: resize, timeouts, health, recycling, stats, properties.

Why a separate mixin: these are what the monitor endpoint calls from its own thread, so they
share one rule (validate, then change state only under the engine's IO lock) and one place to
read; the Executor API and the submit hot path stay in pool.py.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from poolmon.core.errors import ConfigError
from poolmon.core.tuning import SettingSpec, Value
from poolmon.runtime.pool.config import PoolConfig, check_int, check_seconds
from poolmon.runtime.pool.engine import Engine
from poolmon.runtime.pool.errors import PoolClosed
from poolmon.runtime.pool.settings import HEALTH_RANGE_S
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
    _max_queue: int | None

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
        lo, hi = HEALTH_RANGE_S
        if not lo <= value <= hi:
            raise ConfigError(f"health_check_interval must be in {lo}..{hi:g} s, got {seconds!r}")
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

    def settings(self) -> list[SettingSpec]:
        """Every run-time setting with its value now and accepted range (docs/TUNING.md)."""
        from poolmon.runtime.pool import settings

        return settings.describe(self._as_pool())

    def apply_settings(
        self,
        changes: Mapping[str, object],
        *,
        reason: Literal["user", "control", "autotune"] = "user",
    ) -> dict[str, tuple[Value, Value]]:
        """Change several settings at once, all or nothing; returns {key: (from, to)}.

        Raises ConfigError listing every refused value; nothing is changed then.
        """
        from poolmon.runtime.pool import settings

        return settings.apply(self._as_pool(), changes, reason=reason)

    def kill_worker(self, worker_id: int) -> None:
        """Kill one worker now (SIGKILL): its running task fails with `WorkerKilled`.

        What an operator does with a worker stuck in a task that will never finish. Tasks it
        had not started run elsewhere (as after a crash) and a new worker takes its slot. An
        unknown or already exited worker id raises ConfigError.
        """

        def apply() -> None:
            with self._eng.io_lock:
                w = self._eng.workers.get(worker_id)
                if w is None or w.exited:
                    raise ConfigError(f"no live worker with id {worker_id!r}")
                if w.killed:
                    raise ConfigError(
                        f"worker {worker_id} is already being killed ({w.stop_reason})"
                    )
                self._eng.kill(w, "killed")
            self._eng.wake()

        self._eng.em.operation("kill_worker", apply)

    def set_size_bounds(self, min_size: int, max_size: int) -> None:
        """Change the bounds `resize` accepts; the current size must already lie within them."""
        check_int("min_size", min_size, 0)
        check_int("max_size", max_size, max(1, min_size))
        with self._eng.io_lock:
            if not min_size <= self._eng.target <= max_size:
                raise ConfigError(
                    f"size {self._eng.target} is outside {min_size}..{max_size}; resize first"
                )
            self._cfg.min_size, self._cfg.max_size = min_size, max_size

    def set_op_timeout(self, op: str, seconds: float | None) -> None:
        """Give tasks of operation `op` their own timeout (None: back to `task_timeout`).

        It overrides the pool's default timeout; a per-call `options(timeout=)` still wins.
        `op` is the task's operation name: `options(op=...)`, else the function's qualified name.
        """
        if not isinstance(op, str) or not op:
            raise ConfigError(f"op must be a non-empty operation name, got {op!r}")
        value = check_seconds(f"op_timeout_s.{op}", seconds, allow_none=True)
        with self._eng.io_lock:
            if value is None:
                self._eng.op_timeouts_ns.pop(op, None)
            else:
                self._eng.op_timeouts_ns[op] = int(value * 1e9)
                self._eng.task_timeouts_seen = True  # the supervisor must look at running tasks

    def op_timeouts(self) -> dict[str, float]:
        """The per-operation timeouts in force, op name -> seconds."""
        with self._eng.io_lock:
            return {op: ns / 1e9 for op, ns in self._eng.op_timeouts_ns.items()}

    def set_queue_bound(self, max_queue: int | None) -> None:
        """Change `max_queue` (None: unbounded); blocked submitters re-check at once."""
        if max_queue is not None:
            check_int("max_queue", max_queue, 1)
        eng = self._eng
        with eng.io_lock:
            self._cfg.max_queue = max_queue
            self._max_queue = max_queue
            eng.queue_bounded = max_queue is not None
            eng.refresh_submit_path()
        with eng.space_cond:
            eng.space_cond.notify_all()

    def set_queue_policy(self, policy: Literal["raise", "block"]) -> None:
        """Change `on_queue_full` for submits from now on ("raise" or "block")."""
        if policy not in ("raise", "block"):
            raise ConfigError(f"on_queue_full must be 'raise' or 'block', got {policy!r}")
        with self._eng.io_lock:
            self._cfg.on_queue_full = policy

    def set_recycle_after_tasks(self, tasks: int | None) -> None:
        """Change `max_tasks_per_worker`; workers already past a lowered limit retire gracefully."""
        if tasks is not None:
            check_int("max_tasks_per_worker", tasks, 1)
        eng = self._eng
        with eng.io_lock:
            self._cfg.max_tasks_per_worker = tasks
            if tasks is not None:
                for w in list(eng.workers.values()):
                    if w.stop_reason is None and w.dispatched >= tasks:
                        eng.retire(w, "recycle_tasks")
                eng.ensure_size("recycle")
        eng.wake()

    def set_recycle_above_rss(self, rss_bytes: int | None) -> None:
        """Change `max_memory_per_worker` (bytes, >= 1 MiB; None: no limit); checked next sample."""
        if rss_bytes is not None:
            check_int("max_memory_per_worker", rss_bytes, 1 << 20)
        with self._eng.io_lock:
            self._cfg.max_memory_per_worker = rss_bytes

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
    def history_sizes(self) -> tuple[int, int]:
        """(rollup seconds, raw task bytes) the monitor endpoint's history keeps."""
        return self._cfg.history_seconds, int(self._cfg.history_raw_mib * 1024 * 1024)

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

    def worker_stack(
        self, worker_id: int, *, method: str = "auto", timeout_s: float = 2.0
    ) -> dict[str, Any]:
        """The live stack of a worker's running task, which producer read it, and the task.

        See `poolmon.runtime.pool.stacks`: py-spy when it may ptrace, else the in-worker
        dumper; ConfigError says why neither could (unknown worker, no answer, no ptrace).
        """
        from poolmon.runtime.pool.stacks import worker_stack

        return worker_stack(self._eng, worker_id, method, timeout_s, self._cfg.stack_args)

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until every worker is ready (useful before timing); False on timeout."""
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._eng.io_lock:
                workers = list(self._eng.workers.values())
                ok = len(workers) >= self._eng.target and all(
                    w.state != "starting" for w in workers
                )
            if ok:
                return True
            if self._eng.finished.is_set() or (end is not None and time.monotonic() > end):
                return False
            time.sleep(0.002)
