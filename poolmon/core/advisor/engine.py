"""`advise()`: run every rule over one `AdvisorInput` and return the findings, most urgent first.

The rules live in capacity.py, faults.py and operations.py, one function per family; each
returns zero or more findings and never raises on missing data (a window without samples
simply yields nothing). Grow and shrink cannot both hold (one needs > 80 %, the other < 60 %
utilization), and CPU-bound replaces grow, so the list never proposes two size changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from poolmon.core.advisor import capacity, faults, operations
from poolmon.core.advisor.inputs import DEFAULT_THRESHOLDS, AdvisorInput, Thresholds
from poolmon.core.advisor.model import Evidence, Finding, order
from poolmon.core.advisor.words import seen_span_s

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
    return order([_over_what_was_seen(f, inp) for f in found])


def _over_what_was_seen(finding: Finding, inp: AdvisorInput) -> Finding:
    """Evidence says the span it has data for: `(over 34 s)` on a young pool, not `5 min`."""
    evidence = tuple(_seen(e, inp) for e in finding.evidence)
    return finding if evidence == finding.evidence else replace(finding, evidence=evidence)


def _seen(evidence: Evidence, inp: AdvisorInput) -> Evidence:
    window = evidence.window_s
    if window is None:
        return evidence
    return replace(evidence, window_s=int(seen_span_s(inp.snap(window).covered_s, window)))
