"""Acks, silences and inhibition: what they mark, when they end, and the revision they bump."""

from __future__ import annotations

import pytest
from alert_engine_helpers import OpKnobs, PoolKnobs, Run, rules

from poolmon.core.alerts.defaults import default_rules
from poolmon.core.alerts.model import FIRING, RESOLVED, AlertError, AlertsView, Matcher
from poolmon.core.alerts.rules import InhibitRule, Rule, RuleSet

NS = 10**9


def _run() -> Run:
    err = Rule("ErrHigh", "threshold", "error_rate", by="op", window_s=6, op=">", value=0.2)
    knobs = PoolKnobs(ops={"a": OpKnobs(50, 0.01, 0.3, 0.6), "b": OpKnobs(50, 0.01, 0.3, 0.6)})
    return Run(rules(err), knobs)


def _firing(run: Run, op: str) -> str:
    [a] = [x for x in run.views[-1].alerts if x.state == FIRING and x.label_map["op"] == op]
    return a.id


def test_ack_then_resolve_then_refire_is_a_new_alert_without_the_ack() -> None:
    run = _run()
    run.step(8)
    first = _firing(run, "a")
    rev = run.engine.view().revision
    acked = run.engine.ack(first, "alice", "looking", run.now)
    assert acked.ack is not None
    assert (acked.ack.by, acked.ack.comment, acked.display_state) == ("alice", "looking", "acked")
    assert run.engine.view().revision == rev + 1
    [shown] = [a for a in run.engine.view().alerts if a.id == first]
    assert shown.display_state == "acked"
    run.knobs.ops["a"].error_rate = 0.0
    run.step(10)
    [old] = [a for a in run.views[-1].alerts if a.id == first]
    assert old.state == RESOLVED
    with pytest.raises(AlertError, match="resolved"):
        run.engine.ack(first, "bob", "", run.now)
    with pytest.raises(AlertError, match="no active alert"):
        run.engine.ack("zzzzzz", "bob", "", run.now)
    run.knobs.ops["a"].error_rate = 0.6
    run.step(10)
    again = _firing(run, "a")
    assert again != first
    [new] = [a for a in run.views[-1].alerts if a.id == again]
    assert new.ack is None
    assert new.fingerprint == shown.fingerprint


def test_silence_marks_matching_alerts_until_it_expires() -> None:
    run = _run()
    run.step(8)
    rev = run.engine.view().revision
    s = run.engine.add_silence(
        [Matcher("alertname", "=", "ErrHigh"), Matcher.parse("op=~a|x")],
        run.now + 30 * NS, "alice", "deploying", run.now,
    )  # fmt: skip
    view = run.engine.view()
    assert view.revision == rev + 1
    assert view.silences == (s,)
    marks = {a.label_map["op"]: a.silenced_by for a in view.alerts}
    assert marks == {"a": (s.id,), "b": ()}
    assert {a.label_map["op"]: a.display_state for a in view.alerts} == {
        "a": "silenced", "b": "firing"
    }  # fmt: skip
    run.step(29)
    assert run.views[-1].silences == (s,)
    rev = run.views[-1].revision
    run.step(2)
    assert run.views[-1].silences == ()
    assert run.views[-1].revision > rev
    assert all(a.silenced_by == () for a in run.views[-1].alerts)


def test_negative_regex_and_remove_silence() -> None:
    run = _run()
    run.step(8)
    s = run.engine.add_silence(
        [Matcher("op", "!~", "a|c")], run.now + 3600 * NS, "bob", "", run.now
    )
    assert {a.label_map["op"]: bool(a.silenced_by) for a in run.engine.view().alerts} == {
        "a": False, "b": True
    }  # fmt: skip
    rev = run.engine.view().revision
    assert run.engine.remove_silence(s.id, run.now) == s
    assert run.engine.view().revision == rev + 1
    assert all(not a.silenced_by for a in run.engine.view().alerts)
    with pytest.raises(AlertError, match="no silence"):
        run.engine.remove_silence(s.id, run.now)


def test_silence_refusals_and_a_scheduled_silence() -> None:
    run = _run()
    run.step(8)
    eng, now = run.engine, run.now
    with pytest.raises(AlertError, match="at least one matcher"):
        eng.add_silence([], now + NS, "x", "", now)
    with pytest.raises(AlertError, match="past"):
        eng.add_silence([Matcher("op", "=", "a")], now, "x", "", now)
    with pytest.raises(AlertError, match="not team"):
        eng.add_silence([Matcher("team", "=", "a")], now + NS, "x", "", now)
    later = eng.add_silence([Matcher("op", "=", "a")], now + 60 * NS, "x", "", now, now + 10 * NS)
    assert all(not a.silenced_by for a in eng.view().alerts)
    run.step(12)
    assert [a.silenced_by for a in run.views[-1].alerts if a.label_map["op"] == "a"] == [
        (later.id,)
    ]


def test_inhibition_mutes_per_worker_children_of_a_critical_pool_alert() -> None:
    knobs = PoolKnobs(workers=4, queue_depth=30, exits=())
    run = Run(default_rules(), knobs)
    run.step(150)

    def crash(t: int) -> None:
        knobs.exits = (2,) if t % 20 == 0 else ()
        knobs.ops["work"].rate = 0

    run.step(150, crash)
    by_rule = {a.rule: a for a in run.views[-1].alerts if a.state == FIRING}
    stuck, loop = by_rule["NoTaskFinishedWhileQueued"], by_rule["WorkerCrashLoop"]
    assert loop.inhibited_by == stuck.fingerprint
    assert loop.display_state == "inhibited"
    assert stuck.inhibited_by == ""


def test_inhibit_equal_labels_and_no_self_inhibition() -> None:
    a = Rule("A", "threshold", "error_rate", by="op", window_s=6, op=">", value=0.2,
             severity="critical")  # fmt: skip
    b = Rule("B", "threshold", "tasks_failed", by="op", window_s=6, op=">", value=0)
    both = InhibitRule((Matcher("severity", "=~", ".+"),), (Matcher("severity", "=~", ".+"),),
                       ("op",))  # fmt: skip
    knobs = PoolKnobs(ops={"x": OpKnobs(50, 0.01, 0.3, 0.6), "y": OpKnobs(50, 0.01, 0.3, 0.05)})
    run = Run(RuleSet((a, b), (both,)), knobs)
    run.step(10)
    got = {(x.rule, x.label_map["op"]): x.inhibited_by for x in run.views[-1].alerts}
    # every alert matches both sides, so none inhibits another (Alertmanager's rule)
    assert set(got.values()) == {""}
    one_way = InhibitRule((Matcher("severity", "=", "critical"),),
                          (Matcher("severity", "=", "warning"),), ("op",))  # fmt: skip
    run = Run(RuleSet((a, b), (one_way,)), knobs)
    run.step(10)
    got = {(x.rule, x.label_map["op"]): x.inhibited_by for x in run.views[-1].alerts}
    fp_ax = next(x.fingerprint for x in run.views[-1].alerts if x.rule == "A")
    assert got == {("A", "x"): "", ("B", "x"): fp_ax, ("B", "y"): ""}


def test_the_view_says_how_long_resolved_alerts_keep_their_values() -> None:
    """A screen saying "values are kept 15 min" must read the pool's setting, not assume it."""
    err = Rule("ErrHigh", "threshold", "error_rate", by="op", window_s=6, op=">", value=0.2)
    run = Run(rules(err), resolved_retention_s=300)
    view = run.step()
    assert view.resolved_retention_s == 300
    assert AlertsView.from_wire(view.to_wire()).resolved_retention_s == 300
    older = view.to_wire()
    del older["resolved_retention_s"]  # a pool from before the field: its fixed 15 minutes
    assert AlertsView.from_wire(older).resolved_retention_s == 900
