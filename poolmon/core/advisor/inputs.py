"""What the advisor reads: snapshots over three windows, the machine's cores, the pool's settings.

The engine is pure, so everything it needs comes in here: the aggregator's snapshots over 1, 5
and 15 minutes (the app takes them from its own aggregator, the pool from its insight
aggregator), the number of cores the pool may use (read by the caller; core code reads no OS
state), and the pool's current settings as the `settings` endpoint command reports them
(None when unknown: findings that depend on a setting then say so and lose confidence).
`Thresholds` holds every number a rule compares against, with the reason in docs/ADVISOR.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from poolmon.core.snapshot import PoolSnapshot, Series

if TYPE_CHECKING:
    from poolmon.core.aggregator import Aggregator

WINDOWS: Final = (60, 300, 900)
"""The windows the advisor reads."""


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Every limit the rules use (docs/ADVISOR.md gives the reason for each)."""

    min_covered_s: int = 30
    grow_utilization: float = 0.8
    queue_growth_per_s: float = 0.2
    shrink_utilization: float = 0.6
    shrink_covered_s: int = 600
    cpu_bound_percent: float = 70.0
    io_bound_percent: float = 35.0
    io_cpu_unknown: float = 15.0
    cpu_runnable: float = 0.6
    io_runnable: float = 0.3
    max_grow_factor: float = 2.0
    leak_min_points: int = 8
    leak_min_r2: float = 0.8
    leak_min_mib_per_h: float = 8.0
    leak_min_growth: float = 0.10
    timeout_near: float = 0.8
    timeout_min_count: int = 3
    tail_ratio: float = 10.0
    tail_warn_ns: float = 1e9
    tail_warn_ratio: float = 30.0
    tail_min_count: int = 1000
    dominant_share: float = 0.7
    op_error_rate: float = 0.05
    op_error_min: int = 10
    worker_error_ratio: float = 5.0
    crash_loop_exits: int = 3
    affinity_min_routed: int = 100
    affinity_hit_rate: float = 0.5


DEFAULT_THRESHOLDS: Final = Thresholds()


@dataclass(frozen=True, slots=True)
class AdvisorInput:
    """Everything one advisor run reads (see module doc).

    Attributes:
        snapshots: window_s -> snapshot, for 60, 300 and 900 s.
        cores: CPUs the pool's workers may run on.
        settings: Current settings by key (`size`, `task_timeout_s`, `op_timeout_s.<op>`,
            `recycle_above_rss_mib`, ...), or None when unknown.
        max_size: The pool's upper bound for its size, when known.
        min_size: Its lower bound.
    """

    snapshots: Mapping[int, PoolSnapshot]
    cores: int = 1
    settings: Mapping[str, Any] | None = None
    max_size: int | None = None
    min_size: int = 1

    def snap(self, window_s: int) -> PoolSnapshot:
        """The snapshot over `window_s` (an empty one when not given)."""
        return self.snapshots.get(window_s) or PoolSnapshot(window_s=window_s)

    def setting(self, key: str) -> Any:
        """A setting's value; None when unset or unknown (see `knows`)."""
        return None if self.settings is None else self.settings.get(key)

    @property
    def knows_settings(self) -> bool:
        """Whether the pool's settings were given."""
        return self.settings is not None


def gather(
    agg: Aggregator,
    cores: int,
    settings: Mapping[str, Any] | None = None,
    *,
    max_size: int | None = None,
    min_size: int = 1,
) -> AdvisorInput:
    """Build the input from an aggregator (the pool's insight, or a monitor's own)."""
    return AdvisorInput(
        {w: agg.snapshot(w) for w in WINDOWS},
        cores,
        settings,
        max_size=_bound(settings, "max_size", max_size),
        min_size=_bound(settings, "min_size", min_size) or 1,
    )


def _bound(settings: Mapping[str, Any] | None, key: str, default: int | None) -> int | None:
    value = None if settings is None else settings.get(key)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def trend(series: Series) -> tuple[float, float, int]:
    """Least-squares slope per second, R² and points used, over the non-missing points.

    Returns (0, 0, n) with fewer than 3 points or no spread in time.
    """
    step_s = series.step_ns / 1e9
    pts = [(i * step_s, v) for i, v in enumerate(series.values) if v is not None]
    n = len(pts)
    if n < 3:
        return 0.0, 0.0, n
    mx = sum(x for x, _ in pts) / n
    my = sum(y for _, y in pts) / n
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    syy = sum((y - my) ** 2 for _, y in pts)
    sxy = sum((x - mx) * (y - my) for x, y in pts)
    if sxx == 0:
        return 0.0, 0.0, n
    slope = sxy / sxx
    r2 = (sxy * sxy) / (sxx * syy) if syy > 0 else 0.0
    return slope, r2, n


def last_value(series: Series) -> float | None:
    """The newest non-missing point."""
    return next((v for v in reversed(series.values) if v is not None), None)


def nice_up(value: float, steps: Sequence[float] = (1, 1.5, 2, 3, 5, 7.5)) -> float:
    """Round up to a readable number (1, 1.5, 2, 3, 5, 7.5 times a power of ten)."""
    if value <= 0:
        return value
    exp = math.floor(math.log10(value))
    for s in (*steps, 10):
        candidate = s * 10**exp
        if candidate >= value * (1 - 1e-9):
            return float(candidate)
    return float(10 ** (exp + 1))
