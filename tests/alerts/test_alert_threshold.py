"""Threshold rules through the whole lifecycle: pending, firing, keep_firing_for, resolve."""

from __future__ import annotations

from dataclasses import replace

from alert_engine_helpers import OpKnobs, PoolKnobs, Run, rules

from poolmon.core.alerts.model import FIRING, PENDING, RESOLVED
from poolmon.core.alerts.rules import Rule


def _err_rule(**kw: object) -> Rule:
    base: dict[str, object] = dict(
        name="ErrHigh",
        kind="threshold",
        metric="error_rate",
        by="op",
        window_s=10,
        op=">",
        value=0.05,
        for_s=5,
    )
    base.update(kw)
    return Rule(**base)  # type: ignore[arg-type]


def _knobs(err: float) -> PoolKnobs:
    return PoolKnobs(workers=4, ops={"ok": OpKnobs(50, 0.01), "bad": OpKnobs(50, 0.01, 0.3, err)})


def test_pending_then_firing_after_for_then_resolved() -> None:
    run = Run(rules(_err_rule()), _knobs(0.5))
    run.step(2)
    assert run.states() == []  # the first rollup arrives after the close grace
    run.step(1)
    [a] = run.views[-1].alerts
    assert (a.state, a.label_map["op"], a.label_map["pool"]) == (PENDING, "bad", "test")
    pending_since = a.active_since_ns
    run.step(4)
    assert run.states() == [("ErrHigh", PENDING)]
    run.step(1)
    [a] = run.views[-1].alerts
    assert a.state == FIRING
    assert a.fired_at_ns == pending_since + 5 * 10**9
    assert a.value is not None
    assert a.value > 0.3
    assert a.threshold == 0.05
    assert "error_rate" in a.summary
    assert "%" in a.summary
    fired_id = a.id
    run.knobs.ops["bad"].error_rate = 0.0
    run.step(15)
    [r] = run.views[-1].alerts
    assert (r.state, r.id) == (RESOLVED, fired_id)
    assert run.engine.history()[0].id == fired_id
    # the view carries it twice for 15 minutes: among `alerts` and at the head of `history`
    # (the alerts screen lists it once: tests/ui/test_ui_alerts.py)
    assert run.views[-1].history[0].id == fired_id
    # the view's resolved copy keeps the chart's values; the history keeps the record only
    assert r.recent
    assert run.engine.history()[0].recent == ()
    assert run.engine.history()[0] == replace(r, recent=())


def test_pending_that_clears_is_dropped_silently() -> None:
    run = Run(rules(_err_rule(for_s=60)), _knobs(0.5))
    run.step(10)
    assert run.states() == [("ErrHigh", PENDING)]
    run.knobs.ops["bad"].error_rate = 0.0
    run.step(15)
    assert run.states() == []
    assert run.engine.history() == ()


def test_keep_firing_for_holds_a_cleared_alert() -> None:
    run = Run(rules(_err_rule(for_s=0, window_s=6, keep_firing_for_s=20)), _knobs(0.6))
    run.step(8)
    assert run.states() == [("ErrHigh", FIRING)]
    run.knobs.ops["bad"].error_rate = 0.0
    run.step(10)
    assert run.states() == [("ErrHigh", FIRING)]  # condition false, kept firing
    run.step(20)
    assert run.states() == [("ErrHigh", RESOLVED)]


def test_resolve_bound_is_hysteresis() -> None:
    run = Run(rules(_err_rule(for_s=0, window_s=6, value=0.3, resolve=0.1)), _knobs(0.6))
    run.step(10)
    assert run.states() == [("ErrHigh", FIRING)]
    run.knobs.ops["bad"].error_rate = 0.2  # under the firing threshold, over the resolve one
    run.step(15)
    assert run.states() == [("ErrHigh", FIRING)]
    run.knobs.ops["bad"].error_rate = 0.0
    run.step(10)
    assert run.states() == [("ErrHigh", RESOLVED)]


def test_no_data_never_fires_and_ids_are_new_per_firing() -> None:
    run = Run(rules(_err_rule(for_s=0, window_s=6)), _knobs(0.6))
    run.step(6)
    [a] = run.views[-1].alerts
    first = a.id
    run.knobs.ops["bad"].rate = 0  # no tasks: error rate has no data -> resolves
    run.step(8)
    assert run.states() == [("ErrHigh", RESOLVED)]
    run.knobs.ops["bad"].rate = 50
    run.step(6)
    firing = [x for x in run.views[-1].alerts if x.state == FIRING]
    assert len(firing) == 1
    assert firing[0].id != first
    assert firing[0].fingerprint == a.fingerprint


def test_band_threshold_outside() -> None:
    band = Rule("UtilBand", "threshold", "utilization", window_s=5, op="outside", value=(0.6, 0.8))
    run = Run(rules(band), PoolKnobs(utilization=0.7))
    run.step(10)
    assert run.states() == []
    run.knobs.utilization = 0.95
    run.step(10)
    [a] = run.views[-1].alerts
    assert a.state == FIRING
    assert a.threshold == 0.8
    run.knobs.utilization = 0.3
    run.step(10)
    [a] = [x for x in run.views[-1].alerts if x.state == FIRING]
    assert a.threshold == 0.6


def test_revision_moves_on_state_changes_not_on_values() -> None:
    run = Run(rules(_err_rule(for_s=3)), _knobs(0.5))
    run.step(3)
    assert run.views[-1].revision == 1  # pending appeared
    run.step(3)
    assert run.views[-1].revision == 2  # firing
    run.step(10)
    values = {v.alerts[0].value for v in run.views[-10:]}
    assert len(values) > 1
    assert {v.revision for v in run.views[-10:]} == {2}
    assert len(run.views[-1].alerts[0].recent) == 14


def test_grouped_thresholds_match_rule_by_rule_evaluation() -> None:
    from poolmon.core.alerts import kinds
    from poolmon.core.alerts.groups import make_groups
    from poolmon.core.alerts.metrics import MetricMemory, MetricReader
    from poolmon.core.alerts.rules import Guard, RuleSet

    many = RuleSet(
        tuple(
            Rule(f"r{i}", "threshold", "error_rate", by="op", window_s=6, op=op,
                 value=(0.05 * (i % 5), 0.1 + 0.05 * (i % 5)) if op in ("outside", "inside")
                 else 0.05 * (i % 5),
                 when=None if i % 3 else Guard("tasks_finished", ">=", 200 * (i % 2)))
            for i, op in enumerate([">", ">=", "<", "<=", "==", "!=", "outside", "inside"] * 3)
        )
    )  # fmt: skip
    run = Run(many, _knobs(0.3))
    run.step(8)
    reader = MetricReader(run.feed.agg, run.now, MetricMemory())
    for group in make_groups(many.rules):
        _, cond, _ = group.evaluate(reader)
        for j, rule in enumerate(group.rules):
            alone = kinds.evaluate(rule, reader, kinds.RuleState(), lambda name: set())
            assert cond[j].tolist() == alone.cond.tolist(), rule
            assert any(cond[j]) == any(
                a.rule == rule.name for a in run.views[-1].alerts if a.state != "resolved"
            )


def test_a_wall_clock_jump_back_does_not_pin_an_alert() -> None:
    run = Run(rules(_err_rule(for_s=0, window_s=6, keep_firing_for_s=5)), _knobs(0.6))
    run.step(8)
    assert run.states() == [("ErrHigh", FIRING)]
    run.feed.clock.jump_wall(-3600)
    run.knobs.ops["bad"].error_rate = 0.0
    run.step(20)
    assert run.states() == [("ErrHigh", RESOLVED)]
