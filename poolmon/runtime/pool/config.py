"""The pool's settings, validated once so every bad value fails at construction, clearly.

Why a separate dataclass: the same checks guard the constructor and the runtime control
methods (`resize`, `set_task_timeout`, ...), which the monitor endpoint calls from another
thread with values typed by an operator.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from poolmon.core.errors import ConfigError
from poolmon.runtime.pool.worker import START_METHODS

if TYPE_CHECKING:
    from poolmon.runtime.alerting.setup import AlertSetup

QueueFullPolicy = Literal["raise", "block"]


def check_seconds(name: str, value: object, *, allow_none: bool = False) -> float | None:
    """A positive, finite number of seconds (or None when allowed), else ConfigError."""
    if value is None and allow_none:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        extra = " or None" if allow_none else ""
        raise ConfigError(f"{name} must be a positive number of seconds{extra}, got {value!r}")
    return float(value)


def check_int(name: str, value: object, lo: int, hi: int | None = None) -> int:
    """An int in [lo, hi], else ConfigError naming the allowed range."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < lo
        or (hi is not None and value > hi)
    ):
        upper = "" if hi is None else f"..{hi}"
        raise ConfigError(f"{name} must be an int in {lo}{upper}, got {value!r}")
    return value


@dataclass(slots=True)
class PoolConfig:
    """Validated pool settings (see `Pool` for what each means)."""

    size: int
    min_size: int
    max_size: int
    name: str
    start_method: str
    max_queue: int | None
    on_queue_full: QueueFullPolicy
    queue_timeout: float | None
    task_timeout: float | None
    health_check_interval: float
    health_check_timeout: float
    health_check_max_misses: int
    max_tasks_per_worker: int | None
    max_memory_per_worker: int | None
    memory_check_interval: float
    session_affinity: Literal["hint", "strict"]
    session_ttl: float
    retry_backoff: float
    max_in_flight: int
    flush_interval: float
    start_timeout: float
    monitor: bool | str
    alerts: bool | str | os.PathLike[str] | None = None
    alert_state_dir: str | os.PathLike[str] | None = None
    stack_args: bool = True
    """Whether `worker_stack` shows the running task's arguments (off: they may be private)."""
    alert_setup: AlertSetup | None = field(default=None, init=False)
    """The loaded rules and channels (`alerts` read once, here), or None when alerting is off."""

    def __post_init__(self) -> None:
        self.min_size = check_int("min_size", self.min_size, 0)
        self.max_size = check_int("max_size", self.max_size, max(1, self.min_size))
        self.size = check_int("max_workers", self.size, max(1, self.min_size), self.max_size)
        if not isinstance(self.name, str) or not self.name or len(self.name) > 200:
            raise ConfigError(f"name must be a non-empty str (<= 200 chars), got {self.name!r}")
        if self.start_method not in START_METHODS:
            raise ConfigError(
                f"start_method must be one of {', '.join(START_METHODS)}, got {self.start_method!r}"
            )
        check_main_importable(self.start_method)
        if self.max_queue is not None:
            self.max_queue = check_int("max_queue", self.max_queue, 1)
        if self.on_queue_full not in ("raise", "block"):
            raise ConfigError(
                f"on_queue_full must be 'raise' or 'block', got {self.on_queue_full!r}"
            )
        self.queue_timeout = check_seconds("queue_timeout", self.queue_timeout, allow_none=True)
        self.task_timeout = check_seconds("task_timeout", self.task_timeout, allow_none=True)
        self.health_check_interval = (
            check_seconds("health_check_interval", self.health_check_interval) or 0.5
        )
        self.health_check_timeout = (
            check_seconds("health_check_timeout", self.health_check_timeout) or 2.0
        )
        self.health_check_max_misses = check_int(
            "health_check_max_misses", self.health_check_max_misses, 1, 1000
        )
        if self.max_tasks_per_worker is not None:
            self.max_tasks_per_worker = check_int(
                "max_tasks_per_worker", self.max_tasks_per_worker, 1
            )
        if self.max_memory_per_worker is not None:
            self.max_memory_per_worker = check_int(
                "max_memory_per_worker", self.max_memory_per_worker, 1 << 20
            )
        self.memory_check_interval = (
            check_seconds("memory_check_interval", self.memory_check_interval) or 1.0
        )
        if self.session_affinity not in ("hint", "strict"):
            raise ConfigError(
                f"session_affinity must be 'hint' or 'strict', got {self.session_affinity!r}"
            )
        self.session_ttl = check_seconds("session_ttl", self.session_ttl) or 300.0
        self.retry_backoff = check_seconds("retry_backoff", self.retry_backoff) or 0.05
        self.max_in_flight = check_int("max_in_flight", self.max_in_flight, 1, 65536)
        self.flush_interval = check_seconds("flush_interval", self.flush_interval) or 0.001
        self.start_timeout = check_seconds("start_timeout", self.start_timeout) or 30.0
        if not isinstance(self.stack_args, bool):
            raise ConfigError(f"stack_args must be True or False, got {self.stack_args!r}")
        if not isinstance(self.monitor, bool | str) or self.monitor == "":
            raise ConfigError(f"monitor must be True, False or a socket path, got {self.monitor!r}")
        from poolmon.runtime.alerting.setup import check_state_dir_setting, load_alert_setup

        check_state_dir_setting(self.alert_state_dir)
        self.alert_setup = load_alert_setup(self.alerts)  # a bad rule file fails Pool() here


def default_size() -> int:
    """Workers by default: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def check_main_importable(start_method: str) -> None:
    """Refuse up front a `__main__` that forkserver/spawn workers could not re-import.

    Those start methods re-run the main module by path in every worker (as the standard
    library does). When the script was read from stdin (`python - < script.py`), that path is
    `<stdin>`, every worker dies before it is ready, and the pool could only report the deaths;
    saying why at construction is kinder.
    """
    if start_method == "fork":
        return
    main = sys.modules.get("__main__")
    if main is None or getattr(getattr(main, "__spec__", None), "name", None):
        return  # run with -m, or embedded: workers import the module by name
    path = getattr(main, "__file__", None)
    if path is not None and not os.path.exists(path):
        raise ConfigError(
            f"start_method={start_method!r} workers re-import the main module from {path!r}, "
            "which is not a file (was the script read from stdin?); run it from a file, or "
            "pass start_method='fork'"
        )
