"""How an alert reads on screen: colours, labels that matter, value against threshold, age.

Shared by the overview's panel, the header badge, the alerts screen and the details, so an
alert looks the same everywhere. Pure functions of an `Alert` (and "now"), tested without an
app. A value's unit is the metric's, from the rule engine's vocabulary (`METRICS`: error_rate
is a ratio, latency_p99 seconds, worker_rss_bytes bytes...); a rate-of-change rule's value is a
plain number, or a ratio when the rule is relative, as `poolmon alerts` prints them. A metric
the vocabulary does not know falls back to Prometheus' naming rules (`_seconds`, `_bytes`,
`_ratio`, `_per_second`).
"""

from __future__ import annotations

import math
import re
from typing import Final

from poolmon.core.alerts.metrics import METRICS
from poolmon.core.alerts.model import Alert
from poolmon.widgets import _format as fmt

SEVERITY_COLOUR: Final = {"critical": "error", "warning": "warning", "info": "accent"}
"""Theme colour of each severity."""

SEVERITY_RANK: Final = {"critical": 0, "warning": 1, "info": 2}
"""Most severe first."""

STATE_LOOK: Final = {
    "firing": ("firing", "error"),
    "pending": ("pending", "warning"),
    "acked": ("acked", "success"),
    "silenced": ("silenced", "text-muted"),
    "inhibited": ("inhibited", "text-muted"),
    "resolved": ("resolved", "success"),
}
"""Label and theme colour of each display state."""

LABELS_SHOWN: Final = ("op", "worker", "slot")
"""Labels worth showing next to an alert's name (the others are in the details)."""

_RATES: Final = (("_per_second", "/s"), ("_per_minute", "/min"), ("_per_hour", "/h"))
_COMPARATOR = re.compile(r"(>=|<=|==|!=|>|<)")


def severity_glyph(severity: str) -> str:
    """A shape per severity, so severity reads without colour too."""
    return {"critical": "▲", "warning": "●", "info": "◆"}.get(severity, "·")


def key_labels(alert: Alert, *, short: bool = False) -> str:
    """`op=fetch_profile worker=3`: the labels that tell instances of one rule apart.

    `short` drops the names where room is tight: `fetch_profile worker 3`.
    """
    labels = alert.label_map
    if short:
        return " ".join(
            labels[k] if k == "op" else f"{k} {labels[k]}" for k in LABELS_SHOWN if labels.get(k)
        )
    return " ".join(f"{k}={labels[k]}" for k in LABELS_SHOWN if labels.get(k))


_UNIT_SUFFIX: Final = {
    "ratio": "_ratio",
    "seconds": "_seconds",
    "bytes": "_bytes",
    "per_second": "_per_second",
    "percent": "_percent",
}


def value_metric(alert: Alert) -> str:
    """A metric name whose unit is the unit of the alert's value (see module doc)."""
    if "relative rate(" in alert.expr:
        return "growth_ratio"
    if "rate(" in alert.expr:
        return "rate_count"
    spec = METRICS.get(alert.metric)
    if spec is not None:
        return alert.metric + _UNIT_SUFFIX.get(spec.unit, "")
    return alert.metric


def metric_value(value: float | None, metric: str) -> str:
    """A value in the unit of a metric named by Prometheus' rules; "—" when there is none."""
    if value is None or math.isnan(value):
        return "—"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    for suffix, per in _RATES:
        if metric.endswith(suffix):
            return metric_value(value, metric.removesuffix(suffix)) + per
    if metric.endswith("_seconds"):
        return fmt.duration(value * 1e9)
    if metric.endswith("_ns"):
        return fmt.duration(value)
    if metric.endswith("_bytes"):
        return fmt.size_bytes(value)
    if metric.endswith(("_ratio", "_rate")) or metric in ("utilization", "error_rate"):
        return fmt.percent(value)
    if metric.endswith("_percent"):
        return f"{value:.0f}%"
    return fmt.count(value) if abs(value) >= 1000 or value == int(value) else f"{value:.3g}"


def comparator(alert: Alert) -> str:
    """The comparison in the rule's expression (`>`, `<`...), or "vs".

    A band (`outside 60 %..80 %`) has no comparator: the side the value is on is shown. A
    resolved alert's condition no longer holds, so it gets "vs" rather than a false claim.
    """
    if alert.state == "resolved":
        return "vs"
    condition = alert.expr.split(" when ")[0]  # a guard's comparison is not the rule's
    found = [] if " outside " in condition else _COMPARATOR.findall(condition)
    if found:
        return str(found[-1])
    if alert.value is not None and alert.threshold is not None:
        return ">" if alert.value > alert.threshold else "<"
    return "vs"


def value_vs_threshold(alert: Alert) -> str:
    """`7.2% > 5.0%`: the current value against the threshold, in the value's unit.

    Where the two would look alike but differ (59.6 % against 60 % printed `60% < 60%`;
    0.9996 s against 1 s `1000ms < 1.00s`), both get the decimals that tell them apart in the
    threshold's unit (`59.6% < 60.0%`, `0.9996s < 1.0000s`), so the line never contradicts
    itself.
    """
    metric = value_metric(alert)
    value = metric_value(alert.value, metric)
    if alert.threshold is None:
        return value
    threshold = metric_value(alert.threshold, metric)
    v, t = alert.value, alert.threshold
    if v is not None and v != t and (value == threshold or abs(v - t) <= _CLOSE * abs(t)):
        value, threshold = _told_apart(v, t, metric)
    return f"{value} {comparator(alert)} {threshold}"


_CLOSE: Final = 0.01
"""Values within this fraction of the threshold may print alike, or alike in another unit
(`60.0s` against `1m00s`): they are shown in the threshold's unit, told apart."""


_BINARY_UNITS: Final = ((1024.0**3, "GiB"), (1024.0**2, "MiB"), (1024.0, "KiB"), (1.0, "B"))
_DECIMAL_UNITS: Final = (*fmt.DURATION_UNITS, (1.0, "ns"))
_COUNT_UNITS: Final = (*fmt.COUNT_UNITS, (1.0, ""))


def _told_apart(value: float, threshold: float, metric: str) -> tuple[str, str]:
    """Value and threshold with the fewest decimals (up to 6) that print them differently.

    Both in the unit `metric_value` picks for the threshold; past 6 decimals the two are
    equal for any reader, and the plain texts stand.
    """
    texts = (metric_value(value, metric), metric_value(threshold, metric))
    if not (math.isfinite(value) and math.isfinite(threshold)):
        return texts
    per = ""
    for suffix, unit in _RATES:
        if metric.endswith(suffix):
            metric, per = metric.removesuffix(suffix), unit
    scale, unit = 1.0, ""
    units: tuple[tuple[float, str], ...] = _COUNT_UNITS
    if metric.endswith(("_seconds", "_ns")):
        factor = 1e9 if metric.endswith("_seconds") else 1.0
        value, threshold, units = value * factor, threshold * factor, _DECIMAL_UNITS
    elif metric.endswith("_bytes"):
        units = _BINARY_UNITS
    elif metric.endswith(("_ratio", "_rate")) or metric in ("utilization", "error_rate"):
        scale, unit, units = 0.01, "%", ()
    elif metric.endswith("_percent"):
        unit, units = "%", ()
    for size, name in units:
        if abs(threshold) >= size or size == 1.0:
            scale, unit = size, name
            break
    for digits in range(1, 7):
        a, b = (f"{x / scale:.{digits}f}{unit}{per}" for x in (value, threshold))
        if a != b:
            return a, b
    return texts


def since(alert: Alert, now_ns: int) -> str:
    """How long the alert has been in its state (`3m12s`; `Alert.state_since_ns`)."""
    start = alert.state_since_ns
    return fmt.age(max(0, now_ns - start)) if start else "—"


def lasted(alert: Alert) -> str:
    """How long a resolved alert was active (from the condition to the resolution)."""
    if alert.resolved_at_ns is None or not alert.active_since_ns:
        return "—"
    return fmt.age(max(0, alert.resolved_at_ns - alert.active_since_ns))


def display_key(alert: Alert) -> tuple[int, int, int]:
    """Most severe first, then what needs a person (firing) before what is handled or waiting."""
    order = ("firing", "pending", "acked", "inhibited", "silenced", "resolved")
    state = alert.display_state
    return (
        SEVERITY_RANK.get(alert.severity, 9),
        order.index(state) if state in order else 9,
        alert.active_since_ns,
    )
