"""How each rule kind turns metric values into "condition true" per instance, all at once.

`evaluate(rule, reader, state, firing)` returns an `Outcome`: the instances' keys, their values
(what the alert shows), the thresholds they are compared with and the condition mask, as numpy
arrays. The engine then walks only the instances whose condition is true or which are already
active, so a quiet rule costs one vectorised comparison. NaN (no data) never satisfies a
condition; only absence rules look for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from poolmon.core.alerts.metrics import METRICS, Inst, MetricReader, Values
from poolmon.core.alerts.rules import Bound, Rule
from poolmon.core.alerts.samples import SampleMatrix, robust_baseline, slopes

F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]
MIN_SLOPE_POINTS = 5
"""Samples a slope needs (and half its span covered) before a rate rule has a value."""
MIN_BASELINE_POINTS = 10
"""Samples a baseline needs: about ten before a smoothed level settles (NIST, metrics-anchors
§2.1)."""
MAD_SCALE = 0.6745
"""MAD * 1/0.6745 estimates the standard deviation of normal data (Iglewicz & Hoaglin)."""


@dataclass(slots=True)
class Outcome:
    """One evaluation of one rule: per instance value, threshold, guard and condition.

    `src` supplies the instance keys and their index; it is the reader's cached `Values`, so
    a thousand rules over the same metric share one index. `thresholds` is one number when it
    is the same for every instance, `guard` None when the rule has none (all true).
    """

    src: Values
    vals: F64
    thresholds: F64 | float
    guard: B | None
    cond: B

    @property
    def keys(self) -> tuple[Inst, ...]:
        """The instances, in array order."""
        return self.src.keys

    @property
    def index(self) -> dict[Inst, int]:
        """Instance key -> position."""
        return self.src.index

    def threshold(self, i: int) -> float | None:
        """Instance `i`'s threshold (None where there is none)."""
        t = self.thresholds if isinstance(self.thresholds, float) else float(self.thresholds[i])
        return None if t != t else t

    def guard_at(self, i: int) -> bool:
        """Whether instance `i`'s guard holds."""
        return True if self.guard is None else bool(self.guard[i])


@dataclass(slots=True)
class RuleState:
    """What a rule keeps between ticks: its samples (rate, anomaly) and a cached baseline."""

    samples: SampleMatrix | None = None
    """Shared by every rule sampling the same metric, window, split and horizon."""
    started_s: int | None = None
    """When the rule was first evaluated: absence needs to have watched its whole window."""


SampleKey = tuple[str, int, str | None, int]
"""What a sample matrix holds: metric, window, split label, horizon (s)."""


def new_state(rule: Rule, shared: dict[SampleKey, SampleMatrix]) -> RuleState:
    """A rule's between-ticks state; rate and anomaly rules share samples through `shared`."""
    if rule.kind == "rate":
        horizon = rule.span_s
    elif rule.kind == "anomaly":
        horizon = rule.baseline_s + rule.window_s
    else:
        return RuleState()
    key = (rule.metric, rule.window_s, rule.by, horizon)
    sm = shared.get(key)
    if sm is None:
        sm = shared[key] = SampleMatrix(horizon)
    return RuleState(samples=sm)


def compare(vals: F64, op: str, bound: Bound) -> B:
    """`vals op bound` elementwise; NaN is never true."""
    if isinstance(bound, tuple):
        return compare_to(vals, op, float(bound[0]), float(bound[1]))
    return compare_to(vals, op, float(bound), float(bound))


def compare_to(vals: F64, op: str, lo: F64 | float, hi: F64 | float) -> B:
    """`vals op lo` (or the band `[lo, hi]`), broadcasting; NaN is never true."""
    if op == "outside":
        return np.asarray((vals < lo) | (vals > hi))
    if op == "inside":
        return np.asarray((vals >= lo) & (vals <= hi))
    if op == ">":
        return np.greater(vals, lo)
    if op == ">=":
        return np.greater_equal(vals, lo)
    if op == "<":
        return np.less(vals, lo)
    if op == "<=":
        return np.less_equal(vals, lo)
    if op == "==":
        return np.equal(vals, lo)
    if op == "!=":
        return np.not_equal(vals, lo) & ~np.isnan(vals)
    raise ValueError(f"unknown comparison {op!r}")


def holds_resolve(rule: Rule, value: float | None) -> bool:
    """Hysteresis: whether a firing alert's value still passes the rule's `resolve` bound."""
    if rule.resolve is None or value is None:
        return False
    return bool(compare(np.array([value]), rule.op, rule.resolve)[0])


def thresholds_of(vals: F64, op: str, bound: Bound) -> F64 | float:
    """What each instance is compared with: the bound, or the band edge nearest its value."""
    if isinstance(bound, tuple):
        lo, hi = bound
        if op == "inside":
            return np.nan
        mid = (lo + hi) / 2
        return np.where(vals < mid, lo, hi)
    return float(bound)


def guard_mask(rule: Rule, reader: MetricReader, keys: tuple[Inst, ...]) -> B | None:
    """The rule's `when` guard per instance (None without one: all true)."""
    g = rule.when
    if g is None:
        return None
    window = g.window_s or rule.window_s
    by = rule.by if rule.by in METRICS[g.metric].by else None
    got = reader.read(g.metric, window, by)
    if by is None:
        vals = np.full(len(keys), got.vals[0] if len(got.vals) else np.nan)
    else:
        idx = got.index
        vals = np.array([got.vals[idx[k]] if k in idx else np.nan for k in keys], np.float64)
    return compare(vals, g.op, g.value)


FiringOf = Callable[[str], set[Inst]]
"""Firing instance keys of a rule this tick (composites read their parts through it)."""


def evaluate(rule: Rule, reader: MetricReader, state: RuleState, firing: FiringOf) -> Outcome:
    """One rule's outcome at the reader's instant (see module doc)."""
    if rule.kind == "composite":
        return _composite(rule, reader, firing)
    cur = reader.read(rule.metric, rule.window_s, rule.by)
    thr: F64 | float
    if rule.kind == "threshold":
        vals, thr = cur.vals, thresholds_of(cur.vals, rule.op, rule.value)
        cond = compare(vals, rule.op, rule.value)
    elif rule.kind == "absence":
        vals = cur.vals
        thr = np.nan
        cond = ~np.isfinite(vals)
        if METRICS[rule.metric].counting:
            cond |= np.where(np.isfinite(vals), vals, 1.0) == 0
        if state.started_s is None or state.started_s > reader.now_s:
            state.started_s = reader.now_s
        if reader.now_s - state.started_s < rule.window_s:
            cond[:] = False  # not watched for the whole window yet
    elif rule.kind == "rate":
        vals = _rate(rule, reader.now_s, cur, state)
        thr = thresholds_of(vals, rule.op, rule.value)
        cond = compare(vals, rule.op, rule.value)
    elif rule.kind == "anomaly":
        vals, thr, cond = _anomaly(rule, reader.now_s, cur, state)
    else:
        raise ValueError(f"unknown rule kind {rule.kind!r}")
    guard = guard_mask(rule, reader, cur.keys)
    return Outcome(cur, vals, thr, guard, cond if guard is None else cond & guard)


def _samples(rule: Rule, state: RuleState) -> SampleMatrix:
    if state.samples is None:
        state.samples = new_state(rule, {}).samples
    assert state.samples is not None
    return state.samples


def _rate(rule: Rule, now_s: int, cur: Values, state: RuleState) -> F64:
    sm = _samples(rule, state)
    sm.add(now_s, cur)

    def fit() -> tuple[F64, F64]:
        times, data = sm.between(now_s - rule.span_s, now_s)
        return slopes(times, data, MIN_SLOPE_POINTS, rule.span_s / 2)

    slope, level = sm.memo(("slope",), fit)
    rate = slope * rule.per_s
    if rule.relative:
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(level > 0, rate / np.abs(level), np.nan)
    return sm.column_values(cur.keys, rate)


def _anomaly(rule: Rule, now_s: int, cur: Values, state: RuleState) -> tuple[F64, F64, B]:
    sm = _samples(rule, state)
    sm.add(now_s, cur)

    def baseline() -> tuple[F64, F64]:
        times, data = sm.between(now_s - rule.baseline_s, now_s - rule.window_s)
        return robust_baseline(times, data, MIN_BASELINE_POINTS, rule.warmup_s)

    med_c, mad_c = sm.memo(("baseline", rule.warmup_s), baseline)
    med = sm.column_values(cur.keys, med_c)
    mad = sm.column_values(cur.keys, mad_c)
    half = np.maximum(rule.deviations * mad / MAD_SCALE, rule.margin * np.abs(med))
    vals = cur.vals
    upper, lower = med + half, med - half
    above = compare(vals - upper, ">", 0.0)
    below = compare(vals - lower, "<", 0.0)
    if rule.direction == "above":
        cond, thr = above, upper
    elif rule.direction == "below":
        cond, thr = below, lower
    else:
        cond = above | below
        thr = np.where(np.isfinite(vals) & (vals < med), lower, upper)
    return vals, thr, cond


def _composite(rule: Rule, reader: MetricReader, firing: FiringOf) -> Outcome:
    parts = [firing(name) for name in rule.rules]
    need = len(parts) if rule.mode == "all" else 1
    if rule.by is None:
        keys: tuple[Inst, ...] = ((),)
        counts = np.array([float(sum(1 for p in parts if p))])
    else:
        by = rule.by
        label_values = sorted({dict(k).get(by, "") for p in parts for k in p} - {""})
        keys = tuple(((by, v),) for v in label_values)
        counts = np.array(
            [
                float(sum(1 for p in parts if any(dict(k).get(by) == v for k in p)))
                for v in label_values
            ]
        )
    cond = counts >= need
    guard = guard_mask(rule, reader, keys)
    src = Values(keys, counts)
    return Outcome(src, counts, float(need), guard, cond if guard is None else cond & guard)
