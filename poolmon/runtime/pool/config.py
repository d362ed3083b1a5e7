"""The pool's settings, validated once so every bad value fails at construction, clearly.

Why a separate dataclass: the same checks guard the constructor and the runtime control
methods (`resize`, `set_task_timeout`, ...), which the monitor endpoint calls from another
thread with values typed by an operator.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import pickle
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.context import BaseContext
from typing import TYPE_CHECKING, Any, Literal

from poolmon.core.advisor.autotune import AutotuneConfig
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
    initializer: Callable[..., object] | None = None
    initargs: tuple[Any, ...] = ()
    alerts: bool | str | os.PathLike[str] | None = None
    history_seconds: int = 960
    history_raw_mib: float = 16.0
    alert_state_dir: str | os.PathLike[str] | None = None
    stack_args: bool = True
    """Whether `worker_stack` shows the running task's arguments (off: they may be private)."""
    alert_setup: AlertSetup | None = field(default=None, init=False)
    """The loaded rules and channels (`alerts` read once, here), or None when alerting is off."""

    def __post_init__(self) -> None:
        self.min_size = check_int("min_size", self.min_size, 0)
        self.max_size = check_int("max_size", self.max_size, max(1, self.min_size))
        self.size = check_max_workers(self.size, self.min_size, self.max_size)
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
        if self.initializer is not None and not callable(self.initializer):
            raise ConfigError(f"initializer must be a callable or None, got {self.initializer!r}")
        try:
            self.initargs = tuple(self.initargs)
        except TypeError:
            raise ConfigError(
                f"initargs must be a tuple of arguments for initializer, got {self.initargs!r}"
            ) from None
        from poolmon.runtime.alerting.setup import check_state_dir_setting, load_alert_setup

        self.history_seconds = check_int("history_seconds", self.history_seconds, 10, 86_400)
        raw = self.history_raw_mib
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0.25 <= raw <= 4096:
            raise ConfigError(f"history_raw_mib must be a number in 0.25..4096, got {raw!r}")
        self.history_raw_mib = float(raw)
        check_state_dir_setting(self.alert_state_dir)
        self.alert_setup = load_alert_setup(self.alerts)  # a bad rule file fails Pool() here

    def init_payload(self) -> bytes | tuple[Callable[..., object], tuple[Any, ...]] | None:
        """What each worker gets to run `initializer(*initargs)` before its first task.

        Pickled once here, so that an initializer or argument that does not pickle fails the
        constructor with a clear error rather than every worker start; under "fork" the
        objects themselves travel (nothing is pickled, as with ProcessPoolExecutor).
        """
        if self.initializer is None:
            return None
        if self.start_method == "fork":
            return (self.initializer, self.initargs)
        try:
            return pickle.dumps((self.initializer, self.initargs), pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            raise ConfigError(
                f"initializer {self.initializer!r} and its initargs must pickle to reach the "
                f"workers ({exc})"
            ) from exc


def check_max_workers(size: object, min_size: int, max_size: int) -> int:
    """`max_workers`, refused with a message saying what is wrong with it and how to fix it."""
    if isinstance(size, bool) or not isinstance(size, int):
        raise ConfigError(
            f"max_workers must be an int (the number of worker processes) or None, got "
            f"{size!r} ({type(size).__name__})"
        )
    if size <= 0:
        raise ConfigError(f"max_workers must be greater than 0, got {size}")
    if size < min_size:
        raise ConfigError(f"max_workers={size} is below min_size={min_size}")
    if size > max_size:
        raise ConfigError(
            f"max_workers={size} is above max_size={max_size} (raise max_size, or leave it "
            "unset: it defaults to max(max_workers, 4 x CPUs))"
        )
    return size


def resolve_start_method(mp_context: object, start_method: str | None) -> str:
    """The start method to use, from ProcessPoolExecutor's `mp_context` or our `start_method`.

    poolmon starts its workers through the multiprocessing context of that start method, so a
    context maps exactly to its name; one that is not a multiprocessing context, or whose
    method poolmon does not support, or that disagrees with `start_method`, is refused.
    """
    if mp_context is None:
        return "forkserver" if start_method is None else start_method
    if not isinstance(mp_context, BaseContext):
        raise ConfigError(
            "mp_context must be a multiprocessing context (multiprocessing.get_context(...)), "
            f"got {mp_context!r}"
        )
    method = mp_context.get_start_method()
    if method not in START_METHODS:
        raise ConfigError(
            f"mp_context uses the start method {method!r}, which poolmon cannot honour "
            f"(supported: {', '.join(START_METHODS)})"
        )
    if start_method is not None and start_method != method:
        raise ConfigError(
            f"mp_context (start method {method!r}) and start_method={start_method!r} disagree; "
            "pass one of them"
        )
    return method


def check_not_bootstrapping() -> None:
    """Refuse to create a pool while a worker process is still importing the main module.

    forkserver and spawn workers re-run the main module (as `__mp_main__`); in a script without
    `if __name__ == "__main__":` that re-run creates a pool of its own, which used to hang
    silently. multiprocessing flags that phase (`_inheriting`) and refuses to start a process
    during it; this refuses the pool at once, with the fix.
    """
    if getattr(multiprocessing.process.current_process(), "_inheriting", False):
        raise RuntimeError(
            "a poolmon.Pool was created while a worker process was importing the main module: "
            "with the forkserver and spawn start methods every worker re-runs the main "
            "module, so a script that creates a pool must do it under "
            "`if __name__ == \"__main__\":` (see 'Safe importing of main module' in the "
            "multiprocessing docs)"
        )


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


def autotune_config(autotune: object, monitor: object) -> AutotuneConfig:
    """The `autotune` argument as a config; ConfigError for a bad value or no endpoint."""
    if isinstance(autotune, AutotuneConfig):
        config = autotune
    elif isinstance(autotune, bool):
        config = AutotuneConfig(enabled=autotune)
    else:
        raise ConfigError(f"autotune must be True, False or an AutotuneConfig, got {autotune!r}")
    if config.enabled and monitor is False:
        raise ConfigError("autotune needs the monitor endpoint (it runs there): monitor=False")
    return config
