"""What an alert instance says about itself: labels, fingerprint, id, expression and annotations.

Labels identify (alertname, pool, severity, the split label, the rule's static labels);
annotations describe, with the current value and threshold formatted in the metric's unit
("error rate 7.5 % > 5 %"), so the same text reads well in the app, a log line, an email on a
phone and Alertmanager. Ids are short base-32 strings drawn from a counter that starts at a
point derived from the pool and the first evaluation, so they are unique within a pool and
unlikely to repeat across a lost state file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import lru_cache
from typing import Final

from poolmon.core.alerts.metrics import METRICS, Inst
from poolmon.core.alerts.model import Labels, labels_of
from poolmon.core.alerts.rules import Rule
from poolmon.core.alerts.units import format_duration, format_rate, format_value

_ALPHABET: Final = "0123456789abcdefghjkmnpqrstvwxyz"
ID_LEN: Final = 6
"""Characters in an alert or silence id (32**6, about a billion, before the counter wraps)."""
ID_SPACE: Final = 32**ID_LEN


def encode_id(n: int) -> str:
    """A counter value as a short lower-case id (Crockford's base-32 alphabet, no i/l/o/u)."""
    n %= ID_SPACE
    out = []
    for _ in range(ID_LEN):
        n, r = divmod(n, 32)
        out.append(_ALPHABET[r])
    return "".join(reversed(out))


def id_start(pool: str, now_ns: int) -> int:
    """Where a fresh engine's id counter starts (spread over the id space)."""
    digest = hashlib.sha1(f"{pool}\0{now_ns}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % ID_SPACE


def fingerprint(rule: str, labels: Labels) -> str:
    """An instance's identity across firings: 16 hex digits of rule name + labels."""
    text = rule + "\0" + "\0".join(f"{k}={v}" for k, v in labels)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def instance_labels(rule: Rule, pool: str, inst: Inst) -> Labels:
    """alertname, pool, severity, the rule's static labels and the split label, sorted."""
    return labels_of(
        {
            **dict(rule.labels),
            "alertname": rule.name,
            "pool": pool,
            "severity": rule.severity,
            **dict(inst),
        }
    )


def unit_of(rule: Rule) -> str:
    """The unit the rule's value is in (a composite counts rules)."""
    return METRICS[rule.metric].unit if rule.metric in METRICS else "count"


def show(rule: Rule, value: float | None) -> str:
    """A value or threshold of this rule, formatted in its unit."""
    if rule.kind == "rate":
        return format_rate(value, unit_of(rule), rule.per_s, rule.relative)
    return format_value(value, unit_of(rule))


def expr(rule: Rule) -> str:
    """The condition in words, e.g. `error_rate{op} over 5m > 5 %`."""
    by = f"{{{rule.by}}}" if rule.by else ""
    w = format_duration(rule.window_s)
    if rule.kind == "composite":
        text = f"{rule.mode}({', '.join(rule.rules)})" + (f" by {rule.by}" if rule.by else "")
    elif rule.kind == "absence":
        what = "no data or none counted" if METRICS[rule.metric].counting else "no data"
        text = f"{what}: {rule.metric}{by} over {w}"
    elif rule.kind == "anomaly":
        text = (
            f"{rule.metric}{by} over {w} {rule.direction} its {format_duration(rule.baseline_s)} "
            f"median by > max({rule.deviations:g} MAD/0.6745, {rule.margin * 100:g} %)"
        )
    else:
        if isinstance(rule.value, tuple):
            lo, hi = rule.value
            bound = f"{show(rule, lo)}..{show(rule, hi)}"
        else:
            bound = show(rule, rule.value)
        if rule.kind == "rate":
            rel = "relative " if rule.relative else ""
            text = f"{rel}rate({rule.metric}{by} over {w}, {format_duration(rule.span_s)}) "
        else:
            text = f"{rule.metric}{by} over {w} "
        text += f"{rule.op} {bound}"
    if rule.when is not None:
        g = rule.when
        gw = format_duration(g.window_s or rule.window_s)
        gv = format_value(g.value, METRICS[g.metric].unit) if g.metric in METRICS else g.value
        gby = f"{{{rule.by}}}" if rule.by and rule.by in METRICS[g.metric].by else ""
        text += f" when {g.metric}{gby} over {gw} {g.op} {gv}"
    return text


def default_summary(rule: Rule) -> str:
    """The summary used when a rule gives none."""
    if rule.kind == "absence":
        return f"{rule.name}: no {rule.metric} for {format_duration(rule.window_s)}"
    if rule.kind == "composite":
        return f"{rule.name}: {{value}} of {len(rule.rules)} rules firing"
    return f"{rule.name}: {rule.metric} is {{value}} (threshold {{threshold}})"


def render_annotations(
    rule: Rule, labels: Mapping[str, str], value: float | None, threshold: float | None
) -> Labels:
    """The rule's annotation templates filled in for one instance (a summary always)."""
    fields = {
        "value": show(rule, value),
        "threshold": show(rule, threshold),
        "window": format_duration(rule.window_s),
        "metric": rule.metric,
        "rule": rule.name,
        "for": format_duration(rule.for_s),
    }
    templates = dict(rule.annotations)
    templates.setdefault("summary", default_summary(rule))
    return labels_of({k: interpolate(t, fields, labels) for k, t in templates.items()})


def interpolate(template: str, fields: Mapping[str, str], labels: Mapping[str, str]) -> str:
    """Replace `{name}` and `{labels.NAME}`; `{{` and `}}` are literal braces."""
    out = []
    for literal, name in _compiled(template):
        if name is None:
            out.append(literal)
        elif name.startswith("labels."):
            out.append(labels.get(name[len("labels.") :], ""))
        else:
            out.append(fields.get(name, literal))
    return "".join(out)


@lru_cache(maxsize=4096)
def _compiled(template: str) -> tuple[tuple[str, str | None], ...]:
    """A template as parts: `(text, None)` literals and `(original, name)` placeholders."""
    parts: list[tuple[str, str | None]] = []
    buf: list[str] = []
    i, n = 0, len(template)
    while i < n:
        c = template[i]
        if c in "{}" and template[i : i + 2] in ("{{", "}}"):
            buf.append(c)
            i += 2
            continue
        if c == "{":
            j = template.find("}", i)
            if j < 0:
                buf.append(template[i:])
                break
            if buf:
                parts.append(("".join(buf), None))
                buf = []
            parts.append((template[i : j + 1], template[i + 1 : j].strip()))
            i = j + 1
            continue
        buf.append(c)
        i += 1
    if buf:
        parts.append(("".join(buf), None))
    return tuple(parts)
