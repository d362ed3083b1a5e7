"""`advise()`: run every rule over one `AdvisorInput` and return the findings, most urgent first.

The rules live in capacity.py, faults.py and operations.py, one function per family; each
returns zero or more findings and never raises on missing data (a window without samples
simply yields nothing). Grow and shrink cannot both hold (one needs > 80 %, the other < 60 %
utilization), and CPU-bound replaces grow, so the list never proposes two size changes.
"""

from __future__ import annotations

from collections.abc import Callable

from poolmon.core.advisor import capacity, faults, operations
from poolmon.core.advisor.inputs import DEFAULT_THRESHOLDS, AdvisorInput, Thresholds
from poolmon.core.advisor.model import Finding, order

Rule = Callable[[AdvisorInput, Thresholds], list[Finding]]

RULES: tuple[Rule, ...] = (
    capacity.capacity,
    faults.leaks,
    faults.loops,
    faults.error_hotspots,
    operations.timeouts,
    operations.dominant,
    operations.affinity,
    operations.drops,
)
"""Every rule, in no particular order (the output is sorted by priority)."""


def advise(inp: AdvisorInput, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> tuple[Finding, ...]:
    """All findings for `inp`, highest priority first (see `Finding.priority`)."""
    found: list[Finding] = []
    for rule in RULES:
        found.extend(rule(inp, thresholds))
    return order(found)
