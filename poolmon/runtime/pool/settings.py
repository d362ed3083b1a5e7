"""The pool's run-time settings: what an operator may change while it runs, and the change.

Why one registry: the endpoint's `settings`/`set` commands, `poolmon tune` and the app's tuning
screen all show and change the same settings, and each needs the value now, the range the pool
accepts (derived from the pool's own configuration, never hard-coded in a UI), a unit and a
line of help. A `set` is all or nothing: every value is checked (`poolmon.core.tuning`) before
anything is applied, and changes are serialised by one lock, so two operators cannot
interleave half-applied changes.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal

from poolmon.core.errors import ConfigError
from poolmon.core.tuning import (
    OP_TIMEOUT_PREFIX,
    SettingSpec,
    Value,
    op_timeout_spec,
    validate_changes,
)
from poolmon.runtime.pool.config import default_size

if TYPE_CHECKING:
    from poolmon.runtime.pool.pool import Pool

TIMEOUT_RANGE_S: Final = (0.01, 7 * 24 * 3600.0)
"""Task timeouts (default and per operation): shorter kills every worker, longer is no limit."""
HEALTH_RANGE_S: Final = (0.01, 3600.0)
"""Health-check interval, the one range for `Pool.set_health_check_interval`, the `set` command
and the endpoint's `set_health_check_interval` (`endpoint.control.Limits`): a check is a
timestamp comparison per worker, so even 100 a second is cheap; an hour is the longest useful."""
SIZE_CAP_FLOOR: Final = 64
"""`max_size` may be raised to the largest of this, 4 x CPUs and the configured max_size."""
QUEUE_BOUND_MAX: Final = 10_000_000
"""Largest `queue_bound` (each queued task holds its encoded arguments in memory)."""
RECYCLE_TASKS_MAX: Final = 1_000_000_000
"""Largest `recycle_after_tasks`."""
RSS_MIB_RANGE: Final = (1.0, float(1 << 20))
"""`recycle_above_rss_mib`: 1 MiB .. 1 TiB."""
SAMPLE_RATES: Final = (1.0, 0.5, 0.1, 0.01, 0.001)
"""`telemetry_sample_rate` choices: the share of successful task rows kept (errors: all)."""
MAX_OP_ROWS: Final = 64
"""Per-operation timeout rows listed by `settings` (every op with a timeout, then seen ops)."""
MIB: Final = 1 << 20

_lock = threading.Lock()  # one settings change at a time, across every pool in the process


def size_cap(pool: Pool) -> int:
    """The largest `max_size` an operator may set for this pool."""
    return max(SIZE_CAP_FLOOR, 4 * default_size(), pool.max_size, pool.size)


@dataclass(frozen=True, slots=True)
class Current:
    """The values the settings are described from (a pool's, or hand-built for a test).

    Attributes mirror `PoolConfig` (`task_timeout`, `max_tasks_per_worker`, ...), plus
    `size_cap` (see `size_cap`), `sample_every` (the telemetry's task sampling stride),
    `op_timeouts` (op -> seconds) and `ops` (operations the pool has seen).
    """

    size: int
    min_size: int
    max_size: int
    size_cap: int
    task_timeout: float | None = None
    health_check_interval: float = 0.5
    max_tasks_per_worker: int | None = None
    max_memory_per_worker: int | None = None
    max_queue: int | None = None
    on_queue_full: str = "raise"
    sample_every: int = 1
    op_timeouts: Mapping[str, float] = field(default_factory=dict)
    ops: Sequence[str] = ()


def current(pool: Pool) -> Current:
    """What `pool`'s settings are now."""
    cfg = pool._cfg
    return Current(
        size=pool.size,
        min_size=cfg.min_size,
        max_size=cfg.max_size,
        size_cap=size_cap(pool),
        task_timeout=cfg.task_timeout,
        health_check_interval=cfg.health_check_interval,
        max_tasks_per_worker=cfg.max_tasks_per_worker,
        max_memory_per_worker=cfg.max_memory_per_worker,
        max_queue=cfg.max_queue,
        on_queue_full=cfg.on_queue_full,
        sample_every=pool.telemetry.task_sample_every,
        op_timeouts=pool.op_timeouts(),
        ops=[op for op in pool._ft.ops if op],
    )


def describe(pool: Pool) -> list[SettingSpec]:
    """Every run-time setting of `pool` with its current value and accepted range."""
    return specs_of(current(pool))


def specs_of(cfg: Current) -> list[SettingSpec]:
    """The settings rows for these values, with the ranges the pool accepts."""
    cap = cfg.size_cap
    lo_t, hi_t = TIMEOUT_RANGE_S
    rss = cfg.max_memory_per_worker
    every = cfg.sample_every
    timeout = SettingSpec(
        "task_timeout_s",
        cfg.task_timeout,
        "float",
        lo_t,
        hi_t,
        unit="s",
        help="default limit on a task's run time; its worker is killed and replaced",
        nullable=True,
        none_means="no timeout",
    )
    specs = [
        SettingSpec(
            "size",
            cfg.size,
            "int",
            max(1, cfg.min_size),
            cfg.max_size,
            unit="workers",
            help="worker processes; shrinking lets running tasks finish",
        ),
        SettingSpec(
            "min_size", cfg.min_size, "int", 0, cap, unit="workers", help="lowest size allowed"
        ),
        SettingSpec(
            "max_size",
            cfg.max_size,
            "int",
            max(1, cfg.min_size),
            cap,
            unit="workers",
            help="highest size allowed",
        ),
        timeout,
        SettingSpec(
            "health_check_interval_s",
            cfg.health_check_interval,
            "float",
            *HEALTH_RANGE_S,
            unit="s",
            help="how often worker heartbeats are checked (frozen workers are replaced)",
        ),
        SettingSpec(
            "recycle_after_tasks",
            cfg.max_tasks_per_worker,
            "int",
            1,
            RECYCLE_TASKS_MAX,
            unit="tasks",
            help="replace a worker after this many tasks (for leaks)",
            nullable=True,
            none_means="never",
        ),
        SettingSpec(
            "recycle_above_rss_mib",
            None if rss is None else round(rss / MIB, 3),
            "float",
            *RSS_MIB_RANGE,
            unit="MiB",
            help="replace a worker whose memory (RSS) exceeds this, after its task",
            nullable=True,
            none_means="no limit",
        ),
        SettingSpec(
            "queue_bound",
            cfg.max_queue,
            "int",
            1,
            QUEUE_BOUND_MAX,
            unit="tasks",
            help="tasks that may wait for a worker; more are refused or block",
            nullable=True,
            none_means="unbounded",
        ),
        SettingSpec(
            "on_queue_full",
            cfg.on_queue_full,
            "choice",
            choices=("raise", "block"),
            help="when the queue is full: raise QueueFull, or block the submitter",
        ),
        SettingSpec(
            "telemetry_sample_rate",
            1.0 if every == 1 else round(1 / every, 6),
            "choice",
            choices=SAMPLE_RATES,
            unit="share",
            help="share of successful task rows kept for monitors (errors always, totals exact)",
        ),
    ]
    specs.extend(_op_rows(cfg, timeout))
    return specs


def _op_rows(cfg: Current, template: SettingSpec) -> list[SettingSpec]:
    """One row per operation with a timeout, then per operation the pool has seen."""
    set_now = cfg.op_timeouts
    seen = [op for op in cfg.ops if op not in set_now]
    names = sorted(set_now) + sorted(seen)
    return [op_timeout_spec(op, template, set_now.get(op)) for op in names[:MAX_OP_ROWS]]


def apply(
    pool: Pool,
    changes: Mapping[str, object],
    *,
    reason: Literal["user", "control", "autotune"] = "user",
) -> dict[str, tuple[Value, Value]]:
    """Check every change, then apply them all; returns {key: (from, to)} of what changed.

    Raises ConfigError with every reason when any value is refused (nothing is changed then).
    Values equal to the current ones are accepted and left out of the result. `reason` is
    what a resize reports (`poolmon.pool.resize`).
    """
    with _lock:
        specs = {s.key: s for s in describe(pool)}
        values = validate_changes(specs, changes)
        before = {
            key: specs[key].value if key in specs else None for key in values
        }  # an op with no row yet: no timeout of its own
        if pool.closed:
            raise ConfigError("the pool is shut down; nothing was changed")
        changed = {k: (before[k], v) for k, v in values.items() if before[k] != v}
        bounds = (pool.min_size, pool.max_size)
        try:
            _apply(pool, {k: to for k, (_, to) in changed.items()}, reason)
        except Exception:
            # Only the resize can still fail (a shutdown racing this change), and it runs
            # before anything but the widened bounds: put those back, so nothing changed.
            pool.set_size_bounds(*bounds)
            raise
        return changed


def _apply(
    pool: Pool, values: Mapping[str, Value], reason: Literal["user", "control", "autotune"]
) -> None:
    cfg = pool._cfg
    if "min_size" in values or "max_size" in values:
        lo = _int(values.get("min_size", cfg.min_size))
        hi = _int(values.get("max_size", cfg.max_size))
        # widen first so the resize below is allowed; the end state was checked as a whole
        pool.set_size_bounds(min(lo, cfg.min_size, pool.size), max(hi, cfg.max_size, pool.size))
    size = values.get("size")
    if isinstance(size, int) and size != pool.size:
        pool.resize(size, reason=reason)
    if "min_size" in values or "max_size" in values:
        pool.set_size_bounds(lo, hi)
    for key, value in values.items():
        if key == "task_timeout_s":
            pool.set_task_timeout(_opt_float(value))
        elif key == "health_check_interval_s":
            pool.set_health_check_interval(float(_number(value)))
        elif key == "recycle_after_tasks":
            pool.set_recycle_after_tasks(None if value is None else _int(value))
        elif key == "recycle_above_rss_mib":
            pool.set_recycle_above_rss(None if value is None else int(_number(value) * MIB))
        elif key == "queue_bound":
            pool.set_queue_bound(None if value is None else _int(value))
        elif key == "on_queue_full":
            pool.set_queue_policy("block" if value == "block" else "raise")
        elif key == "telemetry_sample_rate":
            pool.telemetry.set_task_sampling(max(1, round(1 / _number(value))))
        elif key.startswith(OP_TIMEOUT_PREFIX):
            pool.set_op_timeout(key[len(OP_TIMEOUT_PREFIX) :], _opt_float(value))


def _number(value: Value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"expected a number, got {value!r}")  # validate_changes rules it out
    return value


def _int(value: Value) -> int:
    return int(_number(value))


def _opt_float(value: Value) -> float | None:
    return None if value is None else float(_number(value))
