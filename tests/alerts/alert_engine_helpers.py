"""Shared helpers for the alert engine tests: a synthetic pool feeding the real aggregator."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from poolmon.core.alerts.engine import AlertEngine
from poolmon.core.alerts.model import AlertsView
from poolmon.core.alerts.rules import Rule, RuleSet
from poolmon.testing.pool_feed import OpKnobs, PoolFeed, PoolKnobs


class Run:
    """A feed and an engine stepped together, one second per step."""

    def __init__(self, rules: RuleSet, knobs: PoolKnobs | None = None, **engine_kw: float) -> None:
        self.feed = PoolFeed(knobs or PoolKnobs())
        self.engine = AlertEngine(rules, pool="test", **engine_kw)  # type: ignore[arg-type]
        self.views: list[AlertsView] = []

    @property
    def knobs(self) -> PoolKnobs:
        return self.feed.knobs

    @property
    def now(self) -> int:
        return self.feed.now_ns

    def step(self, seconds: int = 1, each: Callable[[int], None] | None = None) -> AlertsView:
        for _ in range(seconds):
            if each is not None:
                each(self.feed.t)
            now = self.feed.step()
            self.views.append(self.engine.evaluate(self.feed.agg, now))
        return self.views[-1]

    def states(self, rule: str | None = None) -> list[tuple[str, str]]:
        """(rule, state) of the alerts in the latest view."""
        return [(a.rule, a.state) for a in self.views[-1].alerts if rule is None or a.rule == rule]


def rules(*rs: Rule) -> RuleSet:
    return RuleSet(rs)


@pytest.fixture
def healthy_knobs() -> PoolKnobs:
    """A busy, healthy pool: ~70 % utilization, low errors, steady latency, no leaks."""
    return PoolKnobs(
        workers=8,
        ops={
            "resize": OpKnobs(150, 0.02, 0.3, 0.001),
            "score": OpKnobs(60, 0.04, 0.4, 0.002),
            "fetch": OpKnobs(100, 0.005, 0.8, 0.01),
        },
        queue_depth=2.0,
        utilization=0.7,
    )


__all__ = ["OpKnobs", "PoolKnobs", "Run", "rules"]
