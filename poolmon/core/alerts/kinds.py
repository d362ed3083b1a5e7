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
    """One evaluation of one rule: per instance value (in `values`), threshold, guard, condition."""

    values: Values
    thresholds: F64
    guard: B
    cond: B

    @property
    def keys(self) -> tuple[Inst, ...]:
        """The instances, in array order."""
        return self.values.keys

    @property
    def vals(self) -> F64:
        """The instances' values (NaN: no data)."""
        return self.values.vals

    @property
    def index(self) -> dict[Inst, int]:
        """Instance key -> position."""
        return self.values.index


@dataclass(slots=True)
class RuleState:
    """What a rule keeps between ticks: its samples (rate, anomaly) and a cached baseline."""

    samples: SampleMatrix | None = None
    started_s: int | None = None
    """When the rule was first evaluated: absence needs to have watched its whole window."""
    cached_version: int = -1
    cached: tuple[F64, F64] | None = None


def compare(vals: F64, op: str, bound: Bound) -> B:
    """`vals op bound` elementwise; NaN is never true."""
    ok = np.isfinite(vals)
    v = np.where(ok, vals, 0.0)
    if op in ("outside", "inside"):
        assert isinstance(bound, tuple)
        lo, hi = bound
        out = (v < lo) | (v > hi)
        if op == "inside":
            out = ~out
    else:
        assert not isinstance(bound, tuple)
        x = float(bound)
        out = {
            ">": v > x,
            ">=": v >= x,
            "<": v < x,
            "<=": v <= x,
            "==": v == x,
            "!=": v != x,
        }[op]
    return np.asarray(out & ok, dtype=np.bool_)


def holds_resolve(rule: Rule, value: float | None) -> bool:
    """Hysteresis: whether a firing alert's value still passes the rule's `resolve` bound."""
    if rule.resolve is None or value is None:
        return False
    return bool(compare(np.array([value]), rule.op, rule.resolve)[0])


def _thresholds(vals: F64, op: str, bound: Bound) -> F64:
    if isinstance(bound, tuple):
        lo, hi = bound
        if op == "inside":
            return np.full(len(vals), np.nan)
        mid = (lo + hi) / 2
        return np.where(np.isfinite(vals) & (vals < mid), lo, hi)
    return np.full(len(vals), float(bound))


def guard_mask(rule: Rule, reader: MetricReader, keys: tuple[Inst, ...]) -> B:
    """The rule's `when` guard per instance (all true without one)."""
    g = rule.when
    if g is None:
        return np.ones(len(keys), dtype=np.bool_)
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
    if rule.kind == "threshold":
        vals, thr = cur.vals, _thresholds(cur.vals, rule.op, rule.value)
        cond = compare(vals, rule.op, rule.value)
    elif rule.kind == "absence":
        vals = cur.vals
        thr = np.full(len(vals), np.nan)
        cond = ~np.isfinite(vals)
        if METRICS[rule.metric].counting:
            cond |= np.where(np.isfinite(vals), vals, 1.0) == 0
        if state.started_s is None:
            state.started_s = reader.now_s
        if reader.now_s - state.started_s < rule.window_s:
            cond[:] = False  # not watched for the whole window yet
    elif rule.kind == "rate":
        vals = _rate(rule, reader.now_s, cur, state)
        thr = _thresholds(vals, rule.op, rule.value)
        cond = compare(vals, rule.op, rule.value)
    elif rule.kind == "anomaly":
        vals, thr, cond = _anomaly(rule, reader.now_s, cur, state)
    else:
        raise ValueError(f"unknown rule kind {rule.kind!r}")
    guard = guard_mask(rule, reader, cur.keys)
    return Outcome(Values(cur.keys, vals), thr, guard, cond & guard)


def _rate(rule: Rule, now_s: int, cur: Values, state: RuleState) -> F64:
    if state.samples is None:
        state.samples = SampleMatrix(rule.span_s)
    sm = state.samples
    sm.add(now_s, cur)
    if state.cached_version != sm.version or state.cached is None:
        times, data = sm.between(now_s - rule.span_s, now_s)
        state.cached = slopes(times, data, MIN_SLOPE_POINTS, rule.span_s / 2)
        state.cached_version = sm.version
    slope, level = state.cached
    rate = slope * rule.per_s
    if rule.relative:
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(level > 0, rate / np.abs(level), np.nan)
    return sm.column_values(sm.data, cur.keys, rate)


def _anomaly(rule: Rule, now_s: int, cur: Values, state: RuleState) -> tuple[F64, F64, B]:
    if state.samples is None:
        state.samples = SampleMatrix(rule.baseline_s + rule.window_s)
    sm = state.samples
    sm.add(now_s, cur)
    if state.cached_version != sm.version or state.cached is None:
        times, data = sm.between(now_s - rule.baseline_s, now_s - rule.window_s)
        state.cached = robust_baseline(times, data, MIN_BASELINE_POINTS, rule.warmup_s)
        state.cached_version = sm.version
    med_c, mad_c = state.cached
    med = sm.column_values(sm.data, cur.keys, med_c)
    mad = sm.column_values(sm.data, cur.keys, mad_c)
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
    thr = np.full(len(keys), float(need))
    cond = counts >= need
    guard = guard_mask(rule, reader, keys) if rule.when else np.ones(len(keys), np.bool_)
    return Outcome(Values(keys, counts), thr, guard, cond & guard)
