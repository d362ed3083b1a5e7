"""Auto-tuning decisions: one size change at a time, proven by a validation window or undone.

Pure logic, driven once a second by the pool's runtime wrapper with the time, the advisor's
findings, the current size and whether the pool is shutting down. It only ever changes the
pool's size, only on a **high**-confidence grow/shrink/CPU-bound finding, in steps of at most
`max_step` workers, inside `[min_size, max_size]`, and at most `max_changes_per_hour` times an
hour. After each change it waits `settle_s` (new workers start, the queue reacts), then
compares `validate_s` seconds after the change against the `baseline_s` seconds before it
(both measured `lag_s` behind real time, since task figures reach the pool's aggregator as
per-second rollups 2-3 s late):

* throughput: Welch's t-test on the per-second completion counts (unequal variances; the
  samples are ~30 seconds a side, so |t| >= 2 is a difference at roughly the 5 % level), plus
  a minimum effect of `min_gain` (5 %) so a significant but useless change is not kept;
* p99 time in the pool (queue wait + run, see `WindowStats`): worse when it grew by more than
  25 % with >= `min_tasks` tasks a side
  (the sketch's percentiles are within 1 %; 25 % is well above run-to-run jitter);
* error rate: worse when a two-proportion z-test gives z >= 3 and it rose by >= 1 point.

A grow is kept only if throughput is significantly better and neither p99 nor errors got
worse; a shrink is kept if nothing got significantly worse. Otherwise it is rolled back at
once, and the same change (from -> to) is not tried again for `cooldown_s`. A manual change
(a resize by a user or a monitor, or any control command) abandons a validation without
touching the human's change, and pauses auto-tuning for `manual_pause_s`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from poolmon.core.batchview import NS_PER_S
from poolmon.core.errors import ConfigError

if TYPE_CHECKING:
    from poolmon.core.aggregator import Aggregator

DecisionKind = Literal[
    "enabled", "disabled", "proposed", "applied", "kept", "rolled_back", "failed", "paused",
    "abandoned", "skipped",
]  # fmt: skip
SIZE_KINDS = frozenset({"grow", "shrink", "cpu_bound"})
"""Findings whose resize action auto-tuning may take."""
HIGH_CONFIDENCE = 0.8


@dataclass(frozen=True, slots=True)
class AutotuneConfig:
    """Bounds and pacing of auto-tuning (see module doc; the bench shortens the windows).

    `min_size`/`max_size` of None mean the pool's own bounds.
    """

    enabled: bool = True
    min_size: int | None = None
    max_size: int | None = None
    max_changes_per_hour: int = 6
    max_step: int = 2
    settle_s: float = 5.0
    baseline_s: float = 30.0
    validate_s: float = 30.0
    lag_s: float = 3.0
    cooldown_s: float = 600.0
    manual_pause_s: float = 300.0
    min_gain: float = 0.05
    min_tasks: int = 50

    def __post_init__(self) -> None:
        for name in ("settle_s", "baseline_s", "validate_s", "lag_s", "cooldown_s"):
            if not getattr(self, name) >= 0:
                raise ConfigError(f"autotune {name} must be >= 0, got {getattr(self, name)!r}")
        if self.baseline_s < 3 or self.validate_s < 3:
            raise ConfigError("autotune baseline_s and validate_s must be >= 3 s (a t-test)")
        if max(self.baseline_s, self.validate_s) + self.lag_s > 55:
            raise ConfigError("autotune windows + lag_s must fit the 60 s of 1-second slots")
        if self.max_step < 1 or self.max_changes_per_hour < 1:
            raise ConfigError("autotune max_step and max_changes_per_hour must be >= 1")
        lo, hi = self.min_size, self.max_size
        if lo is not None and (lo < 1 or (hi is not None and lo > hi)):
            raise ConfigError(f"autotune bounds {lo}..{hi} are invalid")


@dataclass(frozen=True, slots=True)
class WindowStats:
    """Tasks over a stretch of seconds: per-second completions, failures and p99 time in pool.

    `p99_ns` is the p99 queue wait plus the p99 run time: what a caller waits, bounded from
    above (the sum of the two p99s), so a grow that empties the queue counts as faster even if
    each task runs a little slower on a busier machine.
    """

    per_second: tuple[float, ...] = ()
    tasks: int = 0
    failed: int = 0
    p99_ns: float | None = None

    @property
    def throughput(self) -> float:
        """Mean completions per second (0 with no samples)."""
        return sum(self.per_second) / len(self.per_second) if self.per_second else 0.0

    def to_wire(self) -> dict[str, Any]:
        """Figures for a decision event."""
        return {
            "throughput_per_s": round(self.throughput, 2),
            "seconds": len(self.per_second),
            "tasks": self.tasks,
            "error_rate": round(self.failed / self.tasks, 4) if self.tasks else None,
            "p99_ns": self.p99_ns,
        }


def measure(agg: Aggregator, start_ns: int, end_ns: int) -> WindowStats:
    """Per-second figures of `[start_ns, end_ns)` (seconds without data are left out)."""
    thr = agg.series("throughput", start_ns, end_ns, 1).values
    bad = agg.series("failed", start_ns, end_ns, 1).values
    span = max(1, (end_ns - start_ns) // NS_PER_S)
    run = agg.series("latency_p99", start_ns, end_ns, int(span)).values
    wait = agg.series("queue_wait_p99", start_ns, end_ns, int(span)).values
    per_second = tuple(v for v in thr if v is not None)
    p99 = run[0] + (wait[0] or 0.0) if run and run[0] is not None else None
    return WindowStats(
        per_second,
        round(sum(per_second)),
        round(sum(v for v in bad if v is not None)),
        p99,
    )


def welch_t(a: Sequence[float], b: Sequence[float]) -> float:
    """Welch's t statistic of mean(a) - mean(b); +-inf when both have no variance."""
    na, nb = len(a), len(b)
    if na < 2 or nb < 2:
        return 0.0
    ma, mb = sum(a) / na, sum(b) / nb
    va = sum((x - ma) ** 2 for x in a) / (na - 1)
    vb = sum((x - mb) ** 2 for x in b) / (nb - 1)
    se = math.sqrt(va / na + vb / nb)
    if se == 0:
        return 0.0 if ma == mb else math.copysign(math.inf, ma - mb)
    return (ma - mb) / se


def errors_worse(before: WindowStats, after: WindowStats, min_tasks: int) -> bool:
    """Two-proportion z-test: the error rate rose by >= 1 point with z >= 3."""
    if before.tasks < min_tasks or after.tasks < min_tasks:
        return False
    pa, pb = after.failed / after.tasks, before.failed / before.tasks
    pooled = (after.failed + before.failed) / (after.tasks + before.tasks)
    se = math.sqrt(pooled * (1 - pooled) * (1 / after.tasks + 1 / before.tasks))
    return pa - pb >= 0.01 and (se == 0 or (pa - pb) / se >= 3)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The validation's outcome: keep or not, and why in words."""

    keep: bool
    reason: str
    t: float


def judge(before: WindowStats, after: WindowStats, grow: bool, cfg: AutotuneConfig) -> Verdict:
    """Compare the windows (see module doc)."""
    t = welch_t(after.per_second, before.per_second)
    mb, ma = before.throughput, after.throughput
    change = (ma - mb) / mb if mb else (math.inf if ma > 0 else 0.0)
    thr = f"throughput {mb:.1f} -> {ma:.1f}/s ({change:+.0%}, t={t:.1f})"
    enough = before.tasks >= cfg.min_tasks and after.tasks >= cfg.min_tasks
    if enough and before.p99_ns and after.p99_ns and after.p99_ns > 1.25 * before.p99_ns:
        return Verdict(False, f"p99 (wait + run) worse: {before.p99_ns / 1e6:.1f} -> "
                       f"{after.p99_ns / 1e6:.1f} ms; {thr}", t)  # fmt: skip
    if errors_worse(before, after, cfg.min_tasks):
        return Verdict(False, f"error rate worse; {thr}", t)
    if grow:
        if t >= 2.0 and change >= cfg.min_gain:
            return Verdict(True, f"better: {thr}", t)
        return Verdict(False, f"not better: {thr}", t)
    if t <= -2.0 and change <= -cfg.min_gain:
        return Verdict(False, f"worse: {thr}", t)
    return Verdict(True, f"no worse: {thr}", t)


@dataclass(frozen=True, slots=True)
class Decision:
    """One auto-tuning decision, as the `poolmon.autotune.decision` event carries it."""

    at_ns: int
    kind: DecisionKind
    reason: str
    from_size: int | None = None
    to_size: int | None = None
    finding: str = ""
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        """Plain values (event metadata, endpoint replies)."""
        return {
            "at_ns": self.at_ns,
            "kind": self.kind,
            "reason": self.reason,
            "from_size": self.from_size,
            "to_size": self.to_size,
            "finding": self.finding,
            "before": dict(self.before),
            "after": dict(self.after),
        }

    @classmethod
    def from_wire(cls, w: dict[str, Any]) -> Decision:
        """Inverse of `to_wire` (KeyError/TypeError on a malformed dict)."""
        return cls(
            int(w["at_ns"]),
            w["kind"],
            str(w["reason"]),
            w.get("from_size"),
            w.get("to_size"),
            str(w.get("finding", "")),
            dict(w.get("before") or {}),
            dict(w.get("after") or {}),
        )

    def text(self) -> str:
        """One line: `rolled back size 4 -> 2: not better: ...`."""
        change = (
            f" size {self.from_size} -> {self.to_size}"
            if self.from_size is not None and self.to_size is not None
            else ""
        )
        return f"{self.kind.replace('_', ' ')}{change}: {self.reason}"


@dataclass(frozen=True, slots=True)
class _Change:
    at_ns: int
    from_size: int
    to_size: int
    finding: str
    before: WindowStats


@dataclass(frozen=True, slots=True)
class Step:
    """What one tick decided: the decisions to report, and a size to apply (or None)."""

    decisions: tuple[Decision, ...] = ()
    resize_to: int | None = None
