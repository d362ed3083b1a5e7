"""One `[[rules]]` table to one `Rule`: the rule-file keys, their types, and what each kind takes.

Kept apart from `rulefile` so the key table (names, which kinds accept them, how each value is
read) is in one place that docs/ALERTS.md mirrors. Every problem is reported through a callback
with the key it concerns, so the caller can attach the line; a table with any problem yields
no rule.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from poolmon.core.alerts.metrics import METRICS
from poolmon.core.alerts.rules import (
    COMPARE_OPS,
    KINDS,
    Bound,
    Guard,
    Rule,
    did_you_mean,
    unknown_metric,
)
from poolmon.core.alerts.units import parse_duration

Report = Callable[[tuple[str | int, ...], str], None]
"""`report(key path inside the table, message)`."""

COMMON_KEYS: Final = (
    "name", "kind", "metric", "by", "window", "for", "keep_firing_for", "severity", "labels",
    "annotations", "when",
)  # fmt: skip
KIND_KEYS: Final[dict[str, tuple[str, ...]]] = {
    "threshold": ("op", "value", "resolve"),
    "rate": ("op", "value", "resolve", "span", "per", "relative"),
    "anomaly": ("baseline", "warmup", "deviations", "margin", "direction"),
    "absence": (),
    "composite": ("mode", "rules"),
}
"""Keys each kind accepts besides `COMMON_KEYS`."""
ALL_KEYS: Final = tuple(
    dict.fromkeys((*COMMON_KEYS, *(k for ks in KIND_KEYS.values() for k in ks)))
)
GUARD_KEYS: Final = ("metric", "op", "value", "window")
_DURATIONS: Final = {
    "window": "window_s", "span": "span_s", "baseline": "baseline_s", "warmup": "warmup_s",
}  # fmt: skip
_SECONDS: Final = {"for": "for_s", "keep_firing_for": "keep_firing_for_s", "per": "per_s"}
_STRINGS: Final = ("name", "kind", "metric", "by", "op", "severity", "direction", "mode")
_NUMBERS: Final = ("deviations", "margin")
_BYTES: Final = {"b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "kib": 2**10, "mib": 2**20, "gib": 2**30}


def key_path(field: str, rule: Rule) -> tuple[str, ...]:
    """The table key a `Rule.problems()` field name refers to."""
    if field in ALL_KEYS:
        return (field,)
    if field in dict(rule.annotations):
        return ("annotations", field)
    return ()


def parse_quantity(value: Any, unit: str, relative: bool = False) -> float:
    """A threshold as written: a number, or a string in the metric's unit.

    "200ms" for seconds, "5%" for ratios (0.05) and percents (5), "512MiB" for bytes, "10%"
    for a relative rate. ValueError with the reason otherwise.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"expected a number, got {type(value).__name__}")
    text = value.strip()
    pct = re.fullmatch(r"(-?\d+(?:\.\d+)?)\s*%", text)
    if pct and (relative or unit in ("ratio", "percent")):
        n = float(pct.group(1))
        return n if unit == "percent" and not relative else n / 100
    if unit == "seconds" and not relative:
        return parse_duration(text)
    size = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kKmMgG]i?[bB]|[bB])", text)
    if size and unit == "bytes" and not relative:
        return float(size.group(1)) * _BYTES[size.group(2).lower()]
    hint = {
        "seconds": "a number of seconds or a duration like '200ms'",
        "ratio": "a fraction like 0.05 or a percentage like '5%'",
        "percent": "a number or '80%'",
        "bytes": "a number of bytes or a size like '512MiB'",
    }.get(unit, "a number")
    if relative:
        hint = "a fraction like 0.1 or a percentage like '10%'"
    raise ValueError(f"cannot read {value!r} as {hint}")


def rule_from_table(table: Mapping[str, Any], report: Report) -> Rule | None:
    """Build a rule from its table, reporting every problem of its keys; None without a name.

    The rule is returned even when keys were reported (with those keys left at their
    defaults), so the caller can run the rule-level checks too; it must not use the rule when
    anything was reported.
    """
    fail = report

    kind = table.get("kind", "threshold")
    if not isinstance(kind, str) or kind not in KINDS:
        fail(("kind",), f"unknown kind {kind!r}{did_you_mean(str(kind), KINDS)}")
        kind = None
    allowed = (*COMMON_KEYS, *KIND_KEYS.get(kind or "", ()))
    for key in table:
        if key in allowed:
            continue
        if kind and key in ALL_KEYS:
            takers = [k for k, ks in KIND_KEYS.items() if key in ks]
            fail((key,), f"{key!r} does not apply to {kind} rules (only to {', '.join(takers)})")
        elif kind:
            fail((key,), f"unknown key {key!r}{did_you_mean(key, allowed)}")
    if "name" not in table:
        fail(("name",), "a rule needs a name")
    if kind not in (None, "composite") and "metric" not in table:
        fail(("metric",), "a rule needs a metric")
    if kind in ("threshold", "rate") and "value" not in table:
        fail(("value",), f"a {kind} rule needs a value to compare with")
    fields: dict[str, Any] = {"kind": kind or "threshold"}
    for key in _STRINGS:
        if key in table and key != "kind":
            if isinstance(table[key], str):
                fields[key] = table[key]
            else:
                fail((key,), f"{key} must be a string")
    for key, attr in {**_DURATIONS, **_SECONDS}.items():
        if key not in table:
            continue
        try:
            secs = parse_duration(table[key])
        except ValueError as exc:
            fail((key,), str(exc))
            continue
        if attr in _DURATIONS.values():
            if secs != int(secs) or secs < 1:
                fail((key,), f"{key} must be a whole number of seconds >= 1s, got {table[key]!r}")
                continue
            fields[attr] = int(secs)
        else:
            fields[attr] = secs
    for key in _NUMBERS:
        if key in table:
            v = table[key]
            if isinstance(v, bool) or not isinstance(v, int | float):
                fail((key,), f"{key} must be a number")
            else:
                fields[key] = float(v)
    if "relative" in table:
        if isinstance(table["relative"], bool):
            fields["relative"] = table["relative"]
        else:
            fail(("relative",), "relative must be true or false")
    known_metric = table.get("metric") in METRICS or kind == "composite"
    unit = METRICS[table["metric"]].unit if table.get("metric") in METRICS else "count"
    relative = fields.get("relative", False)
    for key in ("value", "resolve"):
        if key not in table:
            continue
        if not known_metric and isinstance(table[key], str | list):
            continue  # its unit is unknown; the unknown metric is reported already
        got = _bound(table[key], unit, relative, _at(fail, key))
        if got is not None:
            fields[key] = got
    for key in ("labels", "annotations"):
        if key in table:
            got_map = _string_map(table[key], _under(fail, key))
            if got_map is not None:
                fields[key] = tuple(sorted(got_map.items()))
    if "rules" in table:
        parts = table["rules"]
        if isinstance(parts, list) and all(isinstance(p, str) for p in parts):
            fields["rules"] = tuple(parts)
        else:
            fail(("rules",), "rules must be a list of rule names")
    if "when" in table:
        guard = _guard(table["when"], lambda k, msg: fail(("when", *k), msg))
        if guard is not None:
            fields["when"] = guard
    if not isinstance(table.get("name"), str):
        return None
    # Built even when some keys were bad (those keep their defaults), so that the rule-level
    # checks (metric, by, cycles...) still report everything in one pass.
    return Rule(name=table["name"], **{k: v for k, v in fields.items() if k != "name"})


def _at(fail: Report, key: str) -> Callable[[str], None]:
    """A one-argument reporter for problems of one key."""
    return lambda msg: fail((key,), msg)


def _under(fail: Report, key: str) -> Callable[[tuple[str, ...], str], None]:
    """A reporter for problems inside one key's table."""
    return lambda sub, msg: fail((key, *sub), msg)


def _bound(value: Any, unit: str, relative: bool, fail: Callable[[str], None]) -> Bound | None:
    try:
        if isinstance(value, list):
            if len(value) != 2:
                fail(f"a band is [lo, hi], got {len(value)} values")
                return None
            lo, hi = (parse_quantity(v, unit, relative) for v in value)
            return (lo, hi)
        return parse_quantity(value, unit, relative)
    except ValueError as exc:
        fail(str(exc))
        return None


def _string_map(value: Any, fail: Callable[[tuple[str, ...], str], None]) -> dict[str, str] | None:
    if not isinstance(value, dict):
        fail((), 'must be a table of names to strings, e.g. { team = "data" }')
        return None
    out = {}
    for k, v in value.items():
        if not isinstance(v, str):
            fail((k,), f"{k} must be a string")
            continue
        out[k] = v
    return out


def _guard(value: Any, fail: Callable[[tuple[str, ...], str], None]) -> Guard | None:
    if not isinstance(value, dict):
        fail((), 'when must be a table: { metric = "queue_depth", op = ">", value = 0 }')
        return None
    ok = True
    for key in value:
        if key not in GUARD_KEYS:
            fail((key,), f"unknown key {key!r} in when{did_you_mean(key, GUARD_KEYS)}")
            ok = False
    for key in ("metric", "op", "value"):
        if key not in value:
            fail((), f"when needs {key}")
            ok = False
    metric, op = value.get("metric"), value.get("op", ">")
    if not isinstance(metric, str) or not isinstance(op, str):
        fail((), "when's metric and op must be strings")
        return None
    if op not in COMPARE_OPS:
        fail(("op",), f"guard op {op!r} must be one of {' '.join(COMPARE_OPS)}")
        ok = False
    if metric not in METRICS:
        fail(("metric",), unknown_metric(metric))
        ok = False
    window = None
    if "window" in value:
        try:
            secs = parse_duration(value["window"])
            if secs != int(secs) or secs < 1:
                raise ValueError(f"the window must be whole seconds >= 1s, got {value['window']!r}")
            window = int(secs)
        except ValueError as exc:
            fail(("window",), str(exc))
            ok = False
    unit = METRICS[metric].unit if metric in METRICS else "count"
    try:
        number = parse_quantity(value.get("value", 0), unit)
    except ValueError as exc:
        fail(("value",), str(exc))
        return None
    return Guard(metric, op, number, window) if ok else None
