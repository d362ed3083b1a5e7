"""The pool's health score (0-100): a documented formula that does not reward overload.

The design poolmon grew from scored `0.3 * utilization + ...`, so a pool drowning in work
scored better than a comfortable one. Here the load term measures the distance from the
healthy band instead, and queued work counts as load:

* load `L = (busy + queue_depth) / size` (can exceed 1 when tasks wait);
* load score: 1 inside `[0.6, 0.8]`; below, `1 - 0.5 * (0.6 - L) / 0.6` (an idle pool is
  over-provisioned, not broken: 0.5 at L = 0); above, `1 - (L - 0.8) / 0.2`, floored at 0
  (0 once every worker is busy and a queue builds, L >= 1);
* error score: `1 - error_rate / 0.10`, floored at 0 (10 % of finished tasks failing scores 0);
* latency score: 1 while p99 <= the target (default 100 ms), else `target / p99`.

`score = 100 * (0.35 * load + 0.40 * errors + 0.25 * latency)`. A term whose input is unknown
(no pool status yet, no finished task in the window) is left out and the remaining weights
are renormalised; with no input at all the score is None. Colour bands in the app: >= 80
good, >= 60 warning, else bad.
"""

from __future__ import annotations

from dataclasses import dataclass

from poolmon.core.snapshot import HealthBreakdown

BAND_LOW = 0.6
"""Lower edge of the healthy utilization band."""
BAND_HIGH = 0.8
"""Upper edge of the healthy utilization band."""
ERROR_RATE_ZERO = 0.10
"""Error rate at which the error term reaches 0."""
DEFAULT_LATENCY_TARGET_NS = 100_000_000
"""p99 target of the latency term (100 ms) unless the aggregator is given another."""

WEIGHTS = {"load": 0.35, "errors": 0.40, "latency": 0.25}
"""Weights of the three terms."""


@dataclass(frozen=True, slots=True)
class HealthInputs:
    """What the score is computed from; None means unknown."""

    size: int | None = None
    busy: int | None = None
    queue_depth: int | None = None
    error_rate: float | None = None
    p99_ns: float | None = None
    latency_target_ns: float = DEFAULT_LATENCY_TARGET_NS


def load_score(load: float) -> float:
    """Score of a load level: 1 in the healthy band, falling off on either side."""
    if load < BAND_LOW:
        return 1.0 - 0.5 * (BAND_LOW - load) / BAND_LOW
    if load <= BAND_HIGH:
        return 1.0
    return max(0.0, 1.0 - (load - BAND_HIGH) / (1.0 - BAND_HIGH))


def health_breakdown(inputs: HealthInputs) -> tuple[HealthBreakdown, float | None]:
    """The score's terms and the score itself (module doc); the score is None with no input."""
    terms: dict[str, float] = {}
    load: float | None = None
    if inputs.size is not None and inputs.busy is not None:
        if inputs.size > 0:
            load = (inputs.busy + (inputs.queue_depth or 0)) / inputs.size
            terms["load"] = load_score(load)
        else:
            terms["load"] = 0.0  # no workers at all cannot run anything
    if inputs.error_rate is not None:
        terms["errors"] = max(0.0, 1.0 - inputs.error_rate / ERROR_RATE_ZERO)
    if inputs.p99_ns is not None and inputs.p99_ns > 0:
        target = inputs.latency_target_ns
        terms["latency"] = 1.0 if inputs.p99_ns <= target else target / inputs.p99_ns
    breakdown = HealthBreakdown(
        load=load,
        load_term=terms.get("load"),
        error_term=terms.get("errors"),
        latency_term=terms.get("latency"),
    )
    if not terms:
        return breakdown, None
    weight = sum(WEIGHTS[k] for k in terms)
    return breakdown, round(100.0 * sum(WEIGHTS[k] * v for k, v in terms.items()) / weight, 1)


def health_score(inputs: HealthInputs) -> float | None:
    """The documented score (module doc), or None when nothing is known."""
    return health_breakdown(inputs)[1]
