"""What a notification says: its title, a phone-readable text, and the two webhook bodies.

Pure functions of a `Notification`, shared by every channel so an email, a log line and a file
record describe the same alerts the same way. The bodies are documented field by field in
docs/ALERTS_CHANNELS.md; the Alertmanager one is the API v2 `postableAlerts` list.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from poolmon.core.alerts.model import Alert
from poolmon.core.alerts.notify_groups import Notification
from poolmon.core.alerts.notify_model import ENDS_AT_RESENDS
from poolmon.core.alerts.units import format_duration

GENERIC_VERSION: Final = 1
"""Version of the generic webhook body (bumped on incompatible changes)."""

_SHOWN_ELSEWHERE: Final = ("alertname", "pool", "severity")


def rfc3339(ns: int) -> str:
    """`2026-01-01T09:41:05.123Z` from wall-clock nanoseconds."""
    stamp = datetime.fromtimestamp(ns / 1e9, tz=UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def number(value: float | None) -> str:
    """A value as people read it (4 significant digits), or `no data`."""
    return "no data" if value is None else f"{value:.4g}"


def title(n: Notification, prefix: str = "") -> str:
    """Alertmanager-style title: `[FIRING:2] HighErrorRate pool=etl` or `[RESOLVED] ...`."""
    status = f"[FIRING:{len(n.firing)}]" if n.firing else "[RESOLVED]"
    labels = dict(n.group) or _common_labels(n)
    words = [labels.pop("alertname")] if labels.get("alertname") else []
    words += [f"{k}={v}" for k, v in labels.items() if v]
    return " ".join(w for w in (prefix, status, *words) if w)


def text_body(n: Notification) -> str:
    """A plain-text message with short lines, most important first, for email and logs."""
    lines: list[str] = []
    if n.firing:
        lines += [f"FIRING: {len(n.firing)}", ""]
        for a in n.firing:
            lines += _alert_lines(a, n.at_ns)
    if n.resolved:
        lines += [f"RESOLVED: {len(n.resolved)}", ""]
        for a in n.resolved:
            lines += _alert_lines(a, n.at_ns)
    lines += ["--", f"poolmon, pool {n.pool}, {rfc3339(n.at_ns)} ({n.reason})"]
    return "\n".join(lines) + "\n"


def _alert_lines(a: Alert, now_ns: int) -> list[str]:
    out = [f"[{a.severity}] {a.summary}"]
    measure = f"value {number(a.value)}"
    if a.threshold is not None:
        measure += f", threshold {number(a.threshold)}"
    if a.resolved_at_ns is not None:
        lasted = (a.resolved_at_ns - (a.fired_at_ns or a.active_since_ns)) / 1e9
        measure += f", resolved after {format_duration(lasted)}"
    else:
        measure += f", firing for {format_duration((now_ns - (a.fired_at_ns or now_ns)) / 1e9)}"
    out.append("  " + measure)
    shown = [f"{k}={v}" for k, v in a.labels if k not in _SHOWN_ELSEWHERE and v]
    if shown:
        out.append("  " + " ".join(shown))
    if a.expr:
        out.append(f"  when {a.expr}")
    description = dict(a.annotations).get("description", "")
    if description:
        out.append(f"  {description}")
    if a.ack is not None:
        note = f": {a.ack.comment}" if a.ack.comment else ""
        out.append(f"  acked by {a.ack.by} at {rfc3339(a.ack.at_ns)}{note}")
    out += [f"  id {a.id}", ""]
    return out


def _common_labels(n: Notification) -> dict[str, str]:
    """Labels every alert of the notification shares (alertname first)."""
    alerts = (*n.firing, *n.resolved)
    if not alerts:
        return {}
    common = dict(alerts[0].labels)
    for a in alerts[1:]:
        mine = a.label_map
        common = {k: v for k, v in common.items() if mine.get(k) == v}
    if "alertname" in common:
        common = {"alertname": common.pop("alertname"), **common}
    return common


def alert_json(a: Alert) -> dict[str, Any]:
    """One alert in the generic body (field list in docs/ALERTS_CHANNELS.md)."""
    return {
        "id": a.id,
        "fingerprint": a.fingerprint,
        "alertname": a.rule,
        "status": a.state,
        "severity": a.severity,
        "summary": a.summary,
        "labels": dict(a.labels),
        "annotations": dict(a.annotations),
        "value": a.value,
        "threshold": a.threshold,
        "expr": a.expr,
        "metric": a.metric,
        "active_since": rfc3339(a.active_since_ns) if a.active_since_ns else None,
        "fired_at": None if a.fired_at_ns is None else rfc3339(a.fired_at_ns),
        "resolved_at": None if a.resolved_at_ns is None else rfc3339(a.resolved_at_ns),
        "ack": None
        if a.ack is None
        else {"by": a.ack.by, "at": rfc3339(a.ack.at_ns), "comment": a.ack.comment},
    }


def generic_body(n: Notification, prefix: str = "") -> dict[str, Any]:
    """The generic webhook body: the group, counts, a title and every alert in full."""
    return {
        "version": GENERIC_VERSION,
        "source": "poolmon",
        "pool": n.pool,
        "channel": n.channel,
        "status": n.status,
        "reason": n.reason,
        "title": title(n, prefix),
        "group_key": n.group_key,
        "group_labels": dict(n.group),
        "common_labels": _common_labels(n),
        "firing": len(n.firing),
        "resolved": len(n.resolved),
        "sent_at": rfc3339(n.at_ns),
        "alerts": [alert_json(a) for a in (*n.firing, *n.resolved)],
    }


def alertmanager_body(n: Notification, resend_interval_s: float) -> list[dict[str, Any]]:
    """Alertmanager API v2 `postableAlerts`: POST to {url}/api/v2/alerts.

    A firing alert's `endsAt` is `ENDS_AT_RESENDS` resend intervals ahead, so Alertmanager keeps
    it firing across a few lost resends but resolves it by itself if poolmon goes away; a
    resolved alert's `endsAt` is when it resolved. Labels with empty values are left out
    (Alertmanager treats them as absent); poolmon's figures travel as annotations.
    """
    ahead_ns = int(ENDS_AT_RESENDS * resend_interval_s * 1e9)
    out = []
    for a in (*n.firing, *n.resolved):
        annotations = dict(a.annotations)
        annotations.setdefault("summary", a.summary)
        annotations["poolmon_id"] = a.id
        annotations["poolmon_value"] = number(a.value)
        if a.threshold is not None:
            annotations["poolmon_threshold"] = number(a.threshold)
        if a.expr:
            annotations["poolmon_expr"] = a.expr
        if a.ack is not None:
            annotations["poolmon_acked_by"] = a.ack.by
        ends = a.resolved_at_ns if a.resolved_at_ns is not None else n.at_ns + ahead_ns
        labels = {k: v for k, v in a.labels if v}
        labels.setdefault("severity", a.severity)
        out.append(
            {
                "labels": labels,
                "annotations": annotations,
                "startsAt": rfc3339(a.fired_at_ns or a.active_since_ns or n.at_ns),
                "endsAt": rfc3339(ends),
            }
        )
    return out
