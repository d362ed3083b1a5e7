"""Rule files: every problem reported at once with its exact line; good files load whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from poolmon.core.alerts.defaults import default_rules
from poolmon.core.alerts.rulefile import RuleFileError, parse_rule_file
from poolmon.core.errors import PoolmonError
from poolmon.runtime.alerting.rules_io import load_rule_file

GOOD = """\
# a pool's own rules
include_defaults = false

[[rules]]
name = "SlowScore"
metric = "latency_p99"
by = "op"
window = "5m"
op = ">"
value = "250ms"
for = "1m30s"
keep_firing_for = "500ms"
resolve = "200ms"
severity = "critical"
labels = { team = "ml" }
when = { metric = "tasks_finished", op = ">=", value = 20 }
[rules.annotations]
summary = "{labels.op} p99 {value} > {threshold} ({labels.team})"

[[rules]]
name = "Leak"
kind = "rate"
metric = "worker_rss_bytes"
by = "worker"
span = "15m"
per = "1h"
relative = true
op = ">"
value = "10%"

[[rules]]
name = "Both"
kind = "composite"
mode = "all"
rules = ["SlowScore", "Leak"]
severity = "critical"

[[inhibit]]
source_matchers = ['alertname="Both"']
target_matchers = ['severity=~"warning|info"']
equal = ["pool"]

[notify]
group_wait = "10s"

[[channels]]
kind = "webhook"
url = "http://127.0.0.1:9/hook"
"""


def _problems(text: str) -> list[tuple[int | None, str]]:
    with pytest.raises(RuleFileError) as info:
        parse_rule_file(text, "r.toml")
    err = info.value
    assert isinstance(err, PoolmonError)
    assert str(err).splitlines() == [
        f"r.toml:{line}: {msg}" if line is not None else f"r.toml: {msg}"
        for _, line, msg in err.problems
    ]
    return [(line, msg) for _, line, msg in err.problems]


def test_good_file_loads_with_units_and_leaves_notify_alone() -> None:
    rf = parse_rule_file(GOOD, "good.toml")
    assert rf.rules.names() == ("SlowScore", "Leak", "Both")
    slow = rf.rules.by_name["SlowScore"]
    assert (slow.value, slow.resolve, slow.for_s, slow.keep_firing_for_s) == (0.25, 0.2, 90, 0.5)
    assert (slow.window_s, slow.severity, slow.labels) == (300, "critical", (("team", "ml"),))
    assert slow.when is not None
    assert slow.when.value == 20
    leak = rf.rules.by_name["Leak"]
    assert (leak.kind, leak.value, leak.per_s, leak.span_s, leak.relative) == (
        "rate",
        0.1,
        3600,
        900,
        True,
    )
    assert len(rf.rules.inhibit) == 1
    assert rf.doc["notify"]["group_wait"] == "10s"
    assert rf.line_of(("channels", 0, "url")) == 48
    assert rf.line_of(("rules", 1, "span")) == 25
    assert rf.path == "good.toml"


def test_every_problem_with_its_line() -> None:
    text = """\
[[rules]]
name = "A"
metric = "eror_rate"
window = "5x"
value = 1

[[rules]]
name = "A"
metric = "error_rate"
by = "worker"
value = 0.1
severity = "urgent"
windw = "1m"

[[rules]]
name = "C"
kind = "treshold"
metric = "queue_depth"

[[rules]]
name = "D"
metric = "queue_depth"
value = 1
span = "5m"
"""
    assert _problems(text) == [
        (3, "unknown metric 'eror_rate'; did you mean 'error_rate'?"),
        (
            4,
            "bad duration '5x': use a number and a unit (ms, s, m, h, d, w), e.g. '500ms', "
            "'30s', '5m', '1h30m', '1d'",
        ),
        (8, "duplicate rule name 'A'"),
        (10, "metric 'error_rate' cannot be split by 'worker'; by: op"),
        (12, "severity 'urgent' must be one of ('info', 'warning', 'critical')"),
        (13, "unknown key 'windw'; did you mean 'window'?"),
        (17, "unknown kind 'treshold'; did you mean 'threshold'?"),
        (24, "'span' does not apply to threshold rules (only to rate)"),
    ]


def test_composite_cycles_and_unknown_parts() -> None:
    text = """\
[[rules]]
name = "X"
kind = "composite"
rules = ["Y"]

[[rules]]
name = "Y"
kind = "composite"
mode = "any"
rules = ["Z", "X"]

[[rules]]
name = "Z"
kind = "composite"
rules = [
  "X",
  "Nope",
]
"""
    assert _problems(text) == [
        (4, "composite cycle: X -> Y -> Z -> X"),
        (4, "composite cycle: X -> Y -> X"),
        (15, "unknown rule 'Nope'; known: X, Y, Z"),
    ]


def test_toml_syntax_error_has_its_line() -> None:
    [(line, msg)] = _problems('[[rules]]\nname = "A"\nvalue = = 3\n')
    assert line == 3
    assert msg.startswith("TOML: ")


def test_inhibit_and_top_level_problems() -> None:
    text = """\
include_defaults = "yes"
rulez = []

[[inhibit]]
source_matchers = ["severity=critical", "bad matcher"]
target = ["worker=~.+"]
"""
    assert _problems(text) == [
        (1, "include_defaults must be true or false"),
        (2, "unknown top-level key 'rulez'; did you mean 'rules'?"),
        (4, "target_matchers must be a non-empty list of 'label=value'"),
        (5, "matcher 'bad matcher' is not label=value, label!=value, label=~regex or label!~regex"),
        (6, "unknown key 'target'; did you mean 'target_matchers'?"),
    ]


def test_annotation_placeholders_are_checked() -> None:
    text = """\
[[rules]]
name = "A"
metric = "queue_depth"
value = 1
[rules.annotations]
summary = "{valu} on {labels.op}"
"""
    got = _problems(text)
    assert [line for line, _ in got] == [6, 6]
    assert "unknown placeholder {valu}" in got[1][1] or "unknown placeholder {valu}" in got[0][1]


def test_include_defaults_adds_and_overrides() -> None:
    text = """\
include_defaults = true

[[rules]]
name = "ErrorRateHigh"
metric = "error_rate"
value = 0.5

[[rules]]
name = "Mine"
metric = "queue_depth"
value = 100
"""
    rf = parse_rule_file(text)
    defaults = default_rules()
    assert set(rf.rules.names()) == {*defaults.names(), "Mine"}
    assert rf.rules.by_name["ErrorRateHigh"].value == 0.5
    assert rf.rules.inhibit == defaults.inhibit
    assert parse_rule_file("include_defaults = false\n").rules.names() == ()


def test_load_rule_file_errors(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError, match="no such rule file"):
        load_rule_file(tmp_path / "missing.toml")
    with pytest.raises(RuleFileError, match="is a directory"):
        load_rule_file(tmp_path)
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'[[rules]]\nname = "caf\xe9"\n')
    with pytest.raises(RuleFileError) as info:
        load_rule_file(bad)
    assert str(info.value) == f"{bad}:2: not UTF-8 text (byte 0xe9 at offset 21)"
    good = tmp_path / "good.toml"
    good.write_text(GOOD, encoding="utf-8")
    assert load_rule_file(good).rules.names() == ("SlowScore", "Leak", "Both")


def test_a_unit_value_of_an_unknown_metric_is_one_problem_not_two() -> None:
    text = '[[rules]]\nname = "A"\nmetric = "latency_p99x"\nvalue = "250ms"\n'
    assert _problems(text) == [(3, "unknown metric 'latency_p99x'; did you mean 'latency_p99'?")]


def test_guard_and_composite_split_problems() -> None:
    text = """\
[[rules]]
name = "A"
metric = "error_rate"
by = "op"
value = 0.1
when = { metric = "tasks_finishd", op = ">=", value = 20 }

[[rules]]
name = "B"
metric = "queue_depth"
value = 10
when = { metric = "queue_depth", op = "~", value = 1, windw = "1m" }

[[rules]]
name = "C"
kind = "composite"
by = "op"
rules = ["A", "B"]
[rules.annotations]
summary = "{labels.worker} is bad"
"""
    assert _problems(text) == [
        (6, "unknown metric 'tasks_finishd'; did you mean 'tasks_finished'?"),
        (12, "unknown key 'windw' in when; did you mean 'window'?"),
        (12, "guard op '~' must be one of > >= < <= == !="),
        (18, "composite split by 'op' combines 'B', which is not"),
        (
            20,
            "{labels.worker} names a label this rule's alerts do not have; they have "
            "alertname, op, pool, severity",
        ),
    ]
