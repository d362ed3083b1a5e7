"""Many threshold rules over one metric, compared in one numpy operation.

A thousand rules are mostly thresholds over a few metrics ("error_rate by op over 5m > x" for
a dozen teams' x). Evaluating them one by one costs microseconds of Python each; grouping
every threshold rule by `(metric, window, by, op, guard)` lets one comparison of a
`rules x instances` matrix find the few rules with anything true, and only those (and rules
with alerts already active) go through the lifecycle step. Results are identical to
evaluating each rule alone (`kinds.evaluate`), which the tests check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from poolmon.core.alerts.kinds import Outcome, compare_to, guard_mask, thresholds_of
from poolmon.core.alerts.metrics import MetricReader, Values
from poolmon.core.alerts.rules import BAND_OPS, Guard, Rule

F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Group:
    """Threshold rules sharing metric, window, split and operator; their bounds as arrays."""

    metric: str
    window_s: int
    by: str | None
    op: str
    when: Guard | None
    rules: tuple[Rule, ...]
    lo: F64
    hi: F64

    def conditions(self, vals: F64) -> B:
        """`(rules, instances)` condition matrix, guard left out; NaN values are never true."""
        return compare_to(vals[None, :], self.op, self.lo[:, None], self.hi[:, None])

    def evaluate(self, reader: MetricReader) -> tuple[Values, B, B | None]:
        """The shared values, the condition matrix (guard applied) and the guard row."""
        src = reader.read(self.metric, self.window_s, self.by)
        cond = self.conditions(src.vals)
        guard = guard_mask(self.rules[0], reader, src.keys)
        return src, (cond if guard is None else cond & guard[None, :]), guard

    def outcome(self, j: int, src: Values, cond: B, guard: B | None) -> Outcome:
        """Rule `j`'s outcome, given its matrix row `cond`."""
        rule = self.rules[j]
        return Outcome(src, src.vals, thresholds_of(src.vals, rule.op, rule.value), guard, cond)


def groupable(rule: Rule) -> bool:
    """Threshold rules are evaluated in groups (those with the same guard together)."""
    return rule.kind == "threshold"


def make_groups(rules: Sequence[Rule]) -> list[Group]:
    """Group the groupable rules (order within a group follows `rules`)."""
    by_key: dict[tuple[str, int, str | None, str, Guard | None], list[Rule]] = {}
    for r in rules:
        if groupable(r):
            by_key.setdefault((r.metric, r.window_s, r.by, r.op, r.when), []).append(r)
    out = []
    for (metric, window, by, op, when), members in by_key.items():
        if op in BAND_OPS:
            lo = np.array([r.value[0] for r in members if isinstance(r.value, tuple)])
            hi = np.array([r.value[1] for r in members if isinstance(r.value, tuple)])
        else:
            lo = np.array([float(r.value) for r in members if not isinstance(r.value, tuple)])
            hi = lo
        out.append(Group(metric, window, by, op, when, tuple(members), lo, hi))
    return out
