"""Many threshold rules over one metric, compared in one numpy operation.

A thousand rules are mostly thresholds over a few metrics ("error_rate by op over 5m > x" for
a dozen teams' x). Evaluating them one by one costs microseconds of Python each; grouping
every unguarded threshold rule by `(metric, window, by, op)` lets one comparison of a
`rules x instances` matrix find the few rules with anything true, and only those (and rules
with alerts already active) go through the lifecycle step. Results are identical to
evaluating each rule alone (`kinds.evaluate`), which the tests check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from poolmon.core.alerts.kinds import Outcome, compare_to, thresholds_of
from poolmon.core.alerts.metrics import Values
from poolmon.core.alerts.rules import BAND_OPS, Rule

F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Group:
    """Threshold rules sharing metric, window, split and operator; their bounds as arrays."""

    metric: str
    window_s: int
    by: str | None
    op: str
    rules: tuple[Rule, ...]
    lo: F64
    hi: F64

    def conditions(self, vals: F64) -> B:
        """`(rules, instances)` condition matrix; NaN values are never true."""
        return compare_to(vals[None, :], self.op, self.lo[:, None], self.hi[:, None])

    def outcome(self, j: int, src: Values, cond: B) -> Outcome:
        """Rule `j`'s outcome, given the matrix row `cond`."""
        rule = self.rules[j]
        return Outcome(src, src.vals, thresholds_of(src.vals, rule.op, rule.value), None, cond)


def groupable(rule: Rule) -> bool:
    """Threshold rules without a guard are evaluated in groups."""
    return rule.kind == "threshold" and rule.when is None


def make_groups(rules: Sequence[Rule]) -> list[Group]:
    """Group the groupable rules (order within a group follows `rules`)."""
    by_key: dict[tuple[str, int, str | None, str], list[Rule]] = {}
    for r in rules:
        if groupable(r):
            by_key.setdefault((r.metric, r.window_s, r.by, r.op), []).append(r)
    out = []
    for (metric, window, by, op), members in by_key.items():
        if op in BAND_OPS:
            lo = np.array([r.value[0] for r in members if isinstance(r.value, tuple)])
            hi = np.array([r.value[1] for r in members if isinstance(r.value, tuple)])
        else:
            lo = np.array([float(r.value) for r in members if not isinstance(r.value, tuple)])
            hi = lo
        out.append(Group(metric, window, by, op, tuple(members), lo, hi))
    return out
